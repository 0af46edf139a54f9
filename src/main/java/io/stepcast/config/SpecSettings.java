package io.stepcast.config;

import io.stepcast.config.TopologySpec.AnomalyPolicy;
import io.stepcast.config.TopologySpec.IntervalsOnSwap;
import io.stepcast.config.TopologySpec.MissingPolicy;
import io.stepcast.config.TopologySpec.OnSwap;
import io.stepcast.config.TopologySpec.SeriesIdSource;
import io.stepcast.config.TopologySpec.TargetTransform;
import io.stepcast.config.TopologySpec.TimeCalendar;
import io.stepcast.config.TopologySpec.TimestampFormat;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The one declaration of every stepcast setting, in the manner of Kafka's {@code
 * StreamsConfig.define(name, type, default, validator, doc)}: each topology spec field with its
 * default, validator and documentation ({@link #SPEC}), and every other environment variable
 * stepcast or its launcher reads ({@link #PROCESS}). {@link SpecLoader} takes the built-in
 * defaults, the environment variable names and the validation from here; the README's configuration
 * tables and {@code .ci/stepcast-env.txt} are generated from here (and tests fail when they are out
 * of date).
 *
 * <p>To add a spec field: add the component to the {@link TopologySpec} record and one {@code
 * define(...)} line here. Class initialisation fails when the two disagree.
 */
public final class SpecSettings {
  /** Environment variable prefix of every stepcast setting. */
  public static final String ENV_PREFIX = "STEPCAST_";

  /** Every spec setting, in the order of the documentation. */
  public static final List<Setting> SPEC =
      List.of(
          required(
              "name",
              Validator.matches(
                  "[a-z0-9][a-z0-9-]{0,62}",
                  "[a-z0-9-], ≤ 63",
                  "lowercase letters, digits and dashes, e.g. name: weather"),
              "pipeline name; the key of its models on the model topic"),
          define(
              "applicationId",
              "stepcast-{name}",
              Validator.notBlank("stepcast-weather"),
              "Kafka Streams application id (instances sharing it split the partitions)"),
          define("topics.input", "{name}-events", Validator.topicName(), "input topic"),
          define("topics.output", "{name}-forecasts", Validator.topicName(), "forecast topic"),
          define(
              "topics.deadLetter",
              "{name}-dead-letters",
              Validator.topicName(),
              "dead-letter topic (bad records with the reason in headers)"),
          define(
              "topics.model",
              "stepcast-models",
              Validator.topicName(),
              "compacted model topic (key = `PIPELINE/VERSION`, models up to 32 MiB; created and"
                  + " checked by stepcast)"),
          define(
              "topics.partitions",
              4,
              Validator.between(1, 10_000, "4"),
              "partitions of the topics stepcast creates (they bound the parallelism)"),
          define(
              "topics.replicationFactor",
              (short) 1,
              Validator.between(1, 32, "3 on a production cluster, 1 on a single broker"),
              "replicas of the topics stepcast creates; at most the number of brokers"),
          define(
              "seriesId.from",
              SeriesIdSource.KEY,
              Validator.ANY,
              "series id from the record key, or from a JSON field (then events are"
                  + " repartitioned by it)"),
          optional(
              "seriesId.field",
              Validator.notBlank("symbol"),
              "the JSON field that holds the series id (with seriesId.from: field)"),
          required("timestamp.field", Validator.notBlank("date"), "event-time field"),
          define(
              "timestamp.format",
              TimestampFormat.ISO,
              Validator.ANY,
              "how the event time is written"),
          optional(
              "timestamp.pattern",
              Validator.dateTimePattern(),
              "java.time pattern (with timestamp.format: pattern), e.g. MMM d yyyy"),
          define("timestamp.zone", "UTC", Validator.zone(), "zone of local (offset-less) times"),
          define(
              "timestamp.earliest",
              "1900-01-01T00:00:00Z",
              Validator.instantOrDate(),
              "an event before this time is dead-lettered as `out_of_range`"),
          define(
              "timestamp.maxAhead",
              "P1D",
              Validator.isoDuration(),
              "an event more than this ahead of the reading instance's clock is dead-lettered as"
                  + " `out_of_range`"),
          define(
              "timestamp.calendar",
              TimeCalendar.CONTINUOUS,
              Validator.ANY,
              "the series' time axis, which the times of forecasts several events ahead (horizons,"
                  + " `/series/{id}/forecast`) follow: `continuous`, or `business_days` (no"
                  + " Saturdays or Sundays in timestamp.zone, nor timestamp.holidays: Friday's next"
                  + " daily event is Monday's)"),
          define(
              "timestamp.holidays",
              List.of(),
              Validator.holidays(),
              "with timestamp.calendar: business_days, further days that do not exist on the"
                  + " series' time axis, as ISO dates in timestamp.zone, e.g. `['2026-12-25',"
                  + " '2027-01-01']`: forecast times skip them as they skip weekends"),
          define(
              "features",
              List.of(),
              Validator.ANY,
              "inputs besides the target: `- field: NAME` (numeric; optional `min`, `max`: outside"
                  + " them `out_of_range`), `- calendar:"
                  + " hour_of_day\\|day_of_week\\|day_of_year\\|month_of_year`, `- timeSincePrevious:"
                  + " true`, `- lag: N` (the target N events before the forecast one, 2..4096, at"
                  + " most model.ringBuffer; see Features)"),
          required("target.field", Validator.notBlank("temperature"), "the numeric field forecast"),
          define(
              "target.transform",
              TargetTransform.NONE,
              Validator.ANY,
              "what the model learns: the value, its difference, or its log return (trending"
                  + " series); forecasts are always in the target's units"),
          optional(
              "target.season",
              Validator.atLeast(2, "24 for hourly data with a daily cycle"),
              "season length in events; adds the seasonal-naive baseline"),
          optional(
              "target.min",
              Validator.finite("-90"),
              "smallest plausible target value; below it an event is `out_of_range`"),
          optional(
              "target.max",
              Validator.finite("70"),
              "largest plausible target value; above it an event is `out_of_range`"),
          define(
              "target.also",
              List.of(),
              Validator.ANY,
              "further targets the same model forecasts, after target.field in this order: `-"
                  + " field: NAME` with optional `transform`, `min`, `max`; each is an input too"
                  + " (not also a feature)"),
          define(
              "target.horizons",
              List.of(1),
              Validator.of(
                  "ascending from 1, ≤ " + SpecSettings.MAX_HORIZON,
                  v -> horizonsProblem((List<?>) v)),
              "events ahead each target is forecast, e.g. `[1, 6, 24]`: one model step forecasts"
                  + " them all; the forecast record carries each with the time it is for"),
          optional(
              "model.directory",
              Validator.notBlank("models/weather"),
              "watched for `*.onnx`: every file is a candidate (see Model lifecycle); write models"
                  + " atomically"),
          define("model.followTopic", true, Validator.ANY, "follow the model topic"),
          optional(
              "model.pin",
              Validator.notBlank("weather-20261130-1200"),
              "serve only this model version, whatever newer ones exist (a rollback); unset: the"
                  + " newest valid one"),
          define(
              "model.onSwap",
              OnSwap.BURN_IN,
              Validator.ANY,
              "a series made by an older model replays its recent inputs through the new one"
                  + " (`burn_in`) or restarts from zero (`reset`)"),
          define(
              "model.ringBuffer",
              32,
              Validator.between(0, 4096, "32"),
              "recent feature vectors kept per series for burn-in and `lag` features (store"
                  + " series-recent, one row per event); at least the largest lag"),
          define(
              "model.pollIntervalMs",
              2000L,
              Validator.atLeast(100, "2000"),
              "model directory polling interval"),
          define(
              "model.startupTimeoutMs",
              600_000L,
              Validator.atLeast(1000, "600000"),
              "how long `run` waits for a first valid model"),
          define(
              "policies.missing",
              MissingPolicy.REJECT,
              Validator.ANY,
              "a missing input value: `reject` (dead letter), `skip` (counted),"
                  + " `carry_forward` (last value; a missing target is skipped)"),
          define(
              "policies.anomaly",
              AnomalyPolicy.FLAG,
              Validator.ANY,
              "an actual outside the widest prediction interval of the forecast it scores:"
                  + " `flag` (marked in the forecast, stepped as usual), `hold` (marked; the"
                  + " network steps on the forecast instead), `dead_letter` (reason `anomaly`)"),
          define(
              "intervals.levels",
              List.of(0.8, 0.95),
              Validator.levels(),
              "nominal coverage of the prediction intervals on every forecast (the widest decides"
                  + " `anomaly`); `[]`: none"),
          define(
              "intervals.learningRate",
              0.05,
              Validator.interval(0, true, 1, true, "0.05"),
              "step size of the online calibration (adaptive conformal): larger adapts faster,"
                  + " with noisier widths"),
          define(
              "intervals.scaleEvents",
              32,
              Validator.between(1, 100_000, "32"),
              "memory, in events, of each series' running error scale that the widths scale with"),
          define(
              "intervals.warmUp",
              50,
              Validator.between(0, 1_000_000, "50"),
              "scored errors after which a series' intervals count as warm (and in the coverage"
                  + " metrics)"),
          define(
              "intervals.onSwap",
              IntervalsOnSwap.KEEP,
              Validator.ANY,
              "when a new model takes over a series: `keep` its interval calibration (the error"
                  + " scale restarts its running mean, so it follows the new model's errors at"
                  + " once) or `reset` it (no interval until the new model's first error)"),
          define(
              "intervals.swapWarmUp",
              20,
              Validator.between(0, 1_000_000, "20"),
              "forecasts of a new model scored (per output) before the series' intervals count as"
                  + " warm again after a swap"),
          define(
              "training.cell",
              "lstm",
              Validator.oneOf("lstm", "gru", "rnn"),
              "recurrent cell: `lstm`, `gru` or `rnn` (tanh, `h' = tanh(W x + U h + b)`)"),
          define("training.layers", 1, Validator.between(1, 8, "1"), "stacked recurrent layers"),
          define("training.hiddenSize", 32, Validator.between(1, 4096, "32"), "units per layer"),
          define(
              "training.dropout",
              0.0,
              Validator.interval(0, false, 1, true, "0.1"),
              "dropout between stacked layers while training (no effect with one layer)"),
          define(
              "training.learningRate",
              0.003,
              Validator.interval(0, true, 10, false, "0.003"),
              "Adam's step size (0.003: on a few years of daily data 0.01 made the result depend"
                  + " on the seed by several percent)"),
          define(
              "training.maxEpochs",
              40,
              Validator.between(1, 100_000, "40"),
              "upper bound on passes over the training data"),
          define(
              "training.chunkLength",
              64,
              Validator.between(1, 1_000_000, "64"),
              "truncated-BPTT window: gradients flow back at most this many steps (the state"
                  + " is carried across chunks)"),
          define(
              "training.gradientClip",
              1.0,
              Validator.interval(0, true, Double.POSITIVE_INFINITY, true, "1.0"),
              "maximum global L2 norm of the gradient of one update"),
          define(
              "training.patience",
              6,
              Validator.between(1, 100_000, "6"),
              "epochs without a better validation loss before training stops"),
          define(
              "training.validationFraction",
              0.2,
              Validator.interval(0, true, 0.9, true, "0.2"),
              "the last fraction of every series held out for validation and scoring"),
          define(
              "training.seed",
              42L,
              Validator.ANY,
              "seeds initialisation, batch order and dropout: same seed, same weights"),
          define(
              "training.loss",
              "mae",
              Validator.oneOf("mae", "mse", "huber"),
              "loss on scaled targets: mae learns the median, which the MAE every report and"
                  + " metric quotes rewards; mse the mean; huber (delta 1 standard deviation)"
                  + " between the two"),
          define(
              "training.burnIn",
              16,
              Validator.between(0, 100_000, "16"),
              "events a series is stepped before its forecasts count (training and serving)"),
          optional(
              "training.arOrder",
              Validator.between(1, 400, "14"),
              "order p of the AR(p) baseline in the training report; unset: chosen by AIC on the"
                  + " training parts (and reported)"),
          define(
              "training.testFraction",
              0.1,
              Validator.interval(0, false, 0.9, true, "0.1"),
              "the last fraction of every series held out as the test part, after the validation"
                  + " part: never trained on nor used to pick the epoch; the promotion gate compares"
                  + " on it (0: no test part)"),
          define(
              "training.ensemble",
              1,
              Validator.between(1, 16, "3"),
              "networks trained from seeds seed, seed+1, ... and exported as one network that"
                  + " averages them (a wider, block-diagonal cell: the same step contract; serving"
                  + " costs grow with the total width)"),
          define(
              "execution.provider",
              "cpu",
              Validator.oneOf("cpu", "cuda"),
              "ONNX Runtime execution provider (see CUDA)"),
          define(
              "execution.fallbackToCpu",
              true,
              Validator.ANY,
              "run on the CPU when CUDA cannot start (else refuse to start)"),
          define(
              "execution.cudaDeviceId",
              0,
              Validator.between(0, 255, "0 (the first GPU; nvidia-smi -L lists them)"),
              "CUDA device index"),
          define(
              "execution.intraOpThreads",
              1,
              Validator.between(1, 256, "1 (at most one per core)"),
              "ONNX Runtime threads per step call"),
          define(
              "processing.guarantee",
              "exactly_once_v2",
              Validator.oneOf("exactly_once_v2", "at_least_once"),
              "Kafka Streams processing guarantee"),
          define(
              "processing.numStreamThreads",
              1,
              Validator.between(1, 256, "1 (at most one per core and per partition)"),
              "Kafka Streams threads of this instance"),
          define(
              "processing.standbyReplicas",
              0,
              Validator.between(0, 32, "1"),
              "warm copies of each state store on other instances (faster failover)"),
          define(
              "processing.commitIntervalMs",
              100L,
              Validator.between(1, 3_600_000, "100"),
              "Kafka Streams commit interval (the latency of exactly-once output)"),
          define(
              "processing.rocksdbMemoryMb",
              128,
              Validator.between(0, 1_048_576, "128 (0: RocksDB's unbounded per-store defaults)"),
              "native memory of all RocksDB state stores of the instance together, in MiB: one"
                  + " block cache with index and filter blocks, charged with the memtables"
                  + " (0: RocksDB's unbounded per-store defaults)"),
          define(
              "processing.rocksdbWriteBufferMb",
              64,
              Validator.between(1, 1_048_576, "half of processing.rocksdbMemoryMb"),
              "the memtables' part of processing.rocksdbMemoryMb, in MiB"),
          define(
              "processing.cacheMaxBytes",
              10_485_760L,
              Validator.between(0, 1L << 40, "10485760 (0: no cache)"),
              "record cache of the Kafka Streams threads (Kafka's statestore.cache.max.bytes); in"
                  + " front of the series state store only when processing.batchSize is 1 (a"
                  + " series seen several times per commit is then written to RocksDB and its"
                  + " changelog once) and, with batching, sizing the processor's write-back of"
                  + " stepped states; 0: none (batching keeps 1 MiB for its commit hook)"),
          define(
              "processing.batchSize",
              64,
              Validator.between(1, 1024, "64, or 1 (no batching)"),
              "the most series stepped in one ONNX Runtime call; above 1, events of different"
                  + " series are held back and stepped together, at the latest just before each"
                  + " commit (then the series state store has no record cache); 1: one call per"
                  + " event"),
          optional(
              "csv.keyColumn",
              Validator.notBlank("symbol"),
              "the CSV column that keys rows, for `replay` and `train --csv`"),
          optional(
              "csv.key",
              Validator.notBlank("seattle"),
              "a constant key, when the CSV file holds one series"));

  /** The furthest horizon a spec may name, in events. */
  public static final int MAX_HORIZON = 1000;

  /** The most outputs (targets times horizons) a spec may name. */
  public static final int MAX_OUTPUTS = 256;

  private static Validator.Problem horizonsProblem(List<?> horizons) {
    String fix = "give ascending event counts starting with 1, e.g. target.horizons: [1, 6, 24]";
    if (horizons.isEmpty()) {
      return new Validator.Problem("is empty", fix);
    }
    int previous = 0;
    for (Object o : horizons) {
      if (!(o instanceof Integer h)) {
        return new Validator.Problem("holds '" + o + "', not a whole number", fix);
      }
      if (previous == 0 && h != 1) {
        return new Validator.Problem(
            "starts with " + h + ", not 1 (the next event is always forecast and scored)", fix);
      }
      if (h <= previous) {
        return new Validator.Problem(
            "is not strictly ascending (" + h + " after " + previous + ")", fix);
      }
      if (h > MAX_HORIZON) {
        return new Validator.Problem("holds " + h + ", more than " + MAX_HORIZON + " events", fix);
      }
      previous = h;
    }
    return null;
  }

  /** Prefix of the variables that become Kafka client properties ({@link ClientProperties}). */
  public static final String CLIENT_PREFIX = ClientProperties.PREFIX;

  /**
   * An environment variable stepcast reads that is not a spec field.
   *
   * @param name the variable
   * @param flag the command-line option it stands for, or empty
   * @param defaultText the default, as documented
   * @param doc what it does
   */
  public record EnvVariable(String name, String flag, String defaultText, String doc) {}

  /** Every variable besides the spec fields: command-line options, logging, the launcher. */
  public static final List<EnvVariable> PROCESS =
      List.of(
          new EnvVariable(
              "STEPCAST_TOPOLOGY", "--topology", "topologies/weather.yaml", "topology spec file"),
          new EnvVariable(
              "STEPCAST_BOOTSTRAP_SERVERS",
              "--bootstrap-servers",
              "—",
              "Kafka bootstrap servers, HOST:PORT[,HOST:PORT]; `run` without it starts an"
                  + " embedded broker"),
          new EnvVariable(
              "STEPCAST_STATE_DIR",
              "--state-dir",
              "data/state",
              "Kafka Streams state directory (RocksDB; a volume); must be writable"),
          new EnvVariable(
              "STEPCAST_HTTP_PORT",
              "--http-port",
              "8080",
              "HTTP port of /metrics, /health and /series (0: any free port)"),
          new EnvVariable(
              "STEPCAST_HTTP_BIND_ADDRESS",
              "--http-bind-address",
              "every interface",
              "address the HTTP server listens on, e.g. `127.0.0.1` for local use only"),
          new EnvVariable(
              "STEPCAST_HTTP_TOKEN_FILE",
              "--http-token-file",
              "—",
              "file holding the bearer token that /series then requires (`Authorization: Bearer"
                  + " <token>`); /health and /metrics stay open"),
          new EnvVariable(
              "STEPCAST_HTTP_TOKEN",
              "",
              "—",
              "the bearer token itself, instead of a file (deliberately no option: a command line"
                  + " is visible to every user of the machine)"),
          new EnvVariable(
              "STEPCAST_APPLICATION_SERVER",
              "--application-server",
              "—",
              "`host:port` at which other instances reach this one's state API"),
          new EnvVariable(
              "STEPCAST_MODEL_DIR",
              "--model-dir",
              "—",
              "watch this directory for models (overrides model.directory)"),
          new EnvVariable(
              "STEPCAST_GROUP_INSTANCE_ID",
              "--group-instance-id",
              "auto",
              "static group membership of `run`: `auto` (an id written once into the state"
                  + " directory), `none`, or the id itself (the chart: the pod name)"),
          new EnvVariable(
              "STEPCAST_LOG_LEVEL", "", "INFO", "log level of stepcast's own loggers (logback)"),
          new EnvVariable(
              "STEPCAST_TORCH_THREADS",
              "",
              "1",
              "PyTorch threads of the trainer (read by the `./stepcast` launcher)"),
          new EnvVariable(
              CLIENT_PREFIX + "*",
              "",
              "—",
              "Kafka client property `<name>` with `_` → `.`:"
                  + " `STEPCAST_KAFKA_SECURITY_PROTOCOL=SASL_SSL`,"
                  + " `STEPCAST_KAFKA_SASL_JAAS_CONFIG=...`, `STEPCAST_KAFKA_COMPRESSION_TYPE=zstd`,"
                  + " `STEPCAST_KAFKA_GROUP_INSTANCE_ID=pod-0` (static membership)"));

  /**
   * Variables Kubernetes sets for a Service named {@code stepcast...} when service links are on
   * ({@code STEPCAST_SERVICE_HOST}, {@code STEPCAST_PORT_8080_TCP_ADDR}, ...): not settings, never
   * errors.
   */
  private static final Pattern SERVICE_LINK =
      Pattern.compile(
          "STEPCAST(_[A-Z0-9_]+)?_(SERVICE_HOST|SERVICE_PORT(_[A-Z0-9_]+)?"
              + "|PORT_[0-9]+_(TCP|UDP|SCTP)(_PROTO|_PORT|_ADDR)?)");

  private static final Pattern SERVICE_LINK_PORT = Pattern.compile("STEPCAST(_[A-Z0-9_]+)?_PORT");

  private static final Map<String, Setting> BY_PATH = new LinkedHashMap<>();

  static {
    for (Setting s : SPEC) {
      if (BY_PATH.put(s.path(), s) != null) {
        throw new IllegalStateException("setting " + s.path() + " is declared twice");
      }
    }
    List<String> undeclared = new ArrayList<>();
    leaves(TopologySpec.class, "", undeclared);
    undeclared.removeAll(BY_PATH.keySet());
    if (!undeclared.isEmpty()) {
      throw new IllegalStateException(
          "TopologySpec fields without a declaration in SpecSettings.SPEC: "
              + undeclared
              + "; add a define(path, default, validator, doc) line for each");
    }
  }

  private SpecSettings() {}

  private static Setting define(String path, Object dflt, Validator v, String doc) {
    return new Setting(path, Setting.Presence.DEFAULT, dflt, v, doc);
  }

  private static Setting required(String path, Validator v, String doc) {
    return new Setting(path, Setting.Presence.REQUIRED, null, v, doc);
  }

  private static Setting optional(String path, Validator v, String doc) {
    return new Setting(path, Setting.Presence.OPTIONAL, null, v, doc);
  }

  private static void leaves(Class<?> type, String prefix, List<String> out) {
    for (RecordComponent c : type.getRecordComponents()) {
      String path = prefix.isEmpty() ? c.getName() : prefix + "." + c.getName();
      if (isSection(c)) {
        leaves(c.getType(), path, out);
      } else {
        out.add(path);
      }
    }
  }

  /** Whether a record component is a section (a nested record), not a setting. */
  static boolean isSection(RecordComponent c) {
    return c.getType().isRecord() && !(c.getGenericType() instanceof ParameterizedType);
  }

  /** The setting at {@code path}, if declared. */
  public static Optional<Setting> byPath(String path) {
    return Optional.ofNullable(BY_PATH.get(path));
  }

  /** The setting that {@code envName} overrides, if any. */
  public static Optional<Setting> byEnvName(String envName) {
    return SPEC.stream().filter(s -> s.envName().equals(envName)).findFirst();
  }

  /** The settings under section {@code prefix} (e.g. {@code training}), in declaration order. */
  public static List<Setting> section(String prefix) {
    return SPEC.stream().filter(s -> s.path().startsWith(prefix + ".")).toList();
  }

  /**
   * Every variable name stepcast documents, in order: the spec fields' then {@link #PROCESS} (the
   * client prefix written {@code STEPCAST_KAFKA_*}).
   */
  public static Set<String> documentedNames() {
    Set<String> out = new TreeSet<>();
    SPEC.forEach(s -> out.add(s.envName()));
    PROCESS.forEach(p -> out.add(p.name()));
    return out;
  }

  /**
   * Whether {@code name} is a variable stepcast reads or tolerates: a spec field, a process
   * variable, a Kafka client property, or one Kubernetes sets for a Service.
   *
   * @param value its value (a Kubernetes {@code STEPCAST_PORT} is {@code tcp://...})
   */
  static boolean isKnown(String name, String value) {
    if (name.startsWith(CLIENT_PREFIX) && name.length() > CLIENT_PREFIX.length()) {
      return true;
    }
    if (SERVICE_LINK.matcher(name).matches()) {
      return true;
    }
    if (SERVICE_LINK_PORT.matcher(name).matches()
        && value != null
        && value.matches("(tcp|udp|sctp)://.*")) {
      return true;
    }
    return documentedNames().contains(name);
  }
}
