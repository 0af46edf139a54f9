package io.stepcast.testsupport;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/**
 * HTTP/1.1 over a plain socket, byte for byte: for requests an HTTP client library refuses to send
 * (bad percent-encoding, oversized headers, half a request) and for connections that stay open.
 */
public final class RawHttp {
  private static final ObjectMapper JSON = new ObjectMapper();

  private RawHttp() {}

  /** A parsed answer: status, headers block, body. */
  public record Answer(int status, String head, String body) {
    /** The body as JSON; fails the test when it is not. */
    public JsonNode json() {
      try {
        return JSON.readTree(body);
      } catch (IOException e) {
        throw new AssertionError("not JSON (HTTP " + status + "): " + head + "\n\n" + body, e);
      }
    }

    /** A header's value, by case-insensitive name. */
    public Optional<String> header(String name) {
      for (String line : head.split("\r\n")) {
        int colon = line.indexOf(':');
        if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase(name)) {
          return Optional.of(line.substring(colon + 1).trim());
        }
      }
      return Optional.empty();
    }

    @Override
    public String toString() {
      return head + "\n\n" + body;
    }
  }

  /**
   * Sends {@code request} (sent as given: include the blank line and {@code Connection: close}) and
   * reads the answer until the server closes the connection.
   */
  public static Answer exchange(String host, int port, String request, Duration timeout) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(host, port), (int) timeout.toMillis());
      s.setSoTimeout((int) timeout.toMillis());
      s.getOutputStream().write(request.getBytes(StandardCharsets.UTF_8));
      s.getOutputStream().flush();
      return parse(readAll(s.getInputStream()));
    } catch (IOException e) {
      throw new UncheckedIOException("raw request to " + host + ":" + port + " failed", e);
    }
  }

  /** {@code GET target} with {@code Connection: close}, plus extra header lines. */
  public static Answer get(int port, String target, String... headers) {
    StringBuilder r = new StringBuilder("GET " + target + " HTTP/1.1\r\nHost: localhost\r\n");
    for (String h : headers) {
      r.append(h).append("\r\n");
    }
    r.append("Connection: close\r\n\r\n");
    return exchange("127.0.0.1", port, r.toString(), Duration.ofSeconds(30));
  }

  /** Opens a connection and sends {@code partial}, leaving it open; the caller closes it. */
  public static Socket open(int port, String partial) {
    try {
      Socket s = new Socket("127.0.0.1", port);
      s.getOutputStream().write(partial.getBytes(StandardCharsets.UTF_8));
      s.getOutputStream().flush();
      return s;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Whether the server closed {@code s} (end of stream, or a reset) within {@code timeout}, after
   * whatever it sent.
   */
  public static boolean closedByServer(Socket s, Duration timeout) {
    try {
      s.setSoTimeout((int) timeout.toMillis());
      InputStream in = s.getInputStream();
      byte[] buf = new byte[4096];
      long deadline = System.nanoTime() + timeout.toNanos();
      while (System.nanoTime() < deadline) {
        if (in.read(buf) < 0) {
          return true;
        }
      }
      return false;
    } catch (SocketTimeoutException e) {
      return false;
    } catch (IOException e) {
      return true;
    }
  }

  private static byte[] readAll(InputStream in) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buf = new byte[8192];
    int n;
    try {
      while ((n = in.read(buf)) >= 0) {
        out.write(buf, 0, n);
      }
    } catch (IOException e) {
      // A reset after a complete answer (the server closed with unread request bytes) is fine.
      if (out.size() == 0) {
        throw e;
      }
    }
    return out.toByteArray();
  }

  private static Answer parse(byte[] bytes) {
    int split = indexOf(bytes, "\r\n\r\n".getBytes(StandardCharsets.US_ASCII), 0);
    String head =
        new String(bytes, 0, split < 0 ? bytes.length : split, StandardCharsets.ISO_8859_1);
    if (!head.startsWith("HTTP/1.1 ") || split < 0) {
      throw new AssertionError("not an HTTP answer: '" + head + "'");
    }
    byte[] body = Arrays.copyOfRange(bytes, split + 4, bytes.length);
    if (head.toLowerCase(Locale.ROOT).contains("transfer-encoding: chunked")) {
      body = unchunk(body);
    }
    return new Answer(
        Integer.parseInt(head.substring(9, 12)), head, new String(body, StandardCharsets.UTF_8));
  }

  private static byte[] unchunk(byte[] body) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] crlf = "\r\n".getBytes(StandardCharsets.US_ASCII);
    int i = 0;
    while (i < body.length) {
      int eol = indexOf(body, crlf, i);
      int size =
          Integer.parseInt(new String(body, i, eol - i, StandardCharsets.US_ASCII).trim(), 16);
      if (size == 0) {
        break;
      }
      out.write(body, eol + 2, size);
      i = eol + 2 + size + 2;
    }
    return out.toByteArray();
  }

  private static int indexOf(byte[] data, byte[] pattern, int from) {
    outer:
    for (int i = from; i <= data.length - pattern.length; i++) {
      for (int j = 0; j < pattern.length; j++) {
        if (data[i + j] != pattern[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
