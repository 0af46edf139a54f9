package io.stepcast.kafka;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalDouble;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Pattern;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Replays the rows of a CSV file to a Kafka topic as JSON events, one record per row, in file
 * order, optionally paced at a fixed rate.
 *
 * <p>It turns the sample data into the live input stepcast forecasts from. Each row becomes a JSON
 * object of column name to value: a cell written as a finite decimal number becomes a JSON number
 * (an integer when it has no fraction or exponent), any other cell a string, and an empty cell is
 * left out. The record key is a column's value (the series id, so that all events of one series go
 * to one partition in order) or a constant. The producer is idempotent with {@code acks=all} and
 * the default (murmur2) partitioner, the same partitioning Kafka Streams expects, so a replay
 * neither duplicates nor reorders a series.
 */
public final class CsvReplay {

  /** Told how many records were handed to the producer so far, and how many will be in all. */
  @FunctionalInterface
  public interface Progress {
    /**
     * Called from the replaying thread at most every {@link #PROGRESS_INTERVAL} and once at the
     * end, after the producer flushed.
     *
     * @param done records sent so far
     * @param total records this replay sends in all
     */
    void update(long done, long total);
  }

  /** The least time between two progress updates. */
  public static final Duration PROGRESS_INTERVAL = Duration.ofMillis(200);

  private static final Logger log = LoggerFactory.getLogger(CsvReplay.class);
  private static final JsonFactory JSON = new JsonFactory();
  private static final Pattern INTEGER = Pattern.compile("[+-]?\\d{1,18}");

  private final String bootstrapServers;
  private final Map<String, Object> producerProperties;
  private final String topic;
  private final Path csv;
  private final String keyColumn;
  private final String constantKey;
  private final double ratePerSecond;
  private final long skip;
  private final long limit;
  private final Progress progress;

  private CsvReplay(Builder b) {
    this.bootstrapServers = b.bootstrapServers;
    this.producerProperties = Map.copyOf(b.producerProperties);
    this.topic = b.topic;
    this.csv = b.csv;
    this.keyColumn = b.keyColumn;
    this.constantKey = b.constantKey;
    this.ratePerSecond = b.ratePerSecond;
    this.skip = b.skip;
    this.limit = b.limit;
    this.progress = b.progress;
  }

  /** Starts a replay of {@code csv} to {@code topic} on the cluster at {@code bootstrapServers}. */
  public static Builder builder(String bootstrapServers, String topic, Path csv) {
    return new Builder(bootstrapServers, topic, csv);
  }

  /** The producer settings a replay uses, before the caller's extra properties. */
  public static Map<String, Object> producerDefaults(String bootstrapServers) {
    Map<String, Object> p = new HashMap<>();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
    p.put(ProducerConfig.CLIENT_ID_CONFIG, "stepcast-replay");
    return p;
  }

  /**
   * Sends the selected rows with a new producer, waits until all are acknowledged and returns how
   * many were sent.
   *
   * @throws Csv.FormatException when the file is malformed (rows before the bad one are sent)
   * @throws KafkaException when the broker does not accept a record
   */
  public long run() throws IOException {
    Map<String, Object> config = producerDefaults(bootstrapServers);
    config.putAll(producerProperties);
    try (Producer<String, byte[]> producer = new KafkaProducer<>(config)) {
      return run(producer);
    }
  }

  /**
   * Sends the selected rows with {@code producer} (which the caller owns and closes), flushes it
   * and returns how many were sent.
   */
  public long run(Producer<String, byte[]> producer) throws IOException {
    long total = progress == null ? -1 : countSelected();
    AtomicReference<Exception> failure = new AtomicReference<>();
    long intervalNanos = ratePerSecond > 0 ? Math.round(1e9 / ratePerSecond) : 0;
    long start = System.nanoTime();
    long lastProgress = start;
    long sent = 0;
    try (Csv.Reader reader = Csv.open(csv)) {
      int keyIndex = keyColumn == null ? -1 : reader.header().indexOf(keyColumn);
      if (keyColumn != null && keyIndex < 0) {
        throw new IllegalArgumentException(
            csv + ": no key column '" + keyColumn + "'; the header has " + reader.header());
      }
      long seen = 0;
      for (Csv.Row row = reader.next(); row != null && sent < limit; row = reader.next()) {
        if (seen++ < skip) {
          continue;
        }
        throwIfFailed(failure);
        String key = keyIndex < 0 ? constantKey : row.get(keyIndex);
        if (key.isEmpty()) {
          throw row.error(keyIndex, "the key column is empty");
        }
        if (intervalNanos > 0) {
          pace(start + sent * intervalNanos);
        }
        producer.send(
            new ProducerRecord<>(topic, key, toJson(row)),
            (metadata, e) -> {
              if (e != null) {
                failure.compareAndSet(null, e);
              }
            });
        sent++;
        long now = System.nanoTime();
        if (progress != null && now - lastProgress >= PROGRESS_INTERVAL.toNanos()) {
          progress.update(sent, total);
          lastProgress = now;
        }
      }
    } finally {
      producer.flush();
    }
    throwIfFailed(failure);
    if (progress != null) {
      progress.update(sent, total);
    }
    log.info(
        "Replayed {} rows of {} to topic {} in {} ms",
        sent,
        csv,
        topic,
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
    return sent;
  }

  /**
   * The JSON event for one row: column name to number or string, empty cells left out. Training
   * from CSV uses this same conversion, so a row means the same to the trainer as to the server.
   */
  public static byte[] toJson(Csv.Row row) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(64 + 16 * row.size());
    try (JsonGenerator g = JSON.createGenerator(out)) {
      g.writeStartObject();
      for (int i = 0; i < row.size(); i++) {
        String cell = row.get(i);
        if (cell.isEmpty()) {
          continue;
        }
        String name = row.header().get(i);
        OptionalDouble number = Csv.parseNumber(cell);
        if (number.isEmpty()) {
          g.writeStringField(name, cell);
        } else if (INTEGER.matcher(cell.strip()).matches()) {
          g.writeNumberField(name, Long.parseLong(cell.strip()));
        } else {
          g.writeNumberField(name, number.getAsDouble());
        }
      }
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  private long countSelected() throws IOException {
    long rows = 0;
    try (Csv.Reader reader = Csv.open(csv)) {
      while (reader.next() != null) {
        rows++;
      }
    }
    return Math.max(0, Math.min(limit, rows - skip));
  }

  private static void pace(long dueNanos) {
    for (long wait = dueNanos - System.nanoTime(); wait > 0; wait = dueNanos - System.nanoTime()) {
      LockSupport.parkNanos(wait);
      if (Thread.currentThread().isInterrupted()) {
        throw new KafkaException("Interrupted while replaying");
      }
    }
  }

  private void throwIfFailed(AtomicReference<Exception> failure) {
    Exception e = failure.get();
    if (e != null) {
      throw new KafkaException("Replay of " + csv + " to topic " + topic + " failed: " + e, e);
    }
  }

  /** Options of a {@link CsvReplay}: a key column or a constant key is required. */
  public static final class Builder {
    private final String bootstrapServers;
    private final String topic;
    private final Path csv;
    private final Map<String, Object> producerProperties = new HashMap<>();
    private String keyColumn;
    private String constantKey;
    private double ratePerSecond;
    private long skip;
    private long limit = Long.MAX_VALUE;
    private Progress progress;

    private Builder(String bootstrapServers, String topic, Path csv) {
      this.bootstrapServers = Objects.requireNonNull(bootstrapServers, "bootstrapServers");
      this.topic = Objects.requireNonNull(topic, "topic");
      this.csv = Objects.requireNonNull(csv, "csv");
    }

    /** Extra producer properties; they override {@link #producerDefaults(String)}. */
    public Builder producerProperties(Map<String, ?> properties) {
      producerProperties.putAll(properties);
      return this;
    }

    /** Keys each record by this column's value; null falls back to the constant key. */
    public Builder keyColumn(String column) {
      this.keyColumn = column;
      return this;
    }

    /** Keys every record with this value (used when no key column is set). */
    public Builder constantKey(String key) {
      this.constantKey = key;
      return this;
    }

    /** Events per second; 0 (the default) sends as fast as the producer takes them. */
    public Builder ratePerSecond(double rate) {
      if (!(rate >= 0) || Double.isInfinite(rate)) {
        throw new IllegalArgumentException("rate must be a finite number >= 0: " + rate);
      }
      this.ratePerSecond = rate;
      return this;
    }

    /** Skips the first {@code rows} data rows. */
    public Builder skip(long rows) {
      if (rows < 0) {
        throw new IllegalArgumentException("skip must be >= 0: " + rows);
      }
      this.skip = rows;
      return this;
    }

    /** Sends at most {@code rows} rows (after the skipped ones). */
    public Builder limit(long rows) {
      if (rows < 0) {
        throw new IllegalArgumentException("limit must be >= 0: " + rows);
      }
      this.limit = rows;
      return this;
    }

    /** Receives progress updates; see {@link Progress}. */
    public Builder progress(Progress progress) {
      this.progress = progress;
      return this;
    }

    /** Checks the options and builds the replay. */
    public CsvReplay build() {
      if (keyColumn == null && (constantKey == null || constantKey.isEmpty())) {
        throw new IllegalStateException(
            "CsvReplay of " + csv + ": set a key column or a non-empty constant key");
      }
      return new CsvReplay(this);
    }
  }
}
