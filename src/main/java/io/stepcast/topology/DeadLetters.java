package io.stepcast.topology;

import io.stepcast.config.SafeText;
import io.stepcast.features.Rejection;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.StreamsConfig;

/**
 * What a dead letter carries, and the header names that say why and where from, so the record can
 * be fixed and replayed.
 *
 * <p>A dead letter carries the original key, value and headers when they fit in one record the
 * producer can send ({@code max.request.size}, less {@link #RESERVE} for stepcast's own headers).
 * When they do not, it carries the first {@value #KEY_PREFIX} bytes of the key and the first
 * {@value #VALUE_PREFIX} of the value, no original headers, the original sizes, and {@link
 * #TRUNCATED} naming what was cut. Input header sets over {@value #MAX_INPUT_HEADERS} bytes are
 * never carried (not onto forecasts either), and input headers named {@code stepcast.*} are always
 * dropped: only stepcast writes those. Every header value stepcast writes is bounded: the message
 * to {@value #MAX_MESSAGE} characters, the rest by construction.
 */
public final class DeadLetters {
  /** Short machine-readable reason, e.g. {@code malformed_json}, {@code late}. */
  public static final String REASON = "stepcast.error.reason";

  /** Human-readable explanation naming the field. */
  public static final String MESSAGE = "stepcast.error.message";

  /** The processor that rejected it: {@code parse}, {@code forecast}, or {@code produce}. */
  public static final String STAGE = "stepcast.error.stage";

  /** The pipeline's name. */
  public static final String PIPELINE = "stepcast.pipeline";

  /** The input topic the record was read from. */
  public static final String SOURCE_TOPIC = "stepcast.source.topic";

  /** The input partition. */
  public static final String SOURCE_PARTITION = "stepcast.source.partition";

  /** The input offset. */
  public static final String SOURCE_OFFSET = "stepcast.source.offset";

  /**
   * Present only on a dead letter that does not carry the whole original record: a comma-separated
   * list of what was cut, from {@code key}, {@code value}, {@code headers}.
   */
  public static final String TRUNCATED = "stepcast.error.truncated";

  /** On a truncated dead letter: the original key size in bytes ({@code -1}: no key). */
  public static final String SOURCE_KEY_SIZE = "stepcast.source.key.size";

  /** On a truncated dead letter: the original value size in bytes ({@code -1}: no value). */
  public static final String SOURCE_VALUE_SIZE = "stepcast.source.value.size";

  /** On a truncated dead letter: the original headers' size in bytes (names and values). */
  public static final String SOURCE_HEADERS_SIZE = "stepcast.source.headers.size";

  /** Header names stepcast owns; input headers with this prefix are dropped at the parse stage. */
  public static final String OWN_PREFIX = "stepcast.";

  /** Longest message header, in characters (escaped, see {@link SafeText}). */
  public static final int MAX_MESSAGE = 1000;

  /** Key bytes a truncated dead letter keeps. */
  public static final int KEY_PREFIX = 1024;

  /** Value bytes a truncated dead letter keeps. */
  public static final int VALUE_PREFIX = 64 * 1024;

  /** Largest set of input headers (names and values, bytes) carried onto outputs. */
  public static final int MAX_INPUT_HEADERS = 64 * 1024;

  /**
   * Bytes of a record kept free for what stepcast adds to the original: its own headers (at most
   * about 5 KB), the repartition envelope's fields and the record batch's overhead.
   */
  public static final int RESERVE = 16 * 1024;

  private static final int DEFAULT_MAX_REQUEST_SIZE = 1024 * 1024;

  private DeadLetters() {}

  /**
   * The largest record the stream threads' producer sends: {@code producer.max.request.size} or
   * {@code max.request.size} in the Kafka Streams configuration, else Kafka's default of 1 MiB.
   */
  public static int maxRecordBytes(Map<String, Object> appConfigs) {
    Object v = appConfigs.get(StreamsConfig.producerPrefix(ProducerConfig.MAX_REQUEST_SIZE_CONFIG));
    if (v == null) {
      v = appConfigs.get(ProducerConfig.MAX_REQUEST_SIZE_CONFIG);
    }
    if (v == null) {
      return DEFAULT_MAX_REQUEST_SIZE;
    }
    try {
      return Integer.parseInt(v.toString().trim());
    } catch (NumberFormatException e) {
      return DEFAULT_MAX_REQUEST_SIZE;
    }
  }

  /**
   * Drops input headers stepcast owns ({@code stepcast.*}: nobody else may forge a reason or a
   * provenance), and the whole set when it is over {@link #MAX_INPUT_HEADERS}.
   *
   * @return the size in bytes of the input headers (names and values), before anything was dropped
   */
  static int cleanInputHeaders(Headers headers) {
    // toArray(), not an iterator: it allocates nothing when there are no headers (per event).
    Header[] all = headers.toArray();
    if (all.length == 0) {
      return 0;
    }
    int size = 0;
    boolean own = false;
    for (Header h : all) {
      size += sizeOf(h);
      own |= h.key().startsWith(OWN_PREFIX);
    }
    if (size > MAX_INPUT_HEADERS) {
      for (Header h : all) {
        headers.remove(h.key());
      }
    } else if (own) {
      for (Header h : all) {
        if (h.key().startsWith(OWN_PREFIX)) {
          headers.remove(h.key());
        }
      }
    }
    return size;
  }

  /**
   * Sets what {@code e} carries of the original record: the whole key and value when they fit in
   * {@code maxRecordBytes} with the kept headers and {@link #RESERVE}; else bounded prefixes, and
   * when even those do not fit with the headers, no headers. {@code e.truncated} names what was cut
   * ({@code headers} also when {@link #cleanInputHeaders} dropped an oversized set); a caller that
   * finds {@code headers} in it drops the record's input headers.
   *
   * @param headersSize the input headers' size as {@link #cleanInputHeaders} returned it
   * @param headersKept the size of the input headers still on the record
   */
  static void carry(
      Envelope e, byte[] key, byte[] value, int headersSize, int headersKept, int maxRecordBytes) {
    int keyLen = key == null ? -1 : key.length;
    int valueLen = value == null ? -1 : value.length;
    e.keySize = keyLen;
    e.valueSize = valueLen;
    e.headersSize = headersSize;
    e.rawKey = key;
    e.rawValue = value;
    boolean headersCut = headersSize > MAX_INPUT_HEADERS;
    boolean keyCut = false;
    boolean valueCut = false;
    if ((long) Math.max(0, keyLen) + Math.max(0, valueLen) + headersKept + RESERVE
        > maxRecordBytes) {
      int keyPrefix = Math.min(KEY_PREFIX, Math.max(0, maxRecordBytes - RESERVE) / 4);
      int valuePrefix = Math.min(VALUE_PREFIX, Math.max(0, maxRecordBytes - RESERVE) / 2);
      keyCut = keyLen > keyPrefix;
      valueCut = valueLen > valuePrefix;
      e.rawKey = keyCut ? prefix(key, keyPrefix) : key;
      e.rawValue = valueCut ? prefix(value, valuePrefix) : value;
      long cut =
          (long) (e.rawKey == null ? 0 : e.rawKey.length)
              + (e.rawValue == null ? 0 : e.rawValue.length)
              + headersKept
              + RESERVE;
      headersCut |= cut > maxRecordBytes;
    }
    if (!keyCut && !valueCut && !headersCut) {
      e.truncated = null;
      return;
    }
    StringBuilder t = new StringBuilder();
    if (keyCut) {
      t.append("key");
    }
    if (valueCut) {
      t.append(t.length() > 0 ? "," : "").append("value");
    }
    if (headersCut) {
      t.append(t.length() > 0 ? "," : "").append("headers");
    }
    e.truncated = t.toString();
  }

  /** True when {@link #carry} decided the input headers cannot travel with the record. */
  static boolean headersCut(Envelope e) {
    return e.truncated != null && e.truncated.endsWith("headers");
  }

  /** Removes every header not named {@code stepcast.*}. */
  static void dropInputHeaders(Headers headers) {
    for (Header h : headers.toArray()) {
      if (!h.key().startsWith(OWN_PREFIX)) {
        headers.remove(h.key());
      }
    }
  }

  static void write(Headers headers, String pipeline, Envelope e) {
    put(headers, REASON, e.reason.id());
    put(headers, MESSAGE, SafeText.of(e.message, MAX_MESSAGE));
    put(headers, STAGE, e.stage);
    put(headers, PIPELINE, pipeline);
    put(headers, SOURCE_TOPIC, e.sourceTopic);
    put(headers, SOURCE_PARTITION, Integer.toString(e.sourcePartition));
    put(headers, SOURCE_OFFSET, Long.toString(e.sourceOffset));
    if (e.truncated != null) {
      if (headersCut(e)) {
        dropInputHeaders(headers);
      }
      put(headers, TRUNCATED, e.truncated);
      put(headers, SOURCE_KEY_SIZE, Integer.toString(e.keySize));
      put(headers, SOURCE_VALUE_SIZE, Integer.toString(e.valueSize));
      put(headers, SOURCE_HEADERS_SIZE, Integer.toString(e.headersSize));
    }
  }

  /**
   * A dead letter built outside the topology's own dead-letter branches (by an exception handler):
   * a bounded copy of {@code key} and {@code value}, no original headers, and the usual headers.
   */
  static ProducerRecord<byte[], byte[]> record(
      String deadLetterTopic,
      String pipeline,
      Rejection reason,
      String message,
      String stage,
      String sourceTopic,
      int sourcePartition,
      long sourceOffset,
      byte[] key,
      byte[] value,
      int maxRecordBytes) {
    Envelope e = new Envelope();
    carry(e, key, value, 0, 0, maxRecordBytes);
    e.reason = reason;
    e.message = message;
    e.stage = stage;
    e.sourceTopic = sourceTopic;
    e.sourcePartition = sourcePartition;
    e.sourceOffset = sourceOffset;
    Headers headers = new RecordHeaders();
    write(headers, pipeline, e);
    return new ProducerRecord<>(deadLetterTopic, null, null, e.rawKey, e.rawValue, headers);
  }

  /** The first {@code n} bytes. */
  private static byte[] prefix(byte[] b, int n) {
    byte[] out = new byte[n];
    System.arraycopy(b, 0, out, 0, n);
    return out;
  }

  private static int sizeOf(Header h) {
    return utf8Length(h.key()) + (h.value() == null ? 0 : h.value().length);
  }

  private static int utf8Length(String s) {
    int n = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      n += c < 0x80 ? 1 : c < 0x800 ? 2 : Character.isSurrogate(c) ? 2 : 3;
    }
    return n;
  }

  /** Size in bytes of a record's headers (names and values). */
  static int sizeOf(Headers headers) {
    int size = 0;
    for (Header h : headers.toArray()) {
      size += sizeOf(h);
    }
    return size;
  }

  private static void put(Headers headers, String name, String value) {
    headers.remove(name);
    headers.add(name, value == null ? null : value.getBytes(StandardCharsets.UTF_8));
  }

  /** Reads a header as text, or null. */
  public static String read(Headers headers, String name) {
    var h = headers.lastHeader(name);
    return h == null || h.value() == null ? null : new String(h.value(), StandardCharsets.UTF_8);
  }

  /** The names of a record's headers, in order (tests, diagnostics). */
  public static List<String> names(Headers headers) {
    List<String> out = new ArrayList<>();
    for (Header h : headers) {
      out.add(h.key());
    }
    return out;
  }
}
