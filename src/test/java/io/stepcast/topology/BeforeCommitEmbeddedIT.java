package io.stepcast.topology;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.stepcast.config.SpecLoader;
import io.stepcast.config.TopologySpec;
import io.stepcast.engine.MemoryRecentInputs;
import io.stepcast.engine.StepEngine;
import io.stepcast.engine.StepListener;
import io.stepcast.features.Event;
import io.stepcast.features.EventParser;
import io.stepcast.kafka.Topics;
import io.stepcast.model.ExecutionConfig;
import io.stepcast.model.ModelRegistry;
import io.stepcast.model.StepModel;
import io.stepcast.serve.ModelSources;
import io.stepcast.state.SeriesState;
import io.stepcast.state.SeriesStateSerde;
import io.stepcast.testsupport.Await;
import io.stepcast.testsupport.EmbeddedKafkaSupport;
import io.stepcast.testsupport.TestRecords;
import io.stepcast.testsupport.TestTopics;
import io.stepcast.train.PipelineModels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Pins the order {@link BeforeCommit} relies on, on a real broker with exactly-once: records held
 * back for a batch are stepped and forwarded in the transaction that commits their input offsets.
 * If Kafka Streams flushed its record caches after committing (or not at all before a commit), the
 * last batch's forecasts would never become visible to a {@code read_committed} consumer, or the
 * offsets would run ahead of them, and this test would fail.
 */
class BeforeCommitEmbeddedIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int SERIES = 40;
  private static final int HOURS = 25;

  @TempDir Path dir;

  /** Records every step's batch size. */
  static final class Batches implements ForecastMetrics {
    final List<Integer> sizes = new CopyOnWriteArrayList<>();

    @Override
    public void step(long nanos, int batch) {
      sizes.add(batch);
    }
  }

  @ParameterizedTest(name = "record cache {0} bytes")
  @ValueSource(strings = {"10485760", "0"})
  void shouldStepBatchesAndForwardThemInTheTransactionThatCommitsTheirOffsets(String cacheBytes)
      throws Exception {
    // With the record cache off (0) the commit hook's own store still needs a cache to hold its
    // entry, or every put would flush it at once and step each event alone.
    String bootstrap = EmbeddedKafkaSupport.cluster().bootstrapServers();
    Map<String, String> env = TestTopics.isolatedPipeline(TestTopics.unique("batch"), 2);
    env.put("STEPCAST_PROCESSING_BATCH_SIZE", "16");
    env.put("STEPCAST_PROCESSING_CACHE_MAX_BYTES", cacheBytes);
    env.put("STEPCAST_PROCESSING_COMMIT_INTERVAL_MS", "300");
    TopologySpec spec = SpecLoader.load(Path.of("topologies/weather.yaml"), env);
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      Topics.ensure(admin, spec.topics().input(), 2, Map.of());
      Topics.ensure(admin, spec.topics().output(), 2, Map.of());
      Topics.ensure(admin, spec.topics().deadLetter(), 2, Map.of());
    }
    List<Map.Entry<String, String>> events = new ArrayList<>();
    for (int h = 0; h < HOURS; h++) {
      for (int s = 0; s < SERIES; s++) {
        events.add(
            Map.entry(
                "s" + s,
                String.format(
                    Locale.ROOT,
                    "{\"date\":\"2010-01-%02dT%02d:00:00\",\"pressure\":%.1f,\"temperature\":%.2f,"
                        + "\"wind\":%.1f}",
                    1 + h / 24,
                    h % 24,
                    1010 + s * 0.1,
                    5 + s * 0.3 + 3 * Math.sin(h / 4.0 + s),
                    2 + (h + s) % 5 * 0.5)));
      }
    }
    TestRecords.produce(bootstrap, spec.topics().input(), events);

    byte[] model = PipelineModels.fixed(spec, 42);
    Batches batches = new Batches();
    Map<String, String> forecasts;
    try (ModelRegistry registry =
        ModelSources.registry(spec, ExecutionConfig.cpu(), ModelRegistry.Listener.NONE)) {
      assertThat(registry.offer(model, "test")).isEqualTo(ModelRegistry.Outcome.SWAPPED);
      try (KafkaStreams streams =
          new KafkaStreams(
              ForecastTopology.build(spec, registry, batches),
              ForecastTopology.streamsConfig(spec, bootstrap, dir, Map.of()))) {
        streams.start();
        List<ConsumerRecord<String, String>> out =
            TestRecords.consume(
                bootstrap, spec.topics().output(), events.size(), Duration.ofSeconds(120));
        forecasts = new HashMap<>();
        for (ConsumerRecord<String, String> r : out) {
          JsonNode n = JSON.readTree(r.value());
          String key = n.get("series").asText() + "@" + n.get("eventTime").asLong();
          assertThat(forecasts.put(key, n.get("forecast").asText())).as(key).isNull();
        }
        // Every input offset is committed, with nothing more to come: the last batch went out in
        // the transaction that committed its offsets, not in a later one.
        try (Admin admin =
            Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
          Await.until(
              Duration.ofSeconds(60),
              () -> committed(admin, spec).equals(ends(admin, spec)),
              () -> "the input offsets to be committed");
        }
        assertThat(TestRecords.drain(bootstrap, spec.topics().output(), Duration.ofSeconds(3)))
            .hasSize(events.size());
      }
    }
    // Write-back (with the cache on): a series' state reaches the changelog once per commit, not
    // once per event; either way what was committed last for each series is its state after its
    // last event.
    Map<String, SeriesState> last = new HashMap<>();
    int writes =
        changelog(
            bootstrap,
            spec.applicationId() + "-" + ForecastTopology.STATE_STORE + "-changelog",
            last);
    if (spec.processing().cacheMaxBytes() > 0) {
      assertThat(writes).as("state writes to the changelog").isLessThan(events.size());
    } else {
      assertThat(writes).as("state writes to the changelog").isEqualTo(events.size());
    }
    assertThat(last).hasSize(SERIES);
    assertThat(last.values()).allSatisfy(st -> assertThat(st.steps()).isEqualTo(HOURS));
    assertThat(batches.sizes).allMatch(n -> n >= 1 && n <= 16);
    assertThat(batches.sizes.stream().mapToInt(Integer::intValue).sum()).isEqualTo(events.size());
    assertThat(batches.sizes.stream().filter(n -> n > 1).count())
        .as("batches of more than one series")
        .isPositive();
    assertThat(forecasts).isEqualTo(oneAtATime(spec, model, events));
  }

  /** The forecasts of the same events stepped one at a time, as text. */
  private static Map<String, String> oneAtATime(
      TopologySpec spec, byte[] model, List<Map.Entry<String, String>> events) throws Exception {
    Map<String, String> out = new HashMap<>();
    Map<String, SeriesState> states = new HashMap<>();
    EventParser parser = new EventParser(spec);
    try (StepModel m = StepModel.load(model, ExecutionConfig.cpu());
        StepEngine engine =
            new StepEngine(
                spec,
                1,
                // The recent rows as the topology keeps them: the weather spec's lag features
                // read the actual of 24 and 25 events back from them.
                new MemoryRecentInputs(spec.model().ringBuffer()),
                StepListener.NONE)) {
      engine.use(m);
      for (Map.Entry<String, String> e : events) {
        Event ev =
            parser
                .parse(
                    e.getKey().getBytes(StandardCharsets.UTF_8),
                    e.getValue().getBytes(StandardCharsets.UTF_8))
                .event()
                .copy();
        int slot = engine.stepOne(e.getKey(), ev, states.get(e.getKey()));
        states.put(e.getKey(), engine.state(slot));
        out.put(
            e.getKey() + "@" + ev.timeMillis(),
            JSON.readTree(
                    new ForecastWriter("t")
                        .write(e.getKey(), 0, 0, engine.forecast(slot), 0, 0, "m", 0, true))
                .get("forecast")
                .asText());
        engine.clear();
      }
    }
    return out;
  }

  /** Reads a changelog (read_committed); keeps each key's last state; returns the record count. */
  private static int changelog(String bootstrap, String topic, Map<String, SeriesState> last) {
    Map<String, Object> c = new HashMap<>(TestRecords.consumerConfig(bootstrap));
    c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    int n = 0;
    try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(c);
        SeriesStateSerde serde = new SeriesStateSerde()) {
      assertThat(TestRecords.assignFromBeginning(consumer, topic)).as(topic).isTrue();
      long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
      while (System.nanoTime() < deadline) {
        for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          last.put(r.key(), serde.deserializer().deserialize(topic, r.value()));
          n++;
        }
      }
    }
    return n;
  }

  private static Map<TopicPartition, Long> committed(Admin admin, TopologySpec spec) {
    try {
      return admin
          .listConsumerGroupOffsets(spec.applicationId())
          .partitionsToOffsetAndMetadata()
          .get()
          .entrySet()
          .stream()
          .filter(e -> e.getKey().topic().equals(spec.topics().input()) && e.getValue() != null)
          .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().offset()));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static Map<TopicPartition, Long> ends(Admin admin, TopologySpec spec) {
    try {
      Map<TopicPartition, OffsetSpec> q = new HashMap<>();
      for (int p = 0; p < 2; p++) {
        q.put(new TopicPartition(spec.topics().input(), p), OffsetSpec.latest());
      }
      return admin.listOffsets(q).all().get().entrySet().stream()
          .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().offset()));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
