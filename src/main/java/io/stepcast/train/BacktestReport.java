package io.stepcast.train;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What a backtest measured ({@code stepcast backtest}), written as {@code backtest.json} and
 * printed as tables: per series and overall, for every output (target and horizon), the model's
 * error on the events after the split next to persistence, seasonal-naive and two AR(p) baselines
 * fitted on the history part only, with the model's ratio to each; the coverage of the prediction
 * intervals over warm intervals; the anomalies flagged. Every figure is in the target's own units
 * and counts only events after the split.
 *
 * @param pipeline the topology spec's name
 * @param model the model version that was streamed
 * @param trained whether the backtest trained the model on the history parts (false: {@code
 *     --model})
 * @param source where the data came from
 * @param trainFraction the share of each series' events in its history part
 * @param arOrder the order p of both AR baselines
 * @param season the seasonal-naive season in events, or null
 * @param anomalyPolicy the spec's {@code policies.anomaly}, applied while streaming as live
 * @param levels the prediction interval levels, in the spec's order
 * @param outputs the outputs, {@code target@horizon}, in the model's order
 * @param series per series
 * @param overall every series together ({@code id} {@code "(all)"})
 * @param warnings one line each, e.g. a series too short for an AR fit
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record BacktestReport(
    String pipeline,
    String model,
    boolean trained,
    String source,
    double trainFraction,
    int arOrder,
    Integer season,
    String anomalyPolicy,
    List<Double> levels,
    List<String> outputs,
    List<SeriesResult> series,
    SeriesResult overall,
    List<String> warnings) {

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /**
   * One series (or all of them).
   *
   * @param events events streamed
   * @param historyEvents events of the history part (the model trained on these when it was trained
   *     here; the AR fits always use only these)
   * @param scoredEvents events after the split, whose actuals are scored
   * @param outputs per output, in the model's order
   * @param coverage the first output's prediction intervals
   * @param anomalies events after the split flagged as anomalies
   * @param held of those, how many the {@code hold} policy held
   * @param outliers the anomaly check on injected outliers; null without {@code --inject-outliers}
   */
  public record SeriesResult(
      String id,
      long events,
      long historyEvents,
      long scoredEvents,
      List<OutputResult> outputs,
      Coverage coverage,
      long anomalies,
      long held,
      OutlierCheck outliers) {}

  /**
   * The anomaly check: the series streamed again with outliers injected after its split (the scores
   * above are from the clean data).
   *
   * @param size how far an outlier lies from the actual, in mean absolute one-step changes
   * @param step the series' mean absolute one-step change over its history part (null overall)
   * @param injected outliers injected
   * @param flagged of those, flagged as anomalies
   * @param otherFlags anomalies flagged at the other events after the split in the same run
   * @param cleanFlags anomalies flagged after the split on the clean data
   * @param events each injected outlier (null overall)
   */
  public record OutlierCheck(
      double size,
      Double step,
      long injected,
      long flagged,
      long otherFlags,
      long cleanFlags,
      List<Outlier> events) {}

  /**
   * One injected outlier.
   *
   * @param time the event's time (epoch milliseconds)
   * @param actual the value in the data
   * @param injected the value streamed instead
   * @param flagged whether the forecast record flagged it
   */
  public record Outlier(long time, double actual, double injected, boolean flagged) {}

  /**
   * The errors of one output ({@code target@horizon}): each forecaster's forecast made {@code
   * horizon} events before each scored event, over the events the model forecast.
   *
   * @param seasonalNaive null without a season
   * @param linearAr the trainer's AR(p) of the transformed target ({@link Baselines.LinearAr}),
   *     first output only; null elsewhere or when a series was too short to fit it
   * @param levelAr an AR(p) with intercept of the target's levels ({@link Baselines.LevelAr}),
   *     rolled forward for further horizons; null when a series was too short to fit it
   * @param vsPersistence model MAE / persistence MAE
   * @param vsSeasonalNaive model MAE / seasonal-naive MAE
   * @param vsAr model MAE / the lower of the two AR MAEs
   */
  public record OutputResult(
      String output,
      String target,
      int horizon,
      TrainingReport.Scores model,
      TrainingReport.Scores persistence,
      TrainingReport.Scores seasonalNaive,
      TrainingReport.Scores linearAr,
      TrainingReport.Scores levelAr,
      Double vsPersistence,
      Double vsSeasonalNaive,
      Double vsAr) {}

  /**
   * Coverage of the prediction intervals of the first output at the next event, counted over the
   * intervals whose record said {@code intervalsWarm}.
   *
   * @param count scored actuals whose interval was warm
   * @param inside per level (the spec's order), how many of them fell inside
   * @param coverage per level, {@code inside / count} (null when nothing was counted)
   */
  public record Coverage(long count, List<Long> inside, List<Double> coverage) {}

  /** The report as indented JSON. */
  public String toJson() {
    try {
      return JSON.writeValueAsString(this);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write the backtest report: " + e.getMessage(), e);
    }
  }

  /**
   * Output {@code o}'s figures per series, overall last, as a fixed-width table: MAE and RMSE of
   * the model and each baseline, then the model's MAE ratios.
   */
  public String toTable(int o) {
    boolean seasonal = season != null;
    boolean linear = o == 0;
    List<String[]> rows = new ArrayList<>();
    List<String> head =
        new ArrayList<>(List.of("series", "n", "model MAE", "RMSE", "persist MAE", "RMSE"));
    if (seasonal) {
      head.addAll(List.of("seasonal MAE", "RMSE"));
    }
    if (linear) {
      head.addAll(List.of("AR(" + arOrder + ") MAE", "RMSE"));
    }
    head.addAll(List.of("AR(" + arOrder + ") lvl MAE", "RMSE", "/persist"));
    if (seasonal) {
      head.add("/seasonal");
    }
    head.add("/AR");
    rows.add(head.toArray(new String[0]));
    List<SeriesResult> all = new ArrayList<>(series);
    all.add(overall);
    for (SeriesResult s : all) {
      OutputResult r = s.outputs().get(o);
      List<String> cells = new ArrayList<>();
      cells.add(s.id());
      cells.add(Long.toString(r.model().count()));
      addScores(cells, r.model());
      addScores(cells, r.persistence());
      if (seasonal) {
        addScores(cells, r.seasonalNaive());
      }
      if (linear) {
        addScores(cells, r.linearAr());
      }
      addScores(cells, r.levelAr());
      cells.add(ratio(r.vsPersistence()));
      if (seasonal) {
        cells.add(ratio(r.vsSeasonalNaive()));
      }
      cells.add(ratio(r.vsAr()));
      rows.add(cells.toArray(new String[0]));
    }
    return TrainingReport.format(rows);
  }

  /** Interval coverage per level and anomalies per series, overall last. */
  public String toCoverageTable() {
    List<String[]> rows = new ArrayList<>();
    List<String> head = new ArrayList<>(List.of("series", "warm n"));
    for (double l : levels) {
      head.add(String.format(Locale.ROOT, "%.4g%% covered", 100 * l));
    }
    head.addAll(List.of("anomalies", "held"));
    boolean injected = overall.outliers() != null;
    if (injected) {
      head.addAll(List.of("injected", "flagged", "other flags"));
    }
    rows.add(head.toArray(new String[0]));
    List<SeriesResult> all = new ArrayList<>(series);
    all.add(overall);
    for (SeriesResult s : all) {
      List<String> cells = new ArrayList<>();
      cells.add(s.id());
      cells.add(Long.toString(s.coverage().count()));
      for (Double c : s.coverage().coverage()) {
        cells.add(c == null ? "-" : String.format(Locale.ROOT, "%.2f%%", 100 * c));
      }
      cells.add(Long.toString(s.anomalies()));
      cells.add(Long.toString(s.held()));
      if (injected) {
        OutlierCheck c = s.outliers();
        cells.add(Long.toString(c.injected()));
        cells.add(
            c.injected() == 0
                ? "0"
                : String.format(
                    Locale.ROOT, "%d (%.0f%%)", c.flagged(), 100.0 * c.flagged() / c.injected()));
        cells.add(Long.toString(c.otherFlags()));
      }
      rows.add(cells.toArray(new String[0]));
    }
    return TrainingReport.format(rows);
  }

  private static void addScores(List<String> cells, TrainingReport.Scores s) {
    cells.add(TrainingReport.num(s == null ? null : s.mae()));
    cells.add(TrainingReport.num(s == null ? null : s.rmse()));
  }

  private static String ratio(Double r) {
    return r == null || r.isNaN() ? "-" : String.format(Locale.ROOT, "%.3fx", r);
  }
}
