package io.stepcast.bench;

import io.stepcast.config.TopologySpec;
import io.stepcast.features.FeaturePipeline;
import io.stepcast.kafka.Topics;
import io.stepcast.model.ExecutionConfig;
import io.stepcast.model.ExecutionProvider;
import io.stepcast.model.ModelRegistry;
import io.stepcast.state.ModelId;
import io.stepcast.state.SeriesState;
import io.stepcast.state.SeriesStateSerde;
import io.stepcast.topology.ForecastMetrics;
import io.stepcast.topology.ForecastTopology;
import io.stepcast.train.PipelineModels;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.function.IntConsumer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;

/**
 * The end-to-end benchmark: over the same N input events of S series on one broker, in one process,
 * it runs (1) a pass-through topology, (2) a stateful identity topology that reads and writes a
 * state of the forecaster's size in the same kind of store, and (3) the forecaster, each with the
 * pipeline's processing guarantee, and reports records/s and CPU-seconds per record, and the
 * forecaster's ratios against the other two. The first two are the ceiling: what Kafka Streams
 * itself costs on this machine.
 */
public final class EndToEndBench {
  /** One topology's figures. */
  public record Result(String name, long records, double seconds, double cpuSeconds) {
    public double recordsPerSecond() {
      return records / seconds;
    }

    public double cpuMicrosPerRecord() {
      return cpuSeconds * 1e6 / records;
    }
  }

  private final TopologySpec spec;
  private final String bootstrap;
  private final Path stateDir;
  private final String runId = Long.toString(System.currentTimeMillis(), 36);
  private String prefix;

  public EndToEndBench(TopologySpec spec, String bootstrap, Path stateDir) {
    this.spec = spec;
    this.bootstrap = bootstrap;
    this.stateDir = stateDir;
  }

  /** Produces the events, then runs the three topologies one after the other. */
  public List<Result> run(int events, int series, IntConsumer progress) throws Exception {
    // A warm-up round first, over a fifth of the events: the JIT compiles the same code paths for
    // every topology, so no row pays for compilation the others were spared.
    round("warmup", Math.max(2000, events / 5), series);
    progress.accept(1);
    List<Result> results = round("run", events, series);
    progress.accept(2);
    return results;
  }

  private List<Result> round(String tag, int events, int series) throws Exception {
    prefix = "bench-" + runId + "-" + tag;
    String input = prefix + "-in";
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      Topics.ensure(admin, input, spec.topics().partitions(), (short) 1, Map.of());
      for (String name : List.of("pass", "stateful", "forecast")) {
        Topics.ensure(admin, out(name), spec.topics().partitions(), (short) 1, Map.of());
      }
      Topics.ensure(admin, prefix + "-dlq", spec.topics().partitions(), (short) 1, Map.of());
    }
    produce(input, events, series);
    List<Result> results = new ArrayList<>();
    results.add(measure("pass-through", passThrough(input), out("pass"), events));
    results.add(measure("stateful identity", statefulIdentity(input), out("stateful"), events));
    TopologySpec benchSpec = benchSpec(input);
    try (ModelRegistry registry =
        PipelineModels.registry(
            spec,
            new ExecutionConfig(
                ExecutionProvider.CPU, true, 0, spec.execution().intraOpThreads(), 1),
            ModelRegistry.Listener.NONE)) {
      registry.offer(PipelineModels.fixed(spec, 42), "bench");
      results.add(
          measure(
              "forecaster",
              ForecastTopology.build(benchSpec, registry, ForecastMetrics.NOOP),
              out("forecast"),
              events));
    }
    return results;
  }

  private String out(String name) {
    return prefix + "-" + name;
  }

  private TopologySpec benchSpec(String input) {
    var t = spec.topics();
    return new TopologySpec(
        spec.name(),
        spec.applicationId(),
        new TopologySpec.Topics(
            input, out("forecast"), prefix + "-dlq", t.model(), t.partitions(), (short) 1),
        spec.seriesId(),
        spec.timestamp(),
        spec.features(),
        spec.target(),
        spec.model(),
        spec.policies(),
        spec.training(),
        spec.execution(),
        spec.processing(),
        spec.csv());
  }

  private void produce(String topic, int events, int series) throws Exception {
    Map<String, Object> p = new HashMap<>();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.LINGER_MS_CONFIG, 20);
    p.put(ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024);
    Random r = new Random(1);
    Instant start = Instant.parse("2020-01-01T00:00:00Z");
    List<String> fields = FeaturePipeline.inputFields(spec);
    try (KafkaProducer<String, byte[]> producer =
        new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer())) {
      for (int i = 0; i < events; i++) {
        int s = i % series;
        int step = i / series;
        StringBuilder sb = new StringBuilder(128);
        String id = "s" + s;
        sb.append('{');
        if (spec.seriesId().from() == TopologySpec.SeriesIdSource.FIELD) {
          sb.append('"').append(spec.seriesId().field()).append("\":\"").append(id).append("\",");
        }
        sb.append('"')
            .append(spec.timestamp().field())
            .append("\":")
            .append(start.plusSeconds(3600L * step).toEpochMilli());
        double v = 50 + 10 * Math.sin(step * 2 * Math.PI / 24 + s) + r.nextGaussian();
        sb.append(",\"").append(spec.target().field()).append("\":").append(v);
        for (String f : fields) {
          sb.append(",\"").append(f).append("\":").append(1000 + r.nextGaussian());
        }
        sb.append('}');
        producer.send(
            new ProducerRecord<>(topic, id, sb.toString().getBytes(StandardCharsets.UTF_8)));
      }
      producer.flush();
    }
  }

  private Topology passThrough(String input) {
    StreamsBuilder b = new StreamsBuilder();
    b.stream(input, Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()).withName("input"))
        .to(out("pass"), Produced.with(Serdes.ByteArray(), Serdes.ByteArray()).withName("output"));
    return b.build();
  }

  private Topology statefulIdentity(String input) {
    int h = spec.training().hiddenSize() * spec.training().layers();
    int[] sizes = spec.training().cell().equalsIgnoreCase("gru") ? new int[] {h} : new int[] {h, h};
    // The forecaster's per-event state record (format v2; its burn-in row is a second record).
    SeriesState template =
        SeriesState.fresh(ModelId.of("bench"), sizes, FeaturePipeline.inputFields(spec).size());
    byte[] stateBytes = SeriesStateSerde.write(template);
    StreamsBuilder b = new StreamsBuilder();
    b.addStateStore(
        Stores.keyValueStoreBuilder(
            Stores.persistentKeyValueStore("identity-state"),
            Serdes.ByteArray(),
            Serdes.ByteArray()));
    b.stream(input, Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()).withName("input"))
        .process(
            () ->
                new Processor<byte[], byte[], byte[], byte[]>() {
                  private KeyValueStore<byte[], byte[]> store;
                  private ProcessorContext<byte[], byte[]> ctx;

                  @Override
                  public void init(ProcessorContext<byte[], byte[]> context) {
                    ctx = context;
                    store = context.getStateStore("identity-state");
                  }

                  @Override
                  public void process(Record<byte[], byte[]> record) {
                    byte[] old = store.get(record.key());
                    store.put(record.key(), old == null ? stateBytes.clone() : old);
                    ctx.forward(record);
                  }
                },
            Named.as("identity"),
            "identity-state")
        .to(
            out("stateful"),
            Produced.with(Serdes.ByteArray(), Serdes.ByteArray()).withName("output"));
    return b.build();
  }

  private Result measure(String name, Topology topology, String outputTopic, int expected)
      throws Exception {
    Properties props =
        ForecastTopology.streamsConfig(
            spec,
            bootstrap,
            Files.createDirectories(stateDir.resolve(prefix + "-" + name.replace(' ', '-'))),
            Map.of());
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, prefix + "-" + name.replace(' ', '-'));
    var os =
        (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    Map<String, Object> c = new HashMap<>();
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> parts = new ArrayList<>();
      consumer
          .partitionsFor(outputTopic)
          .forEach(pi -> parts.add(new TopicPartition(outputTopic, pi.partition())));
      consumer.assign(parts);
      consumer.seekToBeginning(parts);
      long startNanos = System.nanoTime();
      try (KafkaStreams streams = new KafkaStreams(topology, props)) {
        streams.start();
        // Measure from the first output record to the last: start-up and the first rebalance are
        // the same for every topology and would otherwise dominate short runs.
        long seen = 0;
        long t0 = 0;
        long cpu0 = 0;
        long first = 0;
        long deadline = startNanos + Duration.ofMinutes(10).toNanos();
        while (seen < expected) {
          int n = consumer.poll(Duration.ofMillis(20)).count();
          if (n > 0 && seen == 0) {
            t0 = System.nanoTime();
            cpu0 = os.getProcessCpuTime();
            first = n;
          }
          seen += n;
          if (System.nanoTime() > deadline) {
            throw new IllegalStateException(
                name + ": only " + seen + " of " + expected + " records in 10 minutes");
          }
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        double cpu = (os.getProcessCpuTime() - cpu0) / 1e9;
        streams.close(Duration.ofSeconds(30));
        expected -= (int) first;
        return new Result(name, expected, secs, cpu);
      }
    }
  }
}
