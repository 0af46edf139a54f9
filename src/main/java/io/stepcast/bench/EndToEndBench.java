package io.stepcast.bench;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.stepcast.config.TopologySpec;
import io.stepcast.engine.IntervalCalibration;
import io.stepcast.features.FeaturePipeline;
import io.stepcast.kafka.EmbeddedKafkaBroker;
import io.stepcast.kafka.Topics;
import io.stepcast.model.CellType;
import io.stepcast.model.DemoModels;
import io.stepcast.model.ExecutionConfig;
import io.stepcast.model.ExecutionProvider;
import io.stepcast.model.ModelRegistry;
import io.stepcast.model.ModelSpec;
import io.stepcast.model.RnnWeights;
import io.stepcast.model.SequenceModelBuilder;
import io.stepcast.model.StepModelBuilder;
import io.stepcast.serve.ModelSources;
import io.stepcast.serve.PipelineMetrics;
import io.stepcast.state.ModelId;
import io.stepcast.state.SeriesState;
import io.stepcast.state.SeriesStateSerde;
import io.stepcast.topology.ForecastMetrics;
import io.stepcast.topology.ForecastTopology;
import io.stepcast.train.PipelineModels;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Predicate;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
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
 * The end-to-end benchmark: what users compare, in one process on one broker, over the same events
 * and under the pipeline's processing guarantee.
 *
 * <ul>
 *   <li>{@code pass-through}: input to output, no state: what Kafka Streams itself costs;
 *   <li>{@code stateful identity}: gets and puts a state of stepcast's size per event in the same
 *       kind of store (RocksDB, changelogged): the ceiling for any stateful design;
 *   <li>{@code stepcast}: the forecasting topology as served, stepping each series' carried state;
 *   <li>{@code window W=..}: the peers' design ({@link WindowedTopology}): the last W feature rows
 *       per series, the network re-run over them per event, same parse, features, weights and
 *       output.
 * </ul>
 *
 * <p>Throughput: the events are produced first, then each topology reads them from the start as
 * fast as it can; rates and CPU are measured from its first output record to its last. Repeats run
 * interleaved (round r runs every topology once, starting with a different one) so a change in the
 * machine's load falls on all of them. CPU per record is measured three ways: the whole process
 * (which includes the embedded broker and the benchmark's own consumer), the Kafka Streams
 * instance's threads (stream threads and their clients' I/O threads), and the stream threads alone.
 *
 * <p>Latency: events are produced at a fixed rate (fractions of stepcast's measured maximum) with
 * their send time as the record timestamp, which Kafka Streams carries to the forecast; a {@code
 * read_committed} consumer takes forecast arrival minus that timestamp.
 */
public final class EndToEndBench {
  /** Seed of the benchmark's network weights (the same for the step and the sequence graph). */
  public static final long SEED = 42;

  /** Linux's USER_HZ, the unit of {@code /proc} CPU times. */
  private static final int CLOCK_TICKS = 100;

  /** The topologies the benchmark can run. */
  public enum Kind {
    PASS,
    IDENTITY,
    STEPCAST,
    WINDOW
  }

  /**
   * One topology to run: its kind, for {@link Kind#WINDOW} W, and for {@link Kind#STEPCAST} the
   * batch size ({@code processing.batchSize}; 0: the spec's).
   */
  public record Candidate(Kind kind, int window, int batch) {
    /** A candidate without a batch size of its own. */
    public Candidate(Kind kind, int window) {
      this(kind, window, 0);
    }

    /** The name printed in the tables. */
    public String label() {
      switch (kind) {
        case PASS:
          return "pass-through";
        case IDENTITY:
          return "stateful identity";
        case STEPCAST:
          return batch == 0 ? "stepcast" : "stepcast b=" + batch;
        case WINDOW:
        default:
          return "window W=" + window;
      }
    }
  }

  /**
   * What to run.
   *
   * @param events events per measured run
   * @param series distinct series keys, events go round-robin across them
   * @param candidates topologies, in the order of the first round
   * @param repeat rounds
   * @param latencyFractions fractions of stepcast's maximum for the latency mode (empty: off)
   * @param latencySeconds how long each latency run produces
   */
  public record Options(
      int events,
      int series,
      List<Candidate> candidates,
      int repeat,
      List<Double> latencyFractions,
      int latencySeconds) {}

  /**
   * One measured throughput run. CPU figures in seconds; changelog bytes per input event (0 for a
   * topology without state).
   */
  public record Result(
      Candidate candidate,
      int round,
      long records,
      double seconds,
      double processCpu,
      double instanceCpu,
      double streamThreadCpu,
      double rocksDbCpu,
      double changelogBytesPerEvent) {
    public double recordsPerSecond() {
      return records / seconds;
    }

    public double processMicros() {
      return processCpu * 1e6 / records;
    }

    public double instanceMicros() {
      return instanceCpu * 1e6 / records;
    }

    public double streamThreadMicros() {
      return streamThreadCpu * 1e6 / records;
    }

    public double rocksDbMicros() {
      return rocksDbCpu * 1e6 / records;
    }
  }

  /** One latency run: event to forecast, milliseconds. */
  public record Latency(
      Candidate candidate,
      double fraction,
      double rate,
      long records,
      double p50,
      double p99,
      double max) {}

  /** Progress and results as they come, for the command line. */
  public interface Listener {
    void warmedUp();

    void measured(Result r);

    void latency(Latency l);
  }

  private final TopologySpec spec;
  private final Map<Integer, TopologySpec> batchSpecs;
  private final String bootstrap;
  private final Path stateDir;
  private final Options options;
  private final String runId = Long.toString(System.currentTimeMillis(), 36);
  private final byte[] stepModel;
  private final byte[] sequenceModel;
  private final String version;
  private final byte[] identityState;
  private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
  private final com.sun.management.OperatingSystemMXBean os =
      (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

  /**
   * Prepares the models (seeded weights of the spec's network, {@code training.cell}, {@code
   * layers} and {@code hiddenSize}, as a step graph and as a sequence graph) and the stateful
   * identity's state bytes.
   *
   * @param batchSpecs the spec of each stepcast candidate with a batch size of its own, by size
   */
  public EndToEndBench(
      TopologySpec spec,
      Map<Integer, TopologySpec> batchSpecs,
      String bootstrap,
      Path stateDir,
      Options options) {
    this.spec = spec;
    this.batchSpecs = Map.copyOf(batchSpecs);
    this.bootstrap = bootstrap;
    this.stateDir = stateDir;
    this.options = options;
    FeaturePipeline pipeline = new FeaturePipeline(this.spec);
    var t = spec.training();
    CellType cell = CellType.of(t.cell());
    this.version = spec.name() + "-bench-" + cell.id() + t.layers() + "x" + t.hiddenSize();
    RnnWeights w =
        DemoModels.persistenceLikeWeights(
            cell, pipeline.width(), t.hiddenSize(), t.layers(), 1, SEED);
    ModelSpec modelSpec =
        PipelineModels.specFor(spec, version, cell, t.layers(), t.hiddenSize()).build();
    this.stepModel = StepModelBuilder.build(w, modelSpec);
    this.sequenceModel = SequenceModelBuilder.build(w, modelSpec);
    this.identityState = SeriesStateSerde.write(steadyState(pipeline, cell));
  }

  /** Bytes stepcast writes per event for a series in steady state (the identity writes these). */
  public int stepcastStateBytes() {
    return identityState.length;
  }

  /** Bytes the windowed design writes per event once a series' window is full. */
  public int windowStateBytes(int window) {
    return new WindowState(
            window, new FeaturePipeline(spec).width(), FeaturePipeline.inputFields(spec).size())
        .size(window);
  }

  /** Runs the warm-up round, the measured rounds and, if asked, the latency runs. */
  public List<Result> run(Listener listener) throws Exception {
    ExecutionConfig exec =
        new ExecutionConfig(ExecutionProvider.CPU, true, 0, spec.execution().intraOpThreads(), 1);
    try (ModelRegistry registry = ModelSources.registry(spec, exec, ModelRegistry.Listener.NONE)) {
      registry.offer(stepModel, "bench");
      // A warm-up round first: the JIT compiles the code paths of every topology, so no measured
      // run pays for compilation the others were spared. With a fifth of the events, the first
      // measured run still cost up to twice the CPU per record of the later ones; with half, less.
      int warmEvents = Math.max(2000, options.events() / 2);
      String warm = input("warmup", warmEvents);
      for (Candidate c : options.candidates()) {
        measure(registry, c, warm, -1, warmEvents);
      }
      listener.warmedUp();
      String in = input("in", options.events());
      List<Result> results = new ArrayList<>();
      List<Candidate> order = options.candidates();
      for (int r = 0; r < options.repeat(); r++) {
        for (int i = 0; i < order.size(); i++) {
          Candidate c = order.get((i + r) % order.size());
          Result res = measure(registry, c, in, r, options.events());
          results.add(res);
          listener.measured(res);
        }
      }
      if (!options.latencyFractions().isEmpty()) {
        // The rate follows the first stepcast run's maximum (with several batch sizes, the first).
        Candidate first =
            order.stream().filter(c -> c.kind() == Kind.STEPCAST).findFirst().orElse(null);
        double max =
            median(
                results.stream()
                    .filter(x -> x.candidate().equals(first))
                    .mapToDouble(Result::recordsPerSecond)
                    .toArray());
        if (Double.isNaN(max)) {
          throw new IllegalArgumentException(
              "the latency mode needs stepcast among the topologies");
        }
        for (double f : options.latencyFractions()) {
          for (Candidate c : options.candidates()) {
            if (c.kind() == Kind.STEPCAST || c.kind() == Kind.WINDOW) {
              listener.latency(latency(registry, c, f, f * max));
            }
          }
        }
      }
      return results;
    }
  }

  /** The median of {@code values} (NaN when empty). */
  public static double median(double[] values) {
    if (values.length == 0) {
      return Double.NaN;
    }
    double[] v = values.clone();
    Arrays.sort(v);
    int n = v.length;
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  }

  /** The machine's load: the output of {@code uptime}, or {@code /proc/loadavg} without it. */
  public static String load() {
    try {
      Process p = new ProcessBuilder("uptime").redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      if (p.waitFor() == 0 && !out.isEmpty()) {
        return out;
      }
    } catch (IOException e) {
      // fall through to /proc
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try {
      return "loadavg " + Files.readString(Path.of("/proc/loadavg")).trim();
    } catch (IOException e) {
      return "load unknown (" + e.getMessage() + ")";
    }
  }

  private SeriesState steadyState(FeaturePipeline pipeline, CellType cell) {
    int h = spec.training().hiddenSize() * spec.training().layers();
    int[] sizes = cell == CellType.LSTM ? new int[] {h, h} : new int[] {h};
    int fields = FeaturePipeline.inputFields(spec).size();
    // State format v2: the recent inputs for burn-in are a second, 9 + 4 * width byte record
    // (RecentRows) in series-recent, not part of this one.
    SeriesState s = SeriesState.fresh(ModelId.of(version), sizes, fields);
    s.remember(0L, 1.0, new double[fields]);
    s.advance(ModelId.of(version), 1.0);
    // State format v3: the interval calibration every stepcast series carries.
    new IntervalCalibration(spec.intervals()).align(s);
    s.intervalScored(1f);
    return s;
  }

  /** The spec with its input and output topics replaced (the model topic is not used here). */
  private static TopologySpec withTopics(TopologySpec spec, String input, String output) {
    var t = spec.topics();
    return new TopologySpec(
        spec.name(),
        spec.applicationId(),
        new TopologySpec.Topics(
            input, output, output + "-dlq", t.model(), t.partitions(), (short) 1),
        spec.seriesId(),
        spec.timestamp(),
        spec.features(),
        spec.target(),
        spec.model(),
        spec.policies(),
        spec.intervals(),
        spec.training(),
        spec.execution(),
        spec.processing(),
        spec.csv());
  }

  private String input(String tag, int events) throws Exception {
    String topic = "bench-" + runId + "-" + tag;
    createTopics(topic);
    produce(topic, events);
    return topic;
  }

  private void createTopics(String... names) throws Exception {
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      for (String n : names) {
        Topics.ensure(admin, n, spec.topics().partitions(), (short) 1, Map.of());
      }
    }
  }

  private Map<String, Object> producerConfig(int lingerMs) {
    Map<String, Object> p = new HashMap<>();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.LINGER_MS_CONFIG, lingerMs);
    p.put(ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024);
    return p;
  }

  private void produce(String topic, int events) {
    EventSource source = new EventSource();
    try (KafkaProducer<String, byte[]> producer =
        new KafkaProducer<>(
            producerConfig(20), new StringSerializer(), new ByteArraySerializer())) {
      for (int i = 0; i < events; i++) {
        producer.send(new ProducerRecord<>(topic, source.key(i), source.value(i)));
      }
      producer.flush();
    }
  }

  /** The benchmark's events: series round-robin, hourly per series, a noisy daily cycle. */
  private final class EventSource {
    private final Random random = new Random(1);
    private final Instant start = Instant.parse("2020-01-01T00:00:00Z");
    private final List<String> fields = FeaturePipeline.inputFields(spec);
    private final double[] centre = new double[fields.size()];
    private final double[] spread = new double[fields.size()];
    private final StringBuilder sb = new StringBuilder(160);

    EventSource() {
      // Every value inside the spec's range for its field (weather's wind is 0-120 m/s): an event
      // outside it would be dead-lettered as out_of_range and never forecast.
      int i = 0;
      for (TopologySpec.Feature f : spec.features()) {
        if (f.field() == null) {
          continue;
        }
        double lo = f.min() == null ? Double.NEGATIVE_INFINITY : f.min();
        double hi = f.max() == null ? Double.POSITIVE_INFINITY : f.max();
        if (Double.isFinite(lo) && Double.isFinite(hi)) {
          centre[i] = (lo + hi) / 2;
          spread[i] = (hi - lo) / 100;
        } else {
          centre[i] = Math.min(Math.max(1000, lo + 1000), hi - 1000);
          spread[i] = 1;
        }
        i++;
      }
    }

    String key(int i) {
      return "s" + (i % options.series());
    }

    byte[] value(int i) {
      int s = i % options.series();
      int step = i / options.series();
      sb.setLength(0);
      sb.append('{');
      if (spec.seriesId().from() == TopologySpec.SeriesIdSource.FIELD) {
        sb.append('"').append(spec.seriesId().field()).append("\":\"").append(key(i)).append("\",");
      }
      sb.append('"')
          .append(spec.timestamp().field())
          .append("\":")
          .append(start.plusSeconds(3600L * step).toEpochMilli());
      double v = 50 + 10 * Math.sin(step * 2 * Math.PI / 24 + s) + random.nextGaussian();
      sb.append(",\"").append(spec.target().field()).append("\":").append(v);
      for (int f = 0; f < centre.length; f++) {
        sb.append(",\"")
            .append(fields.get(f))
            .append("\":")
            .append(centre[f] + spread[f] * random.nextGaussian());
      }
      sb.append('}');
      return sb.toString().getBytes(StandardCharsets.UTF_8);
    }
  }

  /** The spec a candidate runs with: its own batch size, or the benchmark's spec. */
  private TopologySpec specOf(Candidate c) {
    TopologySpec s = c.batch() == 0 ? null : batchSpecs.get(c.batch());
    return s == null ? spec : s;
  }

  private Topology topology(
      ModelRegistry registry, Candidate c, String input, String output, ForecastMetrics metrics) {
    switch (c.kind()) {
      case PASS:
        return passThrough(input, output);
      case IDENTITY:
        return statefulIdentity(input, output);
      case STEPCAST:
        return ForecastTopology.build(withTopics(specOf(c), input, output), registry, metrics);
      case WINDOW:
      default:
        return WindowedTopology.build(
            withTopics(spec, input, output), sequenceModel, version, c.window());
    }
  }

  /**
   * Whether a candidate's state writes go through a cache that writes each key once per commit:
   * Kafka's record cache, or with batching stepcast's own write-back ({@code ForecastProcessor}).
   * Every stateful candidate follows {@code processing.cacheMaxBytes}, so ratios compare like with
   * like.
   */
  public boolean cached(Candidate c) {
    return c.kind() != Kind.PASS && specOf(c).processing().cacheMaxBytes() > 0;
  }

  private static Topology passThrough(String input, String output) {
    StreamsBuilder b = new StreamsBuilder();
    b.stream(input, Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()).withName("input"))
        .to(output, Produced.with(Serdes.ByteArray(), Serdes.ByteArray()).withName("output"));
    return b.build();
  }

  private Topology statefulIdentity(String input, String output) {
    byte[] stateBytes = identityState;
    StreamsBuilder b = new StreamsBuilder();
    var store =
        Stores.keyValueStoreBuilder(
            Stores.persistentKeyValueStore("identity-state"),
            Serdes.ByteArray(),
            Serdes.ByteArray());
    b.addStateStore(cached(new Candidate(Kind.IDENTITY, 0)) ? store.withCachingEnabled() : store);
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
        .to(output, Produced.with(Serdes.ByteArray(), Serdes.ByteArray()).withName("output"));
    return b.build();
  }

  private String applicationId(Candidate c, String tag) {
    return "bench-" + runId + "-" + tag + "-" + c.label().replace(' ', '-').replace("=", "");
  }

  private Properties streamsConfig(Candidate c, String appId) throws IOException {
    Properties props =
        ForecastTopology.streamsConfig(
            specOf(c), bootstrap, Files.createDirectories(stateDir.resolve(appId)), Map.of());
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, appId);
    return props;
  }

  private KafkaConsumer<byte[], byte[]> outputConsumer(String topic) {
    Map<String, Object> c = new HashMap<>();
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5000);
    KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    List<TopicPartition> parts = new ArrayList<>();
    consumer
        .partitionsFor(topic)
        .forEach(pi -> parts.add(new TopicPartition(topic, pi.partition())));
    consumer.assign(parts);
    consumer.seekToBeginning(parts);
    return consumer;
  }

  private Result measure(ModelRegistry registry, Candidate c, String input, int round, int expected)
      throws Exception {
    String appId = applicationId(c, round < 0 ? "warmup" : "r" + round);
    String output = appId + "-out";
    createTopics(output);
    Predicate<String> instance = name -> name.contains(appId);
    Predicate<String> streamThread =
        name -> name.contains(appId) && name.contains("-StreamThread-") && !name.contains("|");
    try (KafkaConsumer<byte[], byte[]> consumer = outputConsumer(output);
        KafkaStreams streams =
            new KafkaStreams(
                topology(registry, c, input, output, servedMetrics()), streamsConfig(c, appId))) {
      long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
      streams.start();
      // Measured from the first output record to the last: start-up and the first rebalance are
      // the same for every topology and would otherwise dominate short runs.
      long seen = 0;
      long first = 0;
      long t0 = 0;
      long cpu0 = 0;
      Map<Long, Long> instance0 = Map.of();
      Map<Long, Long> stream0 = Map.of();
      double rocks0 = 0;
      while (seen < expected) {
        int n = consumer.poll(Duration.ofMillis(20)).count();
        if (n > 0 && seen == 0) {
          t0 = System.nanoTime();
          cpu0 = os.getProcessCpuTime();
          instance0 = threadCpu(instance);
          stream0 = threadCpu(streamThread);
          rocks0 = rocksDbCpu();
          first = n;
        }
        seen += n;
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(
              c.label() + ": only " + seen + " of " + expected + " records in 10 minutes");
        }
      }
      double secs = (System.nanoTime() - t0) / 1e9;
      double cpu = (os.getProcessCpuTime() - cpu0) / 1e9;
      double instanceCpu = cpuSince(instance0, threadCpu(instance));
      double streamCpu = cpuSince(stream0, threadCpu(streamThread));
      double rocks = rocksDbCpu() - rocks0;
      streams.close(Duration.ofSeconds(60));
      return new Result(
          c,
          round,
          seen - first,
          secs,
          cpu,
          instanceCpu,
          streamCpu,
          rocks,
          changelogBytes(appId) / (double) expected);
    } finally {
      EmbeddedKafkaBroker.deleteRecursively(stateDir.resolve(appId));
    }
  }

  /**
   * Stepcast's metrics as served: bound to a Prometheus registry, meters built once and recorded
   * per event, so their cost counts as it does in production.
   */
  private ForecastMetrics servedMetrics() {
    FeaturePipeline outputs = new FeaturePipeline(spec);
    PipelineMetrics metrics =
        new PipelineMetrics(
            spec.name(), spec.intervals().levels(), outputs.targetNames(), outputs.horizons());
    metrics.bindTo(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    return metrics;
  }

  /**
   * Bytes the broker holds in the changelog topics of application {@code appId}: what its state
   * stores wrote, with Kafka's batch headers and transaction markers.
   */
  private long changelogBytes(String appId) throws Exception {
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      List<Integer> brokers = new ArrayList<>();
      admin.describeCluster().nodes().get().forEach(n -> brokers.add(n.id()));
      long bytes = 0;
      for (var dirs : admin.describeLogDirs(brokers).allDescriptions().get().values()) {
        for (var dir : dirs.values()) {
          for (var e : dir.replicaInfos().entrySet()) {
            String topic = e.getKey().topic();
            if (topic.startsWith(appId + "-") && topic.endsWith("-changelog")) {
              bytes += e.getValue().size();
            }
          }
        }
      }
      return bytes;
    }
  }

  /**
   * CPU seconds of RocksDB's native background threads (flushes, compactions), from {@code
   * /proc/self/task} (Linux; 0 elsewhere). The JVM does not see them, so only the process figure
   * includes them; they are shared by every store in the process, and runs are sequential.
   */
  static double rocksDbCpu() {
    long ticks = 0;
    try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/self/task"))) {
      for (Path t : tasks) {
        try {
          if (!Files.readString(t.resolve("comm")).startsWith("rocksdb")) {
            continue;
          }
          String stat = Files.readString(t.resolve("stat"));
          // Fields after the command name, which is in parentheses: state is field 3, utime 14.
          String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
          ticks += Long.parseLong(f[11]) + Long.parseLong(f[12]);
        } catch (IOException | RuntimeException e) {
          // the thread ended while we read it
        }
      }
    } catch (IOException e) {
      return 0;
    }
    return ticks / (double) CLOCK_TICKS;
  }

  /** CPU nanoseconds of each live thread whose name matches. */
  private Map<Long, Long> threadCpu(Predicate<String> name) {
    Map<Long, Long> out = new HashMap<>();
    for (ThreadInfo info : threads.getThreadInfo(threads.getAllThreadIds())) {
      if (info != null && name.test(info.getThreadName())) {
        long t = threads.getThreadCpuTime(info.getThreadId());
        if (t >= 0) {
          out.put(info.getThreadId(), t);
        }
      }
    }
    return out;
  }

  /** Seconds of CPU between two snapshots; a thread started in between counts from zero. */
  private static double cpuSince(Map<Long, Long> before, Map<Long, Long> after) {
    long sum = 0;
    for (Map.Entry<Long, Long> e : after.entrySet()) {
      sum += e.getValue() - before.getOrDefault(e.getKey(), 0L);
    }
    return sum / 1e9;
  }

  private Latency latency(ModelRegistry registry, Candidate c, double fraction, double rate)
      throws Exception {
    String tag = "lat" + Math.round(fraction * 100);
    String appId = applicationId(c, tag);
    String input = appId + "-in";
    String output = appId + "-out";
    createTopics(input, output);
    int events = (int) Math.max(100, Math.round(rate * options.latencySeconds()));
    // The first fifth of the events warms the topology up at the target rate; they do not count.
    int skip = events / 5;
    long[] latencies = new long[events - skip];
    try (KafkaConsumer<byte[], byte[]> consumer = outputConsumer(output);
        KafkaStreams streams =
            new KafkaStreams(
                topology(registry, c, input, output, servedMetrics()), streamsConfig(c, appId))) {
      streams.start();
      long wait = System.nanoTime() + Duration.ofMinutes(2).toNanos();
      while (streams.state() != KafkaStreams.State.RUNNING) {
        if (System.nanoTime() > wait) {
          throw new IllegalStateException(c.label() + " did not reach RUNNING in 2 minutes");
        }
        LockSupport.parkNanos(Duration.ofMillis(50).toNanos());
      }
      AtomicReference<Exception> failed = new AtomicReference<>();
      Thread producer =
          new Thread(() -> produceAtRate(input, events, rate, failed), "bench-rate-producer");
      producer.start();
      int seen = 0;
      int kept = 0;
      long deadline =
          System.nanoTime() + Duration.ofSeconds(options.latencySeconds() * 3L + 120).toNanos();
      while (seen < events) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(5))) {
          long now = System.currentTimeMillis();
          if (seen++ >= skip) {
            latencies[kept++] = now - r.timestamp();
          }
        }
        if (System.nanoTime() > deadline || failed.get() != null) {
          producer.interrupt();
          throw new IllegalStateException(
              c.label() + ": " + seen + " of " + events + " forecasts in the latency run",
              failed.get());
        }
      }
      producer.join();
      streams.close(Duration.ofSeconds(60));
      long[] l = Arrays.copyOf(latencies, kept);
      Arrays.sort(l);
      return new Latency(
          c, fraction, rate, kept, percentile(l, 0.50), percentile(l, 0.99), l[l.length - 1]);
    } finally {
      EmbeddedKafkaBroker.deleteRecursively(stateDir.resolve(appId));
    }
  }

  private static double percentile(long[] sorted, double p) {
    int i = (int) Math.ceil(p * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
  }

  private void produceAtRate(
      String topic, int events, double rate, AtomicReference<Exception> failed) {
    EventSource source = new EventSource();
    double intervalNanos = 1e9 / rate;
    try (KafkaProducer<String, byte[]> producer =
        new KafkaProducer<>(producerConfig(0), new StringSerializer(), new ByteArraySerializer())) {
      long start = System.nanoTime();
      for (int i = 0; i < events; i++) {
        long due = start + (long) (i * intervalNanos);
        long now;
        while ((now = System.nanoTime()) < due) {
          LockSupport.parkNanos(due - now);
        }
        if (Thread.currentThread().isInterrupted()) {
          return;
        }
        // The send time is the record's timestamp; Kafka Streams gives the forecast the same one.
        producer.send(
            new ProducerRecord<>(
                topic, null, System.currentTimeMillis(), source.key(i), source.value(i)));
      }
      producer.flush();
    } catch (RuntimeException e) {
      failed.set(e);
    }
  }
}
