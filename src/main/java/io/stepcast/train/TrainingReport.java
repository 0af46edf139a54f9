package io.stepcast.train;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What a training run measured, written as JSON beside the model ({@code <version>.report.json})
 * and printed as a table: per series and overall, on each series' validation part (the last events,
 * never trained on), the model's error next to the persistence, seasonal-naive and linear
 * autoregressive forecasts' errors, all in the target's own units; and the two parity checks that
 * had to pass before the model was written.
 *
 * @param pipeline the topology spec's name
 * @param version the model version
 * @param source where the history came from
 * @param target the target field
 * @param transform the target transform the model learned
 * @param season the seasonal-naive season in events, or null
 * @param network cell type and sizes, e.g. {@code lstm 1x32}
 * @param epochs epochs run
 * @param bestValLoss the best validation loss (scaled units, the configured loss)
 * @param trainMillis wall time of the training itself
 * @param validationFraction the held-out fraction of each series
 * @param arLags lags of the linear autoregressive baseline
 * @param data what happened to the records read
 * @param series per series figures
 * @param overall figures over every validation event of every series
 * @param parity the export and training/serving parity checks
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record TrainingReport(
    String pipeline,
    String version,
    String source,
    String target,
    String transform,
    Integer season,
    String network,
    int epochs,
    double bestValLoss,
    long trainMillis,
    double validationFraction,
    int arLags,
    TrainingData.Counts data,
    List<SeriesReport> series,
    SeriesReport overall,
    Parity parity) {

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /** MAE and RMSE of one forecaster; null figures when nothing could be scored. */
  public record Scores(long count, Double mae, Double rmse) {
    static Scores of(Accuracy a) {
      return a.count() == 0 ? new Scores(0, null, null) : new Scores(a.count(), a.mae(), a.rmse());
    }
  }

  /**
   * One series' figures on its validation part ({@code id} is {@code "(all)"} for the overall row).
   *
   * @param seasonalNaive null when the spec names no season
   */
  public record SeriesReport(
      String id,
      int events,
      int trainRows,
      int validationRows,
      Scores model,
      Scores persistence,
      Scores seasonalNaive,
      Scores linearAr) {}

  /**
   * The parity checks.
   *
   * @param exportMaxAbsDiff largest difference between ONNX Runtime stepping and the trainer's
   *     forward pass over every row of every series (raw model outputs)
   * @param exportTolerance the largest allowed
   * @param trainerMae the trainer's validation MAE (target units)
   * @param servingMae the validation MAE of the exported model streamed event by event
   * @param relativeDifference {@code |servingMae - trainerMae| / trainerMae}
   * @param relativeTolerance the largest allowed
   */
  public record Parity(
      double exportMaxAbsDiff,
      double exportTolerance,
      double trainerMae,
      double servingMae,
      double relativeDifference,
      double relativeTolerance) {}

  /** The report as indented JSON. */
  public String toJson() {
    try {
      return JSON.writeValueAsString(this);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write the training report: " + e.getMessage(), e);
    }
  }

  /** The per-series figures as a fixed-width text table, overall last. */
  public String toTable() {
    boolean seasonal = season != null;
    List<String[]> rows = new ArrayList<>();
    List<String> head =
        new ArrayList<>(List.of("series", "val n", "model MAE", "RMSE", "persist MAE", "RMSE"));
    if (seasonal) {
      head.addAll(List.of("seasonal MAE", "RMSE"));
    }
    head.addAll(List.of("AR(" + arLags + ") MAE", "RMSE", "MAE vs persist"));
    rows.add(head.toArray(new String[0]));
    List<SeriesReport> all = new ArrayList<>(series);
    all.add(overall);
    for (SeriesReport s : all) {
      List<String> r = new ArrayList<>();
      r.add(s.id());
      r.add(Long.toString(s.model().count()));
      r.add(num(s.model().mae()));
      r.add(num(s.model().rmse()));
      r.add(num(s.persistence().mae()));
      r.add(num(s.persistence().rmse()));
      if (seasonal) {
        r.add(s.seasonalNaive() == null ? "-" : num(s.seasonalNaive().mae()));
        r.add(s.seasonalNaive() == null ? "-" : num(s.seasonalNaive().rmse()));
      }
      r.add(num(s.linearAr() == null ? null : s.linearAr().mae()));
      r.add(num(s.linearAr() == null ? null : s.linearAr().rmse()));
      r.add(change(s.model().mae(), s.persistence().mae()));
      rows.add(r.toArray(new String[0]));
    }
    return format(rows);
  }

  /** Figures for the model's spec ({@code training} metadata). */
  public Map<String, Double> figures() {
    Map<String, Double> m = new java.util.LinkedHashMap<>();
    put(m, "val_mae", overall.model().mae());
    put(m, "val_rmse", overall.model().rmse());
    put(m, "persistence_mae", overall.persistence().mae());
    put(m, "persistence_rmse", overall.persistence().rmse());
    if (overall.seasonalNaive() != null) {
      put(m, "seasonal_naive_mae", overall.seasonalNaive().mae());
      put(m, "seasonal_naive_rmse", overall.seasonalNaive().rmse());
    }
    if (overall.linearAr() != null) {
      put(m, "linear_ar_mae", overall.linearAr().mae());
      put(m, "linear_ar_rmse", overall.linearAr().rmse());
    }
    m.put("val_events", (double) overall.model().count());
    m.put("epochs", (double) epochs);
    m.put("best_val_loss", bestValLoss);
    return m;
  }

  private static void put(Map<String, Double> m, String key, Double v) {
    if (v != null && Double.isFinite(v)) {
      m.put(key, v);
    }
  }

  static String num(Double v) {
    if (v == null || v.isNaN()) {
      return "-";
    }
    double a = Math.abs(v);
    return String.format(Locale.ROOT, a != 0 && a < 0.01 ? "%.3g" : "%.4f", v);
  }

  static String change(Double value, Double reference) {
    if (value == null || reference == null || reference == 0) {
      return "-";
    }
    return String.format(Locale.ROOT, "%+.1f%%", 100 * (value - reference) / reference);
  }

  /**
   * Right-aligned columns, the first left-aligned, two spaces apart, with a rule under the head.
   */
  public static String format(List<String[]> rows) {
    int cols = rows.get(0).length;
    int[] w = new int[cols];
    for (String[] r : rows) {
      for (int i = 0; i < cols; i++) {
        w[i] = Math.max(w[i], r[i].length());
      }
    }
    StringBuilder sb = new StringBuilder();
    for (int k = 0; k < rows.size(); k++) {
      String[] r = rows.get(k);
      for (int i = 0; i < cols; i++) {
        if (i > 0) {
          sb.append("  ");
        }
        String pad = " ".repeat(w[i] - r[i].length());
        sb.append(i == 0 ? r[i] + pad : pad + r[i]);
      }
      sb.append('\n');
      if (k == 0 || k == rows.size() - 2) {
        int total = 0;
        for (int x : w) {
          total += x;
        }
        sb.append("-".repeat(total + 2 * (cols - 1))).append('\n');
      }
    }
    return sb.toString();
  }
}
