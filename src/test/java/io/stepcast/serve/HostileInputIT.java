package io.stepcast.serve;

import static org.assertj.core.api.Assertions.assertThat;

import io.stepcast.config.SpecLoader;
import io.stepcast.config.TopologySpec;
import io.stepcast.kafka.Csv;
import io.stepcast.testsupport.TestRecords;
import io.stepcast.testsupport.TestTopics;
import io.stepcast.topology.DeadLetters;
import io.stepcast.train.PipelineModels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A corpus of thousands of malformed, oversized and hostile records interleaved with good ones,
 * sent by a plain Kafka client to a running forecaster: the instance keeps running, every bad
 * record is dead-lettered exactly once with the expected reason, and every good record is forecast
 * exactly once, identically to a clean run of the good records alone.
 */
abstract class HostileInputIT {
  @TempDir Path dir;

  protected abstract String bootstrapServers();

  /** One record of the corpus; {@code reason} is null for a good record. */
  private record Sent(byte[] key, byte[] value, List<Header> headers, String reason) {}

  private static byte[] b(String s) {
    return s == null ? null : s.getBytes(StandardCharsets.UTF_8);
  }

  private static Sent good(String key, String json, Header... headers) {
    return new Sent(b(key), b(json), List.of(headers), null);
  }

  private static Sent bad(String reason, byte[] key, byte[] value, Header... headers) {
    return new Sent(key, value, List.of(headers), reason);
  }

  private static Sent bad(String reason, String key, String json, Header... headers) {
    return bad(reason, b(key), b(json), headers);
  }

  private static Header header(String name, int size) {
    byte[] v = new byte[size];
    Arrays.fill(v, (byte) 'h');
    return new RecordHeader(name, v);
  }

  private static final Header[] FORGED = {
    new RecordHeader(DeadLetters.REASON, b("forged")),
    new RecordHeader(DeadLetters.SOURCE_OFFSET, b("-7")),
    new RecordHeader("stepcast.model", b("evil\nINFO forged line"))
  };

  private TopologySpec spec(String file, String name) {
    return SpecLoader.load(
        Path.of("topologies", file), TestTopics.isolatedPipeline(TestTopics.unique(name), 3));
  }

  private ForecastService start(TopologySpec spec, String stateName) throws Exception {
    Path models = dir.resolve("models-" + spec.name());
    if (!Files.exists(models)) {
      Files.createDirectories(models);
      Files.write(models.resolve("fixed.onnx"), PipelineModels.fixed(spec, 42));
    }
    return ForecastService.start(
        new ForecastService.Options(
            spec, bootstrapServers(), dir.resolve(stateName), 0, null, models, Map.of()));
  }

  /** Sends the corpus in order; returns each record's "partition@offset". */
  private List<String> send(String topic, List<Sent> corpus) {
    Map<String, Object> p = new HashMap<>();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 8 * 1024 * 1024);
    p.put(ProducerConfig.BUFFER_MEMORY_CONFIG, 64L * 1024 * 1024);
    List<Future<RecordMetadata>> sent = new ArrayList<>();
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
      for (Sent s : corpus) {
        sent.add(producer.send(new ProducerRecord<>(topic, null, s.key(), s.value(), s.headers())));
      }
      List<String> at = new ArrayList<>();
      for (Future<RecordMetadata> f : sent) {
        RecordMetadata m = f.get();
        at.add(m.partition() + "@" + m.offset());
      }
      return at;
    } catch (ExecutionException e) {
      throw new AssertionError("producing the corpus failed: " + e.getCause(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /**
   * Runs the corpus against one instance and the good records alone against another, and checks the
   * outcome record by record.
   */
  private void check(String file, List<Sent> corpus) throws Exception {
    List<Sent> goodOnly = corpus.stream().filter(s -> s.reason() == null).toList();
    Map<String, String> expectedReasons = new HashMap<>();
    TopologySpec hostile = spec(file, "hostile");
    Map<String, String> forecasts;
    try (ForecastService service = start(hostile, "state-hostile")) {
      List<String> at = send(hostile.topics().input(), corpus);
      for (int i = 0; i < corpus.size(); i++) {
        if (corpus.get(i).reason() != null) {
          expectedReasons.put(at.get(i), corpus.get(i).reason());
        }
      }
      List<ConsumerRecord<String, String>> out =
          settled(hostile.topics().output(), goodOnly.size(), Duration.ofSeconds(90));
      List<ConsumerRecord<String, String>> dead =
          settled(hostile.topics().deadLetter(), expectedReasons.size(), Duration.ofSeconds(60));

      assertThat(service.streams().state()).isEqualTo(KafkaStreams.State.RUNNING);
      assertThat(service.streams().metadataForLocalThreads()).hasSize(1);
      Map<String, String> deadReasons = new HashMap<>();
      for (ConsumerRecord<String, String> d : dead) {
        assertThat(Arrays.stream(d.headers().toArray()).map(Header::key))
            .as("dead letter headers")
            .containsOnlyOnce(DeadLetters.REASON, DeadLetters.SOURCE_OFFSET)
            .doesNotContain("stepcast.model");
        String where =
            DeadLetters.read(d.headers(), DeadLetters.SOURCE_PARTITION)
                + "@"
                + DeadLetters.read(d.headers(), DeadLetters.SOURCE_OFFSET);
        assertThat(deadReasons.put(where, DeadLetters.read(d.headers(), DeadLetters.REASON)))
            .as("second dead letter for %s", where)
            .isNull();
        assertThat(DeadLetters.read(d.headers(), DeadLetters.SOURCE_TOPIC))
            .isEqualTo(hostile.topics().input());
        assertThat(DeadLetters.read(d.headers(), DeadLetters.MESSAGE).length())
            .isLessThanOrEqualTo(DeadLetters.MAX_MESSAGE + 40);
        long size = (d.serializedKeySize() < 0 ? 0 : d.serializedKeySize());
        size += d.serializedValueSize() < 0 ? 0 : d.serializedValueSize();
        for (Header h : d.headers()) {
          size += h.key().length() + (h.value() == null ? 0 : h.value().length);
        }
        assertThat(size).as("dead letter size").isLessThan(1024 * 1024);
      }
      assertThat(deadReasons).isEqualTo(expectedReasons);
      for (ConsumerRecord<String, String> f : out) {
        assertThat(Arrays.stream(f.headers().toArray()).map(Header::key))
            .noneMatch(k -> k.startsWith(DeadLetters.OWN_PREFIX));
      }
      forecasts = ForecastServiceIT.byEvent(out);
      assertThat(forecasts).hasSize(goodOnly.size());
    }

    TopologySpec clean = spec(file, "clean");
    try (ForecastService service = start(clean, "state-clean")) {
      send(clean.topics().input(), goodOnly);
      Map<String, String> expected =
          ForecastServiceIT.byEvent(
              settled(clean.topics().output(), goodOnly.size(), Duration.ofSeconds(90)));
      assertThat(forecasts).isEqualTo(expected);
    }
  }

  /**
   * Reads {@code topic} from the beginning (read_committed) until at least {@code expected} records
   * arrived and then nothing more for two seconds: a duplicate shows up as an extra record.
   */
  private List<ConsumerRecord<String, String>> settled(
      String topic, int expected, Duration timeout) {
    List<ConsumerRecord<String, String>> received = new ArrayList<>();
    try (KafkaConsumer<String, String> consumer =
        new KafkaConsumer<>(TestRecords.consumerConfig(bootstrapServers()))) {
      List<TopicPartition> partitions = new ArrayList<>();
      consumer
          .partitionsFor(topic, Duration.ofSeconds(10))
          .forEach(i -> partitions.add(new TopicPartition(topic, i.partition())));
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      long deadline = System.nanoTime() + timeout.toNanos();
      long quietSince = System.nanoTime();
      while (received.size() < expected
          || System.nanoTime() - quietSince < Duration.ofSeconds(2).toNanos()) {
        var batch = consumer.poll(Duration.ofMillis(200));
        if (!batch.isEmpty()) {
          batch.forEach(received::add);
          quietSince = System.nanoTime();
        }
        if (System.nanoTime() - deadline > 0) {
          throw new AssertionError(
              "expected " + expected + " records on " + topic + ", got " + received.size());
        }
      }
    }
    return received;
  }

  private static String weather(String date, String temperature) {
    return "{\"date\":"
        + date
        + ",\"pressure\":1016.6,\"temperature\":"
        + temperature
        + ",\"wind\":3.8}";
  }

  private static String hour(int h) {
    return String.format(
        Locale.ROOT, "\"%s\"", java.time.LocalDateTime.of(2010, 1, 1, 0, 0).plusHours(h));
  }

  /** The hostile records of the weather pipeline (series id = record key) for round {@code i}. */
  private static List<Sent> weatherHostile(int i) {
    String ok = hour(i);
    String deep = "[".repeat(10_000) + "]".repeat(10_000);
    byte[] invalidUtf8 = b(weather(ok, "4.0").replace("}", ",\"x\":\"..\"}"));
    invalidUtf8[invalidUtf8.length - 4] = (byte) 0xC3;
    invalidUtf8[invalidUtf8.length - 3] = (byte) 0x28;
    byte[] truncatedUtf8 = b("{\"date\":" + ok + ",\"x\":\"\u00e9\u00e9");
    truncatedUtf8 = Arrays.copyOf(truncatedUtf8, truncatedUtf8.length - 1);
    String k = "h" + i;
    List<Sent> out = new ArrayList<>();
    // Not JSON, not an object, cut short, ambiguous, too deep.
    out.add(bad("malformed_json", k, "{\"date\": not json"));
    out.add(bad("malformed_json", k, "[1,2,3]", FORGED));
    out.add(bad("malformed_json", k, "\"just a string\""));
    out.add(bad("malformed_json", k, "null"));
    out.add(bad("malformed_json", k, weather(ok, "4.0").substring(0, 30)));
    out.add(bad("malformed_json", b(k), truncatedUtf8));
    out.add(bad("malformed_json", b(k), invalidUtf8));
    out.add(bad("malformed_json", k, weather(ok, "4.0") + " trailing"));
    out.add(bad("malformed_json", k, "{\"x\":" + deep + "}"));
    out.add(bad("malformed_json", b(k), new byte[0]));
    out.add(bad("malformed_json", b(k), null));
    out.add(
        bad(
            "malformed_json",
            k,
            weather(ok, "4.0").replace("}", ",\"date\":\"2030-01-01T00:00:00\"}")));
    out.add(bad("malformed_json", k, weather(ok, "1" + "0".repeat(2000))));
    // Wrong types and values.
    out.add(bad("non_numeric", k, weather(ok, "\"4.0\"")));
    out.add(bad("non_numeric", k, weather(ok, "[4.0]")));
    out.add(bad("non_numeric", k, weather(ok, "{\"v\":4}")));
    out.add(bad("non_numeric", k, weather(ok, "true")));
    out.add(bad("not_finite", k, weather(ok, "NaN")));
    out.add(bad("not_finite", k, weather(ok, "-Infinity")));
    out.add(bad("not_finite", k, weather(ok, "\"Infinity\"")));
    out.add(bad("not_finite", k, weather(ok, "1e39")));
    out.add(bad("not_finite", k, weather(ok, "-1e300")));
    out.add(bad("not_finite", k, weather(ok, "1e999")));
    out.add(bad("out_of_range", k, weather(ok, "1e30")));
    out.add(bad("out_of_range", k, weather(ok, "-273.16")));
    out.add(bad("out_of_range", k, weather(ok, "4").replace("1016.6", "5000")));
    out.add(bad("out_of_range", k, weather(ok, "4").replace("3.8", "-1")));
    out.add(bad("missing_field", k, "{\"temperature\":4.0,\"pressure\":1016.6,\"wind\":3.8}"));
    // Times that cannot be read, and times out of the window.
    out.add(bad("bad_timestamp", k, weather("\"yesterday\"", "4")));
    out.add(bad("bad_timestamp", k, weather("\"2010-13-45T00:00:00\"", "4")));
    out.add(bad("bad_timestamp", k, weather("12.5", "4")));
    out.add(bad("bad_timestamp", k, weather("{\"t\":1}", "4")));
    for (String t :
        List.of(
            "\"9999-12-31T23:59:59\"",
            "4102444800000",
            Long.toString(Long.MAX_VALUE),
            Long.toString(Long.MIN_VALUE),
            "\"+99999-01-01T00:00:00\"",
            "\"0000-01-01T00:00:00\"",
            "\"-0001-01-01T00:00:00\"",
            "\"+1000000000-01-01T00:00:00Z\"",
            "\"+300000000-01-01T00:00:00\"",
            "99999999999999999999")) {
      out.add(bad("out_of_range", k, weather(t, "4")));
    }
    // Keys: none, empty, too long, look-alikes, not UTF-8.
    out.add(bad("bad_key", (byte[]) null, b(weather(ok, "4"))));
    out.add(bad("bad_key", new byte[0], b(weather(ok, "4"))));
    out.add(bad("bad_key", "k".repeat(300), weather(ok, "4")));
    out.add(bad("bad_key", "\uFEFF" + k, weather(ok, "4")));
    out.add(bad("bad_key", "h\u200B" + i, weather(ok, "4")));
    out.add(bad("bad_key", "\u202E" + k, weather(ok, "4")));
    out.add(bad("bad_key", k + "\n", weather(ok, "4")));
    out.add(bad("bad_key", "cafe\u0301" + i, weather(ok, "4")));
    out.add(bad("bad_key", new byte[] {(byte) 0xff, (byte) 0xfe, (byte) i}, b(weather(ok, "4"))));
    out.add(bad("bad_key", new byte[] {'k', (byte) 0xE2, (byte) 0x82}, b(weather(ok, "4"))));
    return out;
  }

  @Test
  void shouldSurviveAHostileCorpusOnTheWeatherPipeline() throws Exception {
    List<String> stations = List.of("north", "south", "east");
    List<Sent> corpus = new ArrayList<>();
    int rounds = 48;
    for (int h = 1; h <= rounds; h++) {
      for (String s : stations) {
        double t = 5 + 3 * Math.sin(h / 4.0) + stations.indexOf(s);
        String json = weather(hour(h), String.format(Locale.ROOT, "%.2f", t));
        // Forged stepcast headers and a large header set on good records too: they must not
        // change the forecast, and must not reach the output.
        corpus.add(h % 7 == 0 ? good(s, json, header("big", 70_000)) : good(s, json, FORGED));
        if (h > 2) {
          corpus.add(bad("late", s, weather(hour(h - 2), "4")));
          corpus.add(bad("duplicate", s, weather(hour(h), "4"), FORGED));
        }
      }
      corpus.addAll(weatherHostile(h));
    }
    // Oversized: a 600 KB timestamp, values around and beyond the producer's 1 MiB, a 1 MB key,
    // and header sets far beyond what a dead letter may carry.
    String longTime = "\"" + "2".repeat(600_000) + "\"";
    byte[] brace = new byte[1_048_400];
    Arrays.fill(brace, (byte) '{');
    byte[] huge = new byte[1_500_000];
    Arrays.fill(huge, (byte) 'x');
    corpus.add(bad("bad_timestamp", "north", weather(longTime, "4")));
    corpus.add(bad("malformed_json", b("north"), brace, header("x-trace", 40)));
    corpus.add(bad("malformed_json", b("north"), huge));
    corpus.add(bad("bad_key", new byte[1_000_000], b(weather(hour(1), "4"))));
    corpus.add(
        bad(
            "not_finite",
            b("north"),
            b(weather(hour(1), "1e39")),
            header("a", 300_000),
            header("b", 300_000),
            header(DeadLetters.REASON, 300_000)));
    assertThat(corpus.size()).isGreaterThan(2_500);
    check("weather.yaml", corpus);
  }

  @Test
  void shouldSurviveAHostileCorpusOnTheStocksPipelineWithItsRepartitionTopic() throws Exception {
    Csv csv = Csv.read(Path.of("samples/stocks.csv"));
    List<Sent> corpus = new ArrayList<>();
    String pad = "p".repeat(1_040_000);
    int i = 0;
    for (Csv.Row r : csv.rows()) {
      String symbol = r.get("symbol");
      String date = r.get("date");
      String json =
          "{\"symbol\":\"" + symbol + "\",\"date\":\"" + date + "\",\"price\":" + r.get("price");
      corpus.add(good(symbol, json + "}", FORGED));
      i++;
      if (i % 40 == 0) {
        // A valid event near 1 MB (its repartition copy must be bounded), then its duplicate.
        String big = "BIG" + i;
        String bigJson = "{\"symbol\":\"" + big + "\",\"date\":\"" + date + "\",\"price\":1.5";
        corpus.add(good(big, bigJson + ",\"pad\":\"" + pad + "\"}"));
        corpus.add(bad("duplicate", big, bigJson + ",\"pad\":\"" + pad + "x\"}"));
      }
      String k = "any" + i;
      String base = ",\"date\":\"" + date + "\",\"price\":10}";
      corpus.add(bad("bad_key", k, "{\"symbol\":\"\uFEFF" + symbol + "\"" + base));
      corpus.add(bad("bad_key", k, "{\"symbol\":\"" + symbol + "\u200B\"" + base));
      corpus.add(bad("bad_key", k, "{\"symbol\":\"\\u202e" + symbol + "\"" + base));
      corpus.add(bad("bad_key", k, "{\"symbol\":\"\\ud800\"" + base));
      corpus.add(bad("bad_key", k, "{\"symbol\":\"\"" + base));
      corpus.add(bad("bad_key", k, "{\"symbol\":{\"a\":1}" + base));
      corpus.add(bad("bad_key", k, "{\"symbol\":\"" + "s".repeat(300) + "\"" + base));
      corpus.add(bad("missing_field", k, "{\"date\":\"" + date + "\",\"price\":10}"));
      String sym = "{\"symbol\":\"" + symbol + "\",\"date\":\"" + date + "\",\"price\":";
      corpus.add(bad("not_positive", k, sym + "0}"));
      corpus.add(bad("out_of_range", k, sym + "-1}"));
      corpus.add(bad("out_of_range", k, sym + "1e8}"));
      corpus.add(bad("not_finite", k, sym + "1e39}"));
      corpus.add(bad("non_numeric", k, sym + "\"39.81\"}"));
      corpus.add(bad("malformed_json", k, sym + "10,\"price\":11}"));
      corpus.add(bad("malformed_json", k, "[" + sym + "10}]"));
      String withDate = "{\"symbol\":\"" + symbol + "\",\"price\":10,\"date\":";
      corpus.add(bad("out_of_range", k, withDate + "\"Jan 1 9999\"}"));
      corpus.add(bad("out_of_range", k, withDate + "\"Jan 1 1800\"}"));
      corpus.add(bad("out_of_range", k, withDate + "4102444800000}"));
      corpus.add(bad("bad_timestamp", k, withDate + "\"2000-01-01\"}"));
    }
    assertThat(corpus.size()).isGreaterThan(5_000);
    check("stocks.yaml", corpus);
  }
}
