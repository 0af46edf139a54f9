package io.stepcast.config;

import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checks of the process settings (command-line options and their environment variables) that need
 * no Kafka client: ports, directories, addresses. Each failure is a one-line {@link
 * ConfigException} naming the option and its variable, so that an instance fails before it creates
 * topics or starts a client.
 */
public final class ProcessChecks {
  // An optional listener name ("SASL_SSL://"), a host name, IPv4 or [IPv6] address, and a port.
  private static final Pattern HOST_PORT =
      Pattern.compile("(?:[A-Za-z0-9_]+://)?(\\[[0-9A-Fa-f:.%a-z]+]|[A-Za-z0-9._-]+):([0-9]{1,5})");

  private ProcessChecks() {}

  /**
   * A comma-separated list of {@code HOST:PORT}; returns the entries.
   *
   * @param source the option and variable, e.g. {@code --bootstrap-servers /
   *     STEPCAST_BOOTSTRAP_SERVERS}
   */
  public static List<String> bootstrapServers(String value, String source) {
    if (value == null || value.isBlank()) {
      throw new ConfigException(
          source,
          "is empty",
          "give the Kafka brokers as HOST:PORT[,HOST:PORT], e.g. localhost:9092, or leave it"
              + " unset for `run` to start an embedded broker");
    }
    List<String> out = new ArrayList<>();
    for (String part : value.split(",", -1)) {
      String entry = part.strip();
      endpoint(
          entry, source, "give the Kafka brokers as HOST:PORT[,HOST:PORT], e.g. localhost:9092");
      out.add(entry);
    }
    return out;
  }

  /** One {@code HOST:PORT} with a port from 1 to 65535. */
  public static void endpoint(String value, String source, String fix) {
    Matcher m = HOST_PORT.matcher(value == null ? "" : value);
    if (!m.matches()) {
      throw new ConfigException(source, "'" + value + "' is not HOST:PORT", fix);
    }
    int port = Integer.parseInt(m.group(2));
    if (port < 1 || port > 65535) {
      throw new ConfigException(
          source,
          "port " + port + " in '" + value + "' is out of range",
          "use a port from 1 to 65535");
    }
  }

  /** A port number from 0 (any free port) to 65535. */
  public static void port(int port, String source) {
    if (port < 0 || port > 65535) {
      throw new ConfigException(
          source,
          "port " + port + " is out of range",
          "use a port from 1 to 65535 (0 picks a free one), e.g. 8080");
    }
  }

  /**
   * The port is in range and nothing listens on it now (checked by binding it for a moment), so
   * that an instance fails before it creates topics, not after.
   */
  public static void portFree(int port, String source) {
    port(port, source);
    if (port == 0) {
      return;
    }
    try (ServerSocket s = new ServerSocket()) {
      s.setReuseAddress(true);
      s.bind(new InetSocketAddress(port));
    } catch (BindException e) {
      throw new ConfigException(
          source,
          "port " + port + " is already in use",
          "stop what listens on it (ss -ltnp 'sport = :"
              + port
              + "' shows it) or choose another port (0 picks a free one)");
    } catch (IOException e) {
      throw new ConfigException(
          source, "port " + port + " cannot be opened: " + e.getMessage(), "choose another port");
    }
  }

  /**
   * A directory this process can write: created when missing (with its parents), refused when it is
   * a file, cannot be created or is read-only. Checked by writing a file into it.
   */
  public static void writableDirectory(Path dir, String source) {
    String at = source + " (" + dir + ")";
    if (Files.exists(dir) && !Files.isDirectory(dir)) {
      throw new ConfigException(at, "is a file, not a directory", "give a directory path");
    }
    try {
      Files.createDirectories(dir);
    } catch (FileAlreadyExistsException e) {
      throw new ConfigException(
          at,
          "cannot be created: " + e.getFile() + " is a file",
          "give a directory path whose parents are directories");
    } catch (AccessDeniedException e) {
      throw new ConfigException(
          at,
          "cannot be created: permission denied at " + e.getFile(),
          "create it and make it writable by this user (uid of the process), or give another path");
    } catch (IOException e) {
      Path blocker = dir.toAbsolutePath().getParent();
      while (blocker != null && !Files.exists(blocker)) {
        blocker = blocker.getParent();
      }
      if (blocker != null && !Files.isDirectory(blocker)) {
        throw new ConfigException(
            at,
            "cannot be created: " + blocker + " is a file",
            "give a directory path whose parents are directories");
      }
      throw new ConfigException(
          at, "cannot be created: " + reason(e), "give a writable directory path");
    }
    try {
      Path probe = Files.createTempFile(dir, ".stepcast-write-check", ".tmp");
      Files.delete(probe);
    } catch (IOException e) {
      throw new ConfigException(
          at,
          "is not writable: " + reason(e),
          "make it writable by this user (on Kubernetes: the volume and fsGroup), or give"
              + " another path");
    }
  }

  private static String reason(IOException e) {
    if (e instanceof FileSystemException f && f.getReason() != null) {
      return f.getReason();
    }
    return e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
  }
}
