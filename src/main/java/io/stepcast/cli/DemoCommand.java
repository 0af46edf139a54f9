package io.stepcast.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.stepcast.config.SpecLoader;
import io.stepcast.config.TopologySpec;
import io.stepcast.features.Event;
import io.stepcast.features.FeaturePipeline;
import io.stepcast.kafka.Csv;
import io.stepcast.kafka.EmbeddedKafkaBroker;
import io.stepcast.model.ExecutionConfig;
import io.stepcast.model.StepModel;
import io.stepcast.serve.ForecastService;
import io.stepcast.train.Accuracy;
import io.stepcast.train.Baselines;
import io.stepcast.train.ServingReplay;
import io.stepcast.train.TrainConfig;
import io.stepcast.train.TrainingData;
import io.stepcast.train.TrainingListener;
import io.stepcast.train.TrainingReport;
import io.stepcast.train.TrainingRun;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code stepcast demo}: the whole system on the sample data in one command. For each pipeline it
 * trains on the first part of every series, exports the model, starts a forecaster on an embedded
 * broker, streams the rest of the events through it, and compares the live forecasts with the
 * persistence, seasonal-naive and linear autoregressive forecasts of the same events.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = {
      "Trains on the first part of the sample data, streams the rest through a live forecaster on an"
          + " embedded Kafka broker, prints the live error next to the persistence forecast's, and"
          + " writes a chart of forecast against actual (out/demo-PIPELINE.html)."
    })
final class DemoCommand implements Callable<Integer> {

  /** The sample file of each shipped pipeline. */
  static final Map<String, String> SAMPLES =
      Map.of(
          "weather",
          "seattle-weather-hourly-normals.csv",
          "stocks",
          "stocks.csv",
          "weather-daily",
          "weather-daily.csv",
          "sp500",
          "sp500-daily.csv");

  /** The unit of each sample's target, for the chart's axis (the spec has no unit field). */
  static final Map<String, String> UNITS =
      Map.of("weather", "°C", "stocks", "USD", "weather-daily", "°C", "sp500", "points");

  @Option(
      names = "--pipelines",
      split = ",",
      defaultValue = "weather,stocks",
      description =
          "Pipelines to run (topologies/NAME.yaml with its sample): weather, stocks, weather-daily,"
              + " sp500. Default: ${DEFAULT-VALUE}")
  List<String> pipelines;

  @Option(
      names = "--topologies",
      defaultValue = "topologies",
      description = "Spec directory. Default: ${DEFAULT-VALUE}")
  Path topologies;

  @Option(
      names = "--samples",
      defaultValue = "samples",
      description = "Sample data directory. Default: ${DEFAULT-VALUE}")
  Path samples;

  @Option(
      names = "--train-fraction",
      defaultValue = "0.7",
      description =
          "Part of each series to train on; the rest is streamed. Default: ${DEFAULT-VALUE}")
  double trainFraction;

  @Option(
      names = "--epochs",
      description = "Maximum epochs (default: the spec's training.maxEpochs).")
  Integer epochs;

  @Option(
      names = "--warm-up",
      description =
          "Events before the split streamed first (not scored) so each series' state is warm."
              + " Default: the spec's training.burnIn")
  Integer warmUp;

  @Option(
      names = "--out",
      defaultValue = "out",
      description = "Charts and models go here. Default: ${DEFAULT-VALUE}")
  Path out;

  @Option(
      names = "--work-dir",
      defaultValue = "data/demo",
      description =
          "Scratch directory for the broker and the state stores, emptied at the start and deleted"
              + " at the end. Default: ${DEFAULT-VALUE}")
  Path workDir;

  @Option(
      names = {"-b", "--bootstrap-servers"},
      description = "Use this cluster instead of an embedded broker.")
  String bootstrapServers;

  @Option(
      names = "--timeout",
      defaultValue = "PT3M",
      description = "Longest wait for the forecasts of one pipeline. Default: ${DEFAULT-VALUE}")
  Duration timeout;

  @Option(
      names = "--keep-running",
      description = "Leave the forecasters serving (HTTP API) until Ctrl-C.")
  boolean keepRunning;

  @Override
  public Integer call() throws Exception {
    long start = System.nanoTime();
    PrintStream con = System.out;
    System.setProperty("ai.djl.pytorch.num_threads", "1");
    System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
    List<TopologySpec> specs = new ArrayList<>();
    List<Path> files = new ArrayList<>();
    for (String name : pipelines) {
      Path spec = topologies.resolve(name + ".yaml");
      String sample = SAMPLES.get(name);
      if (sample == null) {
        throw new UserException(
            "no sample data for pipeline '" + name + "'; the demo knows " + SAMPLES.keySet());
      }
      Path csv = samples.resolve(sample);
      if (!Files.isRegularFile(csv)) {
        throw new UserException(
            "sample file "
                + csv
                + " not found; run the demo from the project directory or pass --samples DIR");
      }
      specs.add(SpecLoader.load(spec));
      files.add(csv);
    }
    Path work = prepareWorkDir(workDir);
    EmbeddedKafkaBroker broker = null;
    List<ForecastService> services = new ArrayList<>();
    boolean handedToHook = false;
    try {
      String bootstrap = bootstrapServers;
      if (bootstrap == null || bootstrap.isBlank()) {
        broker = EmbeddedKafkaBroker.start(work.resolve("kafka"));
        bootstrap = broker.bootstrapServers();
        con.printf(
            Locale.ROOT,
            "embedded Kafka broker at %s (data in %s, started in %.1f s)%n",
            bootstrap,
            work.resolve("kafka"),
            broker.startupDuration().toMillis() / 1000.0);
      }
      Settings settings = new Settings(trainFraction, epochs, warmUp, out, timeout);
      List<Outcome> outcomes = new ArrayList<>();
      for (int i = 0; i < specs.size(); i++) {
        Outcome o = runPipeline(specs.get(i), files.get(i), settings, bootstrap, work, con);
        outcomes.add(o);
        if (keepRunning) {
          services.add(o.service());
        } else {
          o.service().close();
        }
      }
      con.println();
      con.println(
          "summary (live MAE on held-out events: the model vs the seasonal-naive and persistence"
              + " forecasts of the same events):");
      for (Outcome o : outcomes) {
        con.println("  " + summaryLine(o));
      }
      con.printf(Locale.ROOT, "demo finished in %.1f s%n", (System.nanoTime() - start) / 1e9);
      if (keepRunning) {
        for (Outcome o : outcomes) {
          con.printf(
              Locale.ROOT,
              "%s keeps serving: http://localhost:%d/metrics, /health/ready, /series/ID; input topic %s"
                  + " on %s%n",
              o.pipeline(),
              o.service().httpPort(),
              o.inputTopic(),
              bootstrap);
        }
        con.println("press Ctrl-C to stop");
        CountDownLatch stop = new CountDownLatch(1);
        handedToHook = true;
        EmbeddedKafkaBroker b = broker;
        Runtime.getRuntime()
            .addShutdownHook(
                new Thread(
                    () -> {
                      services.forEach(ForecastService::close);
                      if (b != null) {
                        b.close();
                      }
                      deleteQuietly(work);
                      stop.countDown();
                    },
                    "stepcast-demo-shutdown"));
        stop.await();
      }
      return 0;
    } finally {
      if (!handedToHook) {
        services.forEach(ForecastService::close);
        if (broker != null) {
          broker.close();
        }
        deleteQuietly(work);
      }
    }
  }

  /** Options of one pipeline's run. */
  record Settings(
      double trainFraction, Integer epochs, Integer warmUp, Path out, Duration timeout) {}

  /** Live figures of one series (or all, with id {@code (all)}). */
  record Live(
      String id,
      long forecasts,
      double liveMae,
      double liveRmse,
      double persistenceMae,
      double seasonalMae,
      double arMae) {}

  /** What one pipeline's run showed; the caller closes the service. */
  record Outcome(
      String pipeline,
      String version,
      String inputTopic,
      List<Live> series,
      Live overall,
      long deadLetters,
      double maxOfflineDiff,
      Path chart,
      TrainingReport report,
      ForecastService service) {}

  /** Trains, serves, streams and scores one pipeline. */
  static Outcome runPipeline(
      TopologySpec spec, Path csv, Settings s, String bootstrap, Path work, PrintStream con)
      throws Exception {
    long t0 = System.nanoTime();
    con.println();
    con.println("== " + spec.name() + ": " + csv);
    FeaturePipeline pipeline = new FeaturePipeline(spec);
    TrainingData all;
    try {
      all = TrainingData.fromCsv(spec, csv);
    } catch (Csv.FormatException e) {
      throw new UserException(e.getMessage());
    }
    TrainCommand.printCounts(con, all);
    TrainingData head = all.head(s.trainFraction(), pipeline);
    TrainConfig cfg = TrainingRun.config(spec, null, s.epochs());
    String version = TrainingRun.version(spec, Clock.systemUTC());
    con.printf(
        Locale.ROOT,
        "training %s %dx%d on the first %.0f%% of each series (%d events; the trainer holds out its"
            + " last %.0f%% for early stopping)%n",
        cfg.cell().id(),
        cfg.layers(),
        cfg.hiddenSize(),
        100 * s.trainFraction(),
        head.events(),
        100 * cfg.validationFraction());
    ProgressBar bar = new ProgressBar(System.err, "train " + spec.name());
    TrainingListener listener =
        (epoch, max, loss, val, improved) ->
            bar.update(epoch, max, String.format(Locale.ROOT, "loss %.5f val %.5f", loss, val));
    TrainingRun.Result result;
    try {
      result = TrainingRun.run(spec, head, cfg, version, listener);
    } finally {
      bar.done();
    }
    TrainCommand.printReport(con, result.report());
    // The live table compares with the AR order the trainer reported (the spec's, or AIC's).
    int arOrder = result.report().arOrder();
    Path modelDir = s.out().resolve("models").resolve(spec.name());
    TrainCommand.write(modelDir, result, con);

    Path stateDir = work.resolve("state").resolve(spec.name());
    ForecastService service =
        ForecastService.start(
            new ForecastService.Options(spec, bootstrap, stateDir, 0, null, modelDir, Map.of()));
    boolean ok = false;
    try {
      // What to stream: per series the last warm-up events of the training part (not scored),
      // then every held-out event.
      int warm = s.warmUp() != null ? s.warmUp() : spec.training().burnIn();
      List<Stream> streams = new ArrayList<>();
      long total = 0;
      for (int i = 0; i < all.series().size(); i++) {
        TrainingData.Series full = all.series().get(i);
        int split = head.series().get(i).length();
        int from = Math.max(0, split - warm);
        streams.add(new Stream(full, from, split));
        total += full.length() - from;
      }
      long heldOut = streams.stream().mapToLong(x -> x.series().length() - x.split()).sum();
      con.printf(
          Locale.ROOT,
          "forecaster started (model %s, HTTP port %d); streaming %d events (%d held-out, %d"
              + " warm-up) to %s%n",
          version,
          service.httpPort(),
          total,
          heldOut,
          total - heldOut,
          spec.topics().input());
      Map<String, Map<Long, JsonNode>> forecasts = new HashMap<>();
      long deadLetters = streamAndCollect(spec, bootstrap, streams, total, s.timeout(), forecasts);
      long received = forecasts.values().stream().mapToLong(Map::size).sum();
      con.printf(
          Locale.ROOT,
          "received %d forecasts and %d dead letters (%.1f s since training started)%n",
          received,
          deadLetters,
          (System.nanoTime() - t0) / 1e9);

      // Score the live forecasts; compute the baselines for the same events offline, and check
      // that the live forecasts are what the exported model gives offline.
      List<Live> rows = new ArrayList<>();
      List<DemoChart.Series> charts = new ArrayList<>();
      Accuracy.Sum liveAll = new Accuracy.Sum();
      Accuracy.Sum persistAll = new Accuracy.Sum();
      Accuracy.Sum seasonalAll = new Accuracy.Sum();
      Accuracy.Sum arAll = new Accuracy.Sum();
      double maxDiff = 0;
      Integer season = spec.target().season();
      DemoCoverage coverage = new DemoCoverage(spec.intervals().levels());
      try (StepModel model = StepModel.load(result.onnx(), ExecutionConfig.cpu())) {
        for (Stream st : streams) {
          TrainingData.Series full = st.series();
          Map<Long, JsonNode> live = forecasts.getOrDefault(full.id(), Map.of());
          List<Event> streamed = full.events().subList(st.from(), full.length());
          double[] offline = ServingReplay.forecasts(model, spec, streamed);
          for (int k = 0; k < streamed.size(); k++) {
            JsonNode f = live.get(streamed.get(k).timeMillis());
            if (f != null) {
              maxDiff = Math.max(maxDiff, Math.abs(f.get("forecast").asDouble() - offline[k]));
            } else {
              maxDiff = Double.POSITIVE_INFINITY;
            }
          }
          var rowsOf = full.rows();
          Baselines.LinearAr ar = Baselines.LinearAr.fit(rowsOf, st.split() - 1, arOrder);
          Accuracy.Sum liveSum = new Accuracy.Sum();
          Accuracy.Sum persist = new Accuracy.Sum();
          Accuracy.Sum seasonal = new Accuracy.Sum();
          Accuracy.Sum arSum = new Accuracy.Sum();
          int n = full.length() - st.split();
          long[] times = new long[n];
          double[] actual = new double[n];
          double[] predicted = new double[n];
          double[] persisted = new double[n];
          double[] seasonalNaive = season == null ? null : new double[n];
          for (int e = st.split(); e < full.length(); e++) {
            int k = e - st.split();
            times[k] = full.events().get(e).timeMillis();
            actual[k] = rowsOf.targets()[e];
            JsonNode f = live.get(times[k]);
            JsonNode pf = f == null ? null : f.get("previousForecast");
            predicted[k] = pf == null || pf.isNull() ? Double.NaN : pf.asDouble();
            coverage.add(live.get(full.events().get(e - 1).timeMillis()), actual[k], f);
            persisted[k] = Baselines.persistence(rowsOf, e - 1);
            if (season != null) {
              seasonalNaive[k] = Baselines.seasonalNaive(rowsOf, e - 1, season);
            }
            if (Double.isNaN(predicted[k])) {
              continue;
            }
            // The same events for every forecaster: those the live model forecast.
            liveSum.add(actual[k] - predicted[k]);
            persist.add(actual[k] - persisted[k]);
            if (season != null) {
              seasonal.add(actual[k] - seasonalNaive[k]);
            }
            arSum.add(actual[k] - ar.forecast(rowsOf, e - 1, pipeline));
          }
          Live row = live(full.id(), liveSum, persist, season == null ? null : seasonal, arSum);
          rows.add(row);
          liveAll.add(liveSum);
          persistAll.add(persist);
          seasonalAll.add(seasonal);
          arAll.add(arSum);
          charts.add(
              new DemoChart.Series(
                  full.id(),
                  times,
                  actual,
                  predicted,
                  persisted,
                  seasonalNaive,
                  season == null ? 0 : season,
                  axis(spec),
                  String.format(
                      Locale.ROOT,
                      "%d held-out events, MAE in %s: live model %.4f%s, persistence %.4f (model"
                          + " %s), linear AR(%d) %.4f",
                      row.forecasts(),
                      unit(spec),
                      row.liveMae(),
                      season == null
                          ? ""
                          : String.format(
                              Locale.ROOT,
                              ", seasonal-naive %.4f (model %s)",
                              row.seasonalMae(),
                              change(row.liveMae(), row.seasonalMae())),
                      row.persistenceMae(),
                      change(row.liveMae(), row.persistenceMae()),
                      arOrder,
                      row.arMae())));
        }
      }
      Live overall = live("(all)", liveAll, persistAll, season == null ? null : seasonalAll, arAll);
      printLive(con, spec, rows, overall, season != null, arOrder, forecasts, deadLetters);
      con.println(coverage.describe());
      con.printf(
          Locale.ROOT,
          "serving check: live forecasts vs the exported model run offline over the same events:"
              + " max |diff| %.2e%n",
          maxDiff);
      Files.createDirectories(s.out());
      Path chart = s.out().resolve("demo-" + spec.name() + ".html");
      String intro =
          String.format(
              Locale.ROOT,
              "stepcast demo, pipeline %s: model %s (%s %dx%d) trained on the first %.0f%% of each"
                  + " series, then the rest streamed through a live forecaster on Kafka. Each point"
                  + " compares the %s with the forecast the forecaster made one event earlier, and"
                  + " with the baselines it is scored against: persistence (the last value)%s."
                  + " Overall live MAE %.4f%s, persistence %.4f.",
              spec.name(),
              version,
              cfg.cell().id(),
              cfg.layers(),
              cfg.hiddenSize(),
              100 * s.trainFraction(),
              spec.target().field(),
              season == null ? "" : " and seasonal-naive (the value " + season + " events earlier)",
              overall.liveMae(),
              season == null
                  ? ""
                  : String.format(Locale.ROOT, ", seasonal-naive %.4f", overall.seasonalMae()),
              overall.persistenceMae());
      TrainCommand.atomicWrite(
          chart,
          DemoChart.page("stepcast demo: " + spec.name(), intro, charts)
              .getBytes(StandardCharsets.UTF_8));
      con.println("chart: " + chart.toAbsolutePath());
      ok = true;
      return new Outcome(
          spec.name(),
          version,
          spec.topics().input(),
          rows,
          overall,
          deadLetters,
          maxDiff,
          chart,
          result.report(),
          service);
    } finally {
      if (!ok) {
        service.close();
      }
    }
  }

  /** The chart's y axis: the target and its unit. */
  private static String axis(TopologySpec spec) {
    return spec.target().field() + " (" + unit(spec) + ")";
  }

  private static String unit(TopologySpec spec) {
    return UNITS.getOrDefault(spec.name(), spec.target().field() + "'s units");
  }

  /** One series' events to stream: {@code [from, length)}, held out from {@code split}. */
  private record Stream(TrainingData.Series series, int from, int split) {}

  private static Live live(
      String id, Accuracy.Sum live, Accuracy.Sum persist, Accuracy.Sum seasonal, Accuracy.Sum ar) {
    Accuracy l = live.accuracy();
    return new Live(
        id,
        l.count(),
        l.mae(),
        l.rmse(),
        persist.accuracy().mae(),
        seasonal == null ? Double.NaN : seasonal.accuracy().mae(),
        ar.accuracy().mae());
  }

  private static void printLive(
      PrintStream con,
      TopologySpec spec,
      List<Live> rows,
      Live overall,
      boolean seasonal,
      int arOrder,
      Map<String, Map<Long, JsonNode>> forecasts,
      long deadLetters) {
    con.println(
        "live accuracy on the held-out events, in "
            + spec.target().field()
            + "'s units ("
            + deadLetters
            + " dead letters):");
    List<String[]> table = new ArrayList<>();
    List<String> head =
        new ArrayList<>(List.of("series", "forecasts", "live MAE", "RMSE", "persist MAE"));
    if (seasonal) {
      head.add("seasonal MAE");
    }
    head.add("AR(" + arOrder + ") MAE");
    if (seasonal) {
      head.add("live vs seasonal");
    }
    head.add("live vs persist");
    table.add(head.toArray(new String[0]));
    List<Live> all = new ArrayList<>(rows);
    all.add(overall);
    for (Live r : all) {
      List<String> cells = new ArrayList<>();
      cells.add(r.id());
      cells.add(Long.toString(r.forecasts()));
      cells.add(String.format(Locale.ROOT, "%.4f", r.liveMae()));
      cells.add(String.format(Locale.ROOT, "%.4f", r.liveRmse()));
      cells.add(String.format(Locale.ROOT, "%.4f", r.persistenceMae()));
      if (seasonal) {
        cells.add(String.format(Locale.ROOT, "%.4f", r.seasonalMae()));
      }
      cells.add(String.format(Locale.ROOT, "%.4f", r.arMae()));
      if (seasonal) {
        cells.add(change(r.liveMae(), r.seasonalMae()));
      }
      cells.add(change(r.liveMae(), r.persistenceMae()));
      table.add(cells.toArray(new String[0]));
    }
    con.print(TrainingReport.format(table));
    Map<String, Long> versions = new LinkedHashMap<>();
    forecasts
        .values()
        .forEach(
            m -> m.values().forEach(f -> versions.merge(f.get("model").asText(), 1L, Long::sum)));
    con.println("forecasts by model version: " + versions);
  }

  /** One pipeline's line of the summary: the model against each baseline, and where it went. */
  static String summaryLine(Outcome o) {
    Live a = o.overall();
    String seasonal =
        Double.isNaN(a.seasonalMae())
            ? "seasonal-naive -  (no target.season)"
            : String.format(
                Locale.ROOT,
                "seasonal-naive %.4f (%s)",
                a.seasonalMae(),
                change(a.liveMae(), a.seasonalMae()));
    return String.format(
        Locale.ROOT,
        "%-8s model %.4f  %s  persistence %.4f (%s)  %d forecasts, %d dead letters  chart %s",
        o.pipeline(),
        a.liveMae(),
        seasonal,
        a.persistenceMae(),
        change(a.liveMae(), a.persistenceMae()),
        a.forecasts(),
        o.deadLetters(),
        o.chart());
  }

  static String change(double value, double reference) {
    if (!Double.isFinite(value) || !Double.isFinite(reference) || reference == 0) {
      return "-";
    }
    return String.format(Locale.ROOT, "%+.1f%%", 100 * (value - reference) / reference);
  }

  /**
   * Sends the streams' records to the input topic (keyed as the replay keys them) and reads the
   * output and dead-letter topics until every event has a forecast or a dead letter. Returns the
   * number of dead letters; fills {@code out} by series and event time.
   */
  private static long streamAndCollect(
      TopologySpec spec,
      String bootstrap,
      List<Stream> streams,
      long total,
      Duration timeout,
      Map<String, Map<Long, JsonNode>> out)
      throws Exception {
    ObjectMapper json = new ObjectMapper();
    Map<String, Object> cp = new HashMap<>(CommonOptions.clientProperties());
    cp.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    cp.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    cp.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    Map<String, Object> pp = new HashMap<>(CommonOptions.clientProperties());
    pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    pp.put(ProducerConfig.ACKS_CONFIG, "all");
    pp.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    pp.put(ProducerConfig.LINGER_MS_CONFIG, 5);
    long deadLetters = 0;
    try (KafkaConsumer<byte[], byte[]> consumer =
            new KafkaConsumer<>(cp, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        KafkaProducer<byte[], byte[]> producer =
            new KafkaProducer<>(pp, new ByteArraySerializer(), new ByteArraySerializer())) {
      List<TopicPartition> parts = new ArrayList<>();
      for (String topic : List.of(spec.topics().output(), spec.topics().deadLetter())) {
        for (PartitionInfo p : consumer.partitionsFor(topic, Duration.ofSeconds(30))) {
          parts.add(new TopicPartition(topic, p.partition()));
        }
      }
      consumer.assign(parts);
      consumer.seekToBeginning(parts);
      for (Stream st : streams) {
        List<TrainingData.RawRecord> records = st.series().records();
        for (int i = st.from(); i < records.size(); i++) {
          TrainingData.RawRecord r = records.get(i);
          producer.send(new ProducerRecord<>(spec.topics().input(), r.key(), r.value()));
        }
      }
      producer.flush();
      ProgressBar bar = new ProgressBar(System.err, "stream " + spec.name());
      long received = 0;
      long deadline = System.nanoTime() + timeout.toNanos();
      while (received + deadLetters < total) {
        if (System.nanoTime() > deadline) {
          throw new UserException(
              "timed out after "
                  + timeout
                  + ": "
                  + received
                  + " forecasts and "
                  + deadLetters
                  + " dead letters of "
                  + total
                  + " events; is the forecaster running? (see the log above)");
        }
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          if (r.topic().equals(spec.topics().deadLetter())) {
            deadLetters++;
            continue;
          }
          JsonNode f = json.readTree(r.value());
          out.computeIfAbsent(f.get("series").asText(), k -> new HashMap<>())
              .put(f.get("eventTime").asLong(), f);
          received++;
        }
        bar.update(received + deadLetters, total, "");
      }
      bar.done();
    }
    return deadLetters;
  }

  /** A marker file: a directory holding it was made by the demo and may be emptied. */
  static final String MARKER = ".stepcast-demo";

  /**
   * Empties a work directory left by an earlier demo (it holds the marker) or creates a new one;
   * refuses a non-empty directory the demo did not make.
   */
  static Path prepareWorkDir(Path dir) throws IOException {
    if (Files.isDirectory(dir)) {
      boolean empty;
      try (var files = Files.list(dir)) {
        empty = files.findAny().isEmpty();
      }
      if (!empty && !Files.exists(dir.resolve(MARKER))) {
        throw new UserException(
            "--work-dir "
                + dir
                + " is not empty and was not made by the demo; pass an empty or new directory");
      }
      deleteQuietly(dir);
    }
    Files.createDirectories(dir);
    Files.writeString(dir.resolve(MARKER), "scratch directory of stepcast demo; deleted by it\n");
    return dir;
  }

  static void deleteQuietly(Path dir) {
    EmbeddedKafkaBroker.deleteRecursively(dir);
  }
}
