package io.stepcast.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.stepcast.config.SpecLoader;
import io.stepcast.config.TopologySpec;
import io.stepcast.engine.MemoryRecentInputs;
import io.stepcast.engine.StepEngine;
import io.stepcast.engine.StepListener;
import io.stepcast.features.Event;
import io.stepcast.features.FeaturePipeline;
import io.stepcast.kafka.Csv;
import io.stepcast.model.ExecutionConfig;
import io.stepcast.model.StepModel;
import io.stepcast.state.SeriesState;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The backtest on synthetic hourly history with real training (DJL + PyTorch) and the real serving
 * engine on ONNX Runtime: three series of different lengths, one with an outlier injected after the
 * split, intervals warm only late in the longer series. One training is shared.
 */
class BacktestTest {
  private static final double FRACTION = 0.7;
  private static final int AR = 6;
  private static final int OUTLIER_HOUR = 262;

  @TempDir static Path dir;

  private static TopologySpec spec;
  private static TrainingData all;
  private static TrainingData history;
  private static StepModel model;
  private static Backtest.Result result;

  @BeforeAll
  static void trainAndBacktest() throws Exception {
    // Intervals warm after 250 scored errors: late in the 300-event series, never in the 240 one.
    spec = SpecLoader.load(SyntheticHistory.specFile(dir, "intervals: {warmUp: 250}"), Map.of());
    all = TrainingData.fromCsv(spec, Csv.parse("synth.csv", csv(0)));
    history = all.head(Backtest.split(all, FRACTION), "history", new FeaturePipeline(spec));
    TrainConfig cfg = TrainingRun.config(spec, null, 4);
    TrainingRun.Result trained =
        TrainingRun.run(spec, history, cfg, "synth-backtest", TrainingListener.NONE);
    model = StepModel.load(trained.onnx(), ExecutionConfig.cpu());
    result =
        Backtest.run(spec, all, history, model, new Backtest.Options(AR, FRACTION, true, 0, 8));
  }

  @AfterAll
  static void close() {
    if (model != null) {
      model.close();
    }
  }

  /**
   * site-0 and site-1 with 300 hourly events, site-short with 240; site-0's level at {@link
   * #OUTLIER_HOUR} is 60 degrees off; every level after the split moved by {@code shift}.
   */
  private static String csv(double shift) {
    String two = SyntheticHistory.csv(2, 300, 9);
    String shortOne =
        SyntheticHistory.csv(1, 240, 5).replace("site-0,", "site-short,").split("\n", 2)[1];
    StringBuilder sb = new StringBuilder();
    Map<String, Integer> seen = new HashMap<>();
    for (String line : (two + shortOne).split("\n")) {
      if (line.startsWith("site,")) {
        sb.append(line).append('\n');
        continue;
      }
      String[] c = line.split(",", -1);
      int t = seen.merge(c[0], 1, Integer::sum) - 1;
      int n = c[0].equals("site-short") ? 240 : 300;
      double level = Double.parseDouble(c[3]);
      if (c[0].equals("site-0") && t == OUTLIER_HOUR) {
        level += 60;
      }
      if (t >= Math.round(n * FRACTION)) {
        level += shift;
      }
      c[3] = String.format(Locale.ROOT, "%.3f", level);
      sb.append(String.join(",", c)).append('\n');
    }
    return sb.toString();
  }

  private static List<Backtest.Row> rows(String series, String output) {
    return result.rows().stream()
        .filter(r -> r.series().equals(series) && r.output().equals(output))
        .toList();
  }

  private static int index(TrainingData.Series s, long time) {
    for (int t = 0; t < s.length(); t++) {
      if (s.events().get(t).timeMillis() == time) {
        return t;
      }
    }
    throw new AssertionError("no event at " + time);
  }

  @Test
  void shouldScoreEveryEventAfterEachSeriesSplitAtRoundedFraction() {
    BacktestReport r = result.report();

    assertThat(r.series())
        .extracting(BacktestReport.SeriesResult::id)
        .containsExactly("site-0", "site-1", "site-short");
    assertThat(r.series())
        .extracting(BacktestReport.SeriesResult::historyEvents)
        .containsExactly(210L, 210L, 168L);
    assertThat(r.series())
        .extracting(BacktestReport.SeriesResult::scoredEvents)
        .containsExactly(90L, 90L, 72L);
    assertThat(rows("site-short", "level@1")).hasSize(72);
    assertThat(r.overall().outputs().get(0).model().count()).isEqualTo(90 + 90 + 72);
    assertThat(r.overall().historyEvents()).isEqualTo(210 + 210 + 168);
    // Every forecaster scored on the same events.
    BacktestReport.OutputResult o = r.overall().outputs().get(0);
    assertThat(o.persistence().count()).isEqualTo(o.model().count());
    assertThat(o.seasonalNaive().count()).isEqualTo(o.model().count());
    assertThat(o.linearAr().count()).isEqualTo(o.model().count());
    assertThat(o.levelAr().count()).isEqualTo(o.model().count());
    assertThat(o.vsPersistence()).isEqualTo(o.model().mae() / o.persistence().mae());
    assertThat(o.vsAr())
        .isEqualTo(o.model().mae() / Math.min(o.linearAr().mae(), o.levelAr().mae()));
  }

  @Test
  void shouldScoreTheForecastsServingReplayMakesOneEventBefore() throws Exception {
    for (TrainingData.Series s : all.series()) {
      double[] served = ServingReplay.forecasts(model, spec, s.events());
      List<Backtest.Row> scored = rows(s.id(), "level@1");
      assertThat(scored).isNotEmpty();
      for (Backtest.Row row : scored) {
        int e = index(s, row.time());
        assertThat(row.model()).as("%s event %d", s.id(), e).isEqualTo(served[e - 1]);
        assertThat(row.actual()).isEqualTo(s.rows().targets()[e]);
        assertThat(row.persistence()).isEqualTo(s.rows().targets()[e - 1]);
        assertThat(row.seasonalNaive()).isEqualTo(s.rows().targets()[e - 24]);
      }
    }
  }

  @Test
  void shouldFitBothArBaselinesOnTheHistoryPartOnly() throws Exception {
    // The same history, every level after the split 40 degrees higher: a fit that saw any of the
    // scored part would change, and with it every AR forecast.
    TrainingData shifted = TrainingData.fromCsv(spec, Csv.parse("shifted.csv", csv(40)));
    TrainingData shiftedHistory =
        shifted.head(Backtest.split(shifted, FRACTION), "history", new FeaturePipeline(spec));
    Backtest.Result other =
        Backtest.run(
            spec, shifted, shiftedHistory, model, new Backtest.Options(AR, FRACTION, true, 0, 8));
    FeaturePipeline pipeline = new FeaturePipeline(spec);
    for (int i = 0; i < all.series().size(); i++) {
      TrainingData.Series s = all.series().get(i);
      int split = history.series().get(i).length();
      double[] past = java.util.Arrays.copyOf(s.rows().targets(), split);
      Baselines.LevelAr level = Baselines.LevelAr.fit(past, split, AR);
      Baselines.LinearAr linear =
          Baselines.LinearAr.fit(history.series().get(i).rows(), split - 1, AR);
      Baselines.LevelAr leaky = Baselines.LevelAr.fit(s.rows().targets(), s.length(), AR);
      List<Backtest.Row> scored = rows(s.id(), "level@1");
      for (Backtest.Row row : scored) {
        int t = index(s, row.time()) - 1;
        assertThat(row.levelAr()).isEqualTo(level.forecast(s.rows().targets(), t, 1));
        assertThat(row.linearAr()).isEqualTo(linear.forecast(s.rows(), t, pipeline));
      }
      // The first scored event is forecast from history alone: identical with the shifted data.
      Backtest.Row first = scored.get(0);
      Backtest.Row firstShifted =
          other.rows().stream()
              .filter(r -> r.series().equals(s.id()) && r.output().equals("level@1"))
              .findFirst()
              .orElseThrow();
      assertThat(firstShifted.levelAr()).isEqualTo(first.levelAr());
      assertThat(firstShifted.linearAr()).isEqualTo(first.linearAr());
      // ... and a fit over the whole series would not have given it.
      assertThat(leaky.forecast(s.rows().targets(), split - 1, 1)).isNotEqualTo(first.levelAr());
    }
  }

  @Test
  void shouldCountCoverageOnlyOverIntervalsWhoseRecordWasWarm() throws Exception {
    BacktestReport r = result.report();
    // The engine's own count: what the coverage metrics count, over the scored actuals only.
    long[] total = new long[2];
    long[] inside = new long[2];
    long warm = 0;
    for (TrainingData.Series s : all.series()) {
      int split = (int) Math.round(s.length() * FRACTION);
      boolean[] on = new boolean[1];
      StepListener tally =
          new StepListener() {
            @Override
            public void covered(int level, boolean in) {
              if (on[0]) {
                total[level]++;
                inside[level] += in ? 1 : 0;
              }
            }
          };
      try (StepEngine engine =
          new StepEngine(spec, 1, new MemoryRecentInputs(spec.model().ringBuffer()), tally)) {
        engine.use(model);
        SeriesState st = null;
        for (int t = 0; t < s.length(); t++) {
          on[0] = t >= split;
          Event e = s.events().get(t).copy();
          int slot = engine.stepOne(s.id(), e, st);
          st = engine.state(slot);
          engine.clear();
        }
      }
      BacktestReport.SeriesResult sr =
          r.series().stream().filter(x -> x.id().equals(s.id())).findFirst().orElseThrow();
      warm += sr.coverage().count();
    }
    BacktestReport.Coverage c = r.overall().coverage();
    assertThat(c.count()).isEqualTo(warm).isEqualTo(total[0]).isEqualTo(total[1]);
    assertThat(c.inside()).containsExactly(inside[0], inside[1]);
    // Warm from about the 250th event: part of the long series' scored events, none of the short.
    BacktestReport.SeriesResult site0 = r.series().get(0);
    assertThat(site0.coverage().count()).isBetween(30L, 60L);
    assertThat(r.series().get(2).coverage().count()).isZero();
    assertThat(r.series().get(2).coverage().coverage()).containsOnlyNulls();
  }

  @Test
  void shouldFlagTheOutlierInjectedAfterTheSplit() {
    TrainingData.Series s = all.series().get(0);
    long when = s.events().get(OUTLIER_HOUR).timeMillis();
    Backtest.Row outlier =
        rows("site-0", "level@1").stream().filter(r -> r.time() == when).findFirst().orElseThrow();

    assertThat(outlier.anomaly()).isTrue();
    assertThat(outlier.actual()).isGreaterThan(outlier.upper()[1]);
    assertThat(result.report().series().get(0).anomalies()).isPositive();
    assertThat(result.replays().get(0).anomaly()[OUTLIER_HOUR]).isTrue();
  }

  @Test
  void shouldApplyTheAnomalyPolicyAsALiveInstanceDoes() throws Exception {
    Path other = java.nio.file.Files.createDirectories(dir.resolve("policies"));
    TrainingData.Series s = all.series().get(0);
    long when = s.events().get(OUTLIER_HOUR).timeMillis();
    long next = s.events().get(OUTLIER_HOUR + 1).timeMillis();
    for (String policy : List.of("hold", "dead_letter")) {
      TopologySpec p =
          SpecLoader.load(
              SyntheticHistory.specFile(other, "intervals: {warmUp: 250}"),
              Map.of("STEPCAST_POLICIES_ANOMALY", policy));
      Backtest.Result r =
          Backtest.run(p, all, history, model, new Backtest.Options(AR, FRACTION, true, 0, 8));
      Map<Long, Backtest.Row> byTime = new HashMap<>();
      for (Backtest.Row row : r.rows()) {
        if (row.series().equals("site-0")) {
          byTime.put(row.time(), row);
        }
      }
      assertThat(r.report().anomalyPolicy()).isEqualTo(policy);
      assertThat(byTime.get(when).anomaly()).as(policy).isTrue();
      if (policy.equals("hold")) {
        // Held: the series steps on the forecast, so the next forecast is not made from the
        // outlier and stays close to the clean data's.
        assertThat(byTime.get(when).held()).isTrue();
        assertThat(byTime.get(next).model()).isFinite();
        assertThat(r.report().series().get(0).held()).isPositive();
      } else {
        // Dead-lettered: no forecast at the outlier, so nothing of the model's to score next.
        assertThat(r.replays().get(0).refused()[OUTLIER_HOUR]).isTrue();
        assertThat(byTime.get(next).model()).isNaN();
        assertThat(r.report().series().get(0).outputs().get(0).model().count())
            .isLessThan(r.report().series().get(0).scoredEvents());
      }
    }
  }

  @Test
  void shouldFlagInjectedOutliersWhileScoringTheCleanData() throws Exception {
    Backtest.Result injected =
        Backtest.run(spec, all, history, model, new Backtest.Options(AR, FRACTION, true, 5, 8));

    // The scores and forecasts are the clean data's.
    assertThat(injected.rows())
        .usingRecursiveFieldByFieldElementComparator()
        .isEqualTo(result.rows());
    for (int i = 0; i < all.series().size(); i++) {
      TrainingData.Series s = all.series().get(i);
      int split = history.series().get(i).length();
      BacktestReport.OutlierCheck c = injected.report().series().get(i).outliers();
      assertThat(c.injected()).as(s.id()).isEqualTo(5);
      assertThat(c.events()).hasSize(5);
      assertThat(c.step()).isPositive();
      List<Integer> at = new ArrayList<>();
      for (BacktestReport.Outlier o : c.events()) {
        int e = index(s, o.time());
        at.add(e);
        assertThat(e).isGreaterThanOrEqualTo(split);
        assertThat(Math.abs(o.injected() - o.actual())).isCloseTo(8 * c.step(), within(1e-9));
      }
      for (int k = 1; k < at.size(); k++) {
        assertThat(at.get(k) - at.get(k - 1)).isGreaterThan(1);
      }
      // Eight typical hourly changes off: the 95% interval of a trained model holds far less.
      assertThat(c.flagged()).as(s.id()).isEqualTo(5);
      assertThat(c.cleanFlags()).isEqualTo(injected.report().series().get(i).anomalies());
    }
    BacktestReport.OutlierCheck overall = injected.report().overall().outliers();
    assertThat(overall.injected()).isEqualTo(15);
    assertThat(overall.flagged()).isEqualTo(15);
    assertThat(injected.report().toCoverageTable()).contains("15 (100%)");
    assertThat(result.report().overall().outliers()).isNull();
  }

  @Test
  void shouldScoreEveryTargetAndHorizonOnTheEventItIsFor() throws Exception {
    Path multiDir = dir.resolve("multi");
    java.nio.file.Files.createDirectories(multiDir);
    Path specFile = SyntheticHistory.specFile(multiDir, "");
    String yaml =
        java.nio.file.Files.readString(specFile)
            .replace("  - field: load\n", "")
            .replace(
                "target: {field: level, transform: none, season: 24}",
                "target: {field: level, transform: none, season: 24, horizons: [1, 3],"
                    + " also: [{field: load, transform: none}]}");
    java.nio.file.Files.writeString(specFile, yaml);
    TopologySpec multi = SpecLoader.load(specFile, Map.of());
    // No blank load cells: load is a target here.
    String text = SyntheticHistory.csv(2, 200, 3).replace(",,", ",1.000,");
    TrainingData data = TrainingData.fromCsv(multi, Csv.parse("multi.csv", text));
    TrainingData past =
        data.head(Backtest.split(data, 0.75), "history", new FeaturePipeline(multi));
    TrainingRun.Result trained =
        TrainingRun.run(
            multi,
            past,
            TrainingRun.config(multi, null, 3),
            "multi-backtest",
            TrainingListener.NONE);
    try (StepModel m = StepModel.load(trained.onnx(), ExecutionConfig.cpu())) {
      Backtest.Result r =
          Backtest.run(multi, data, past, m, new Backtest.Options(4, 0.75, true, 0, 8));
      assertThat(r.report().outputs()).containsExactly("level@1", "level@3", "load@1", "load@3");
      List<String> seen = new ArrayList<>();
      for (int i = 0; i < data.series().size(); i++) {
        TrainingData.Series s = data.series().get(i);
        double[][] served = ServingReplay.allForecasts(m, multi, s.events());
        for (Backtest.Row row : r.rows()) {
          if (!row.series().equals(s.id())) {
            continue;
          }
          int o = r.report().outputs().indexOf(row.output());
          int h = row.output().endsWith("@3") ? 3 : 1;
          int target = o / 2;
          int e = index(s, row.time());
          assertThat(e).isGreaterThanOrEqualTo(150);
          assertThat(row.model()).isEqualTo(served[e - h][o]);
          assertThat(row.actual()).isEqualTo(s.rows().allTargets()[target][e]);
          assertThat(row.persistence()).isEqualTo(s.rows().allTargets()[target][e - h]);
          assertThat(row.seasonalNaive()).isEqualTo(s.rows().allTargets()[target][e - 24]);
          seen.add(row.output());
        }
      }
      assertThat(seen).contains("level@1", "level@3", "load@1", "load@3");
      for (BacktestReport.OutputResult o : r.report().overall().outputs()) {
        // 2 series x 50 scored events, each output scored on every one of them.
        assertThat(o.model().count()).as(o.output()).isEqualTo(100);
        assertThat(o.levelAr().count()).isEqualTo(100);
        assertThat(o.linearAr() == null).isEqualTo(!o.output().equals("level@1"));
      }
    }
  }
}
