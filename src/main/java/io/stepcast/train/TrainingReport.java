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
 * and printed as tables: per series and overall, the model's error next to the persistence,
 * seasonal-naive and AR(p) forecasts' errors, all in the target's own units, on two held-out parts
 * of every series: the <b>validation</b> part, which picked the epoch (early stopping) and so
 * flatters the model a little, and after it the <b>test</b> part, which nothing was fitted or
 * chosen on. Then the gate's figure and the two parity checks that had to pass before the model was
 * written.
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
 * @param validationFraction the validation fraction of each series
 * @param testFraction the test fraction of each series (0: no test part)
 * @param arOrder the order p of the AR(p) baseline
 * @param arOrderChosenBy {@code spec} ({@code training.arOrder}) or how AIC chose it
 * @param skippedUpdates updates skipped because their loss or gradient was not finite
 * @param finalLearningRate the learning rate at the end (halved per skipped update)
 * @param warnings one line each, e.g. a feature that is constant over the training data
 * @param data what happened to the records read
 * @param series per series figures
 * @param overall figures over every held-out event of every series
 * @param gate the part the promotion gate compares on, and this model's MAE there (streamed through
 *     the exported model)
 * @param parity the export and training/serving parity checks
 * @param horizons with several targets or horizons: the model's and persistence's error on every
 *     series' held-out parts per target and horizon, overall (null for one target at horizon 1)
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
    double testFraction,
    int arOrder,
    String arOrderChosenBy,
    int skippedUpdates,
    double finalLearningRate,
    List<String> warnings,
    TrainingData.Counts data,
    List<SeriesReport> series,
    SeriesReport overall,
    Gate gate,
    Parity parity,
    List<HorizonScores> horizons) {

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /** MAE and RMSE of one forecaster; null figures when nothing could be scored. */
  public record Scores(long count, Double mae, Double rmse) {
    static Scores of(Accuracy a) {
      return a.count() == 0 ? new Scores(0, null, null) : new Scores(a.count(), a.mae(), a.rmse());
    }
  }

  /**
   * The model's and the baselines' errors on one part.
   *
   * @param seasonalNaive null when the spec names no season
   * @param linearAr the AR(p) baseline; null when a series is too short to fit it
   */
  public record PartScores(
      Scores model, Scores persistence, Scores seasonalNaive, Scores linearAr) {}

  /**
   * One series' figures ({@code id} is {@code "(all)"} for the overall row).
   *
   * @param test null when there is no test part
   */
  public record SeriesReport(
      String id,
      int events,
      int trainRows,
      int validationRows,
      int testRows,
      PartScores validation,
      PartScores test) {}

  /**
   * One target at one horizon over every series: the model's forecast made at each held-out event
   * for {@code horizon} events later, and persistence's (the value at that event), scored where the
   * later event exists.
   *
   * @param target the target
   * @param horizon events ahead
   * @param validation on the validation parts
   * @param test on the test parts; null when there is none
   */
  public record HorizonScores(
      String target, int horizon, HorizonPart validation, HorizonPart test) {}

  /** The model's and persistence's errors at one horizon on one part. */
  public record HorizonPart(Scores model, Scores persistence) {}

  /**
   * What the promotion gate compares.
   *
   * @param part {@code test}, or {@code validation} when there is no test part
   * @param mae this model's MAE on that part, streamed event by event through the exported model
   */
  public record Gate(String part, double mae) {}

  /**
   * The parity checks.
   *
   * @param exportMaxAbsDiff largest difference between ONNX Runtime stepping and the trainer's
   *     forward pass over every row of every series (raw model outputs; relative to the trainer's
   *     output where that is above 1 in magnitude)
   * @param exportTolerance the largest allowed
   * @param trainerMae the trainer's MAE on the held-out (validation and test) rows (target units)
   * @param servingMae the same rows' MAE of the exported model streamed event by event
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

  /**
   * The per-series figures of the validation part ({@code test} false) or the test part as a
   * fixed-width text table, overall last; empty when there is no test part.
   */
  public String toTable(boolean test) {
    if (test && overall.test() == null) {
      return "";
    }
    boolean seasonal = season != null;
    List<String[]> rows = new ArrayList<>();
    List<String> head =
        new ArrayList<>(
            List.of(
                "series", test ? "test n" : "val n", "model MAE", "RMSE", "persist MAE", "RMSE"));
    if (seasonal) {
      head.addAll(List.of("seasonal MAE", "RMSE"));
    }
    head.addAll(List.of("AR(" + arOrder + ") MAE", "RMSE", "MAE vs persist"));
    rows.add(head.toArray(new String[0]));
    List<SeriesReport> all = new ArrayList<>(series);
    all.add(overall);
    for (SeriesReport s : all) {
      PartScores p = test ? s.test() : s.validation();
      List<String> r = new ArrayList<>();
      r.add(s.id());
      r.add(Long.toString(p.model().count()));
      r.add(num(p.model().mae()));
      r.add(num(p.model().rmse()));
      r.add(num(p.persistence().mae()));
      r.add(num(p.persistence().rmse()));
      if (seasonal) {
        r.add(p.seasonalNaive() == null ? "-" : num(p.seasonalNaive().mae()));
        r.add(p.seasonalNaive() == null ? "-" : num(p.seasonalNaive().rmse()));
      }
      r.add(num(p.linearAr() == null ? null : p.linearAr().mae()));
      r.add(num(p.linearAr() == null ? null : p.linearAr().rmse()));
      r.add(change(p.model().mae(), p.persistence().mae()));
      rows.add(r.toArray(new String[0]));
    }
    return format(rows);
  }

  /**
   * The per-target, per-horizon figures of the validation part ({@code test} false) or the test
   * part as a text table; empty for one target at horizon 1 (or no test part).
   */
  public String toHorizonTable(boolean test) {
    if (horizons == null || (test && overall.test() == null)) {
      return "";
    }
    List<String[]> rows = new ArrayList<>();
    rows.add(
        new String[] {
          "target", "horizon", test ? "test n" : "val n", "model MAE", "persist MAE", "vs persist"
        });
    for (HorizonScores h : horizons) {
      HorizonPart p = test ? h.test() : h.validation();
      rows.add(
          new String[] {
            h.target(),
            Integer.toString(h.horizon()),
            Long.toString(p.model().count()),
            num(p.model().mae()),
            num(p.persistence().mae()),
            change(p.model().mae(), p.persistence().mae())
          });
    }
    return format(rows, false);
  }

  /**
   * Figures for the model's spec ({@code training} metadata): {@code val_*} on the validation part,
   * {@code test_*} (with the baselines' {@code test_persistence_mae} and so on) on the test part.
   */
  public Map<String, Double> figures() {
    Map<String, Double> m = new java.util.LinkedHashMap<>();
    PartScores v = overall.validation();
    put(m, "val_mae", v.model().mae());
    put(m, "val_rmse", v.model().rmse());
    putBaselines(m, "", v);
    m.put("val_events", (double) v.model().count());
    PartScores t = overall.test();
    if (t != null) {
      put(m, "test_mae", t.model().mae());
      put(m, "test_rmse", t.model().rmse());
      putBaselines(m, "test_", t);
      m.put("test_events", (double) t.model().count());
    }
    if (horizons != null) {
      for (HorizonScores h : horizons) {
        String key = h.target() + "@" + h.horizon();
        put(m, "val_mae_" + key, h.validation().model().mae());
        put(m, "val_persistence_mae_" + key, h.validation().persistence().mae());
        if (h.test() != null) {
          put(m, "test_mae_" + key, h.test().model().mae());
          put(m, "test_persistence_mae_" + key, h.test().persistence().mae());
        }
      }
    }
    m.put("ar_order", (double) arOrder);
    m.put("epochs", (double) epochs);
    m.put("best_val_loss", bestValLoss);
    return m;
  }

  private static void putBaselines(Map<String, Double> m, String prefix, PartScores p) {
    put(m, prefix + "persistence_mae", p.persistence().mae());
    put(m, prefix + "persistence_rmse", p.persistence().rmse());
    if (p.seasonalNaive() != null) {
      put(m, prefix + "seasonal_naive_mae", p.seasonalNaive().mae());
      put(m, prefix + "seasonal_naive_rmse", p.seasonalNaive().rmse());
    }
    if (p.linearAr() != null) {
      put(m, prefix + "linear_ar_mae", p.linearAr().mae());
      put(m, prefix + "linear_ar_rmse", p.linearAr().rmse());
    }
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
    return format(rows, true);
  }

  /** As {@link #format(List)}; {@code overallRow}: a rule also sets the last row apart. */
  static String format(List<String[]> rows, boolean overallRow) {
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
      if (k == 0 || (overallRow && k == rows.size() - 2)) {
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
