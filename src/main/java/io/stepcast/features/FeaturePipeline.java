package io.stepcast.features;

import io.stepcast.config.TopologySpec;
import io.stepcast.config.TopologySpec.Feature;
import io.stepcast.config.TopologySpec.TargetTransform;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Turns events into model inputs and model outputs back into forecasts. The trainer and the server
 * run this same code, so there is no training/serving skew.
 *
 * <p>Columns of {@code x}, in order: the (transformed) target; each {@code field} feature; each
 * further target ({@code target.also}, transformed like the first); each {@code lag} feature; each
 * {@code calendar} feature as a sine and a cosine of {@code 2 pi phase}; the hours since the
 * previous event. A further target's previous value is the one the series remembers as an input
 * field (float32), so the trainer and the server transform it alike.
 *
 * <p>A {@code lag: L} column at event {@code t} is the target {@code L} events before the event
 * being forecast, {@code target[t + 1 - L]}, transformed against the current target as the label is
 * ({@code difference}: {@code target[t + 1 - L] - target[t]}): it is the seasonal-naive forecast of
 * the label, so the model learns the residual over it. The caller looks the value up ({@code L - 1}
 * events back: the actual kept with a row of the recent-inputs store on the live path); when the
 * series is younger than that, or the row is no longer kept, the column falls back to the current
 * target (persistence: 0 under {@code difference}).
 *
 * <p>The phase in {@code [0, 1)} of each calendar encoding, in the spec's time zone:
 *
 * <pre>
 * hour_of_day    (hour + minute / 60) / 24
 * day_of_week    (dayOfWeek - 1 + hour / 24) / 7          Monday = 1
 * day_of_year    (dayOfYear - 1 + hour / 24) / 365.25
 * month_of_year  (month - 1 + (dayOfMonth - 1 + hour / 24) / daysInMonth) / 12   January = 1
 * </pre>
 *
 * The model predicts, for every target and every horizon {@code h} (events ahead), the target's
 * value {@code h} events ahead transformed against its current value ({@link #label}), in the order
 * of {@link #outputNames}: target-major, horizons ascending; {@link #forecast} maps an output back
 * to the target's own units. Scaling is not done here: it lives inside the ONNX graph.
 */
public final class FeaturePipeline {
  private static final double TWO_PI = 2 * Math.PI;
  private static final double HOUR_MS = 3_600_000.0;
  private static final double[] NO_LAGS = new double[0];

  private final TargetTransform transform;
  private final TargetTransform[] transforms;
  private final List<String> targetNames;
  private final int[] horizons;
  private final List<String> outputNames;
  private final List<String> columns;
  private final int fieldCount;
  private final int[] lags;
  private final int featureFieldCount;
  private final TopologySpec.CalendarFeature[] calendar;
  private final boolean timeSincePrevious;
  private final ZoneId zone;

  public FeaturePipeline(TopologySpec spec) {
    this.transform = spec.target().transform();
    this.zone = ZoneId.of(spec.timestamp().zone());
    List<String> cols = new ArrayList<>();
    String t = spec.target().field();
    cols.add(
        transform == TargetTransform.NONE
            ? t
            : t + ":" + transform.name().toLowerCase(Locale.ROOT));
    List<String> fields = inputFields(spec);
    int featureFields = fields.size() - spec.target().also().size();
    cols.addAll(fields.subList(0, featureFields));
    List<String> names = new ArrayList<>();
    names.add(t);
    List<TargetTransform> tf = new ArrayList<>();
    tf.add(transform);
    for (TopologySpec.AlsoTarget a : spec.target().also()) {
      TargetTransform at = a.transformOrNone();
      cols.add(at == TargetTransform.NONE ? a.field() : a.field() + ":" + lower(at));
      names.add(a.field());
      tf.add(at);
    }
    this.targetNames = List.copyOf(names);
    this.transforms = tf.toArray(new TargetTransform[0]);
    this.horizons = spec.target().horizons().stream().mapToInt(Integer::intValue).toArray();
    List<String> outs = new ArrayList<>();
    for (String n : names) {
      for (int h : horizons) {
        outs.add(n + "@" + h);
      }
    }
    this.outputNames = List.copyOf(outs);
    this.featureFieldCount = featureFields;
    List<TopologySpec.CalendarFeature> cal = new ArrayList<>();
    List<Integer> lagList = new ArrayList<>();
    boolean dt = false;
    for (Feature f : spec.features()) {
      if (f.calendar() != null) {
        cal.add(f.calendar());
      } else if (f.lag() != null) {
        lagList.add(f.lag());
      } else if (Boolean.TRUE.equals(f.timeSincePrevious())) {
        dt = true;
      }
    }
    for (int lag : lagList) {
      cols.add(t + ":lag" + lag);
    }
    for (TopologySpec.CalendarFeature c : cal) {
      String n = c.name().toLowerCase(Locale.ROOT);
      cols.add(n + ":sin");
      cols.add(n + ":cos");
    }
    if (dt) {
      cols.add("hours_since_previous");
    }
    this.columns = List.copyOf(cols);
    this.fieldCount = fields.size();
    this.lags = lagList.stream().mapToInt(Integer::intValue).toArray();
    this.calendar = cal.toArray(new TopologySpec.CalendarFeature[0]);
    this.timeSincePrevious = dt;
  }

  /**
   * The numeric fields of an event besides the target, as {@link Event#fields()} holds them: the
   * field features in feature order, then the further targets ({@code target.also}).
   */
  public static List<String> inputFields(TopologySpec spec) {
    List<String> out = new ArrayList<>();
    for (Feature f : spec.features()) {
      if (f.field() != null) {
        out.add(f.field());
      }
    }
    for (TopologySpec.AlsoTarget a : spec.target().also()) {
      out.add(a.field());
    }
    return List.copyOf(out);
  }

  /**
   * The {@code lag} of each lag column, in column order: {@link #features} takes the raw target
   * {@code lags()[i] - 1} events before the event at index i of its {@code lagged} argument.
   */
  public int[] lags() {
    return lags.clone();
  }

  /** The number of lag columns. */
  public int lagCount() {
    return lags.length;
  }

  /** The lag of lag column {@code i}. */
  public int lag(int i) {
    return lags[i];
  }

  private static String lower(TargetTransform t) {
    return t.name().toLowerCase(Locale.ROOT);
  }

  /** The targets' names, the first being {@code target.field}. */
  public List<String> targetNames() {
    return targetNames;
  }

  /** The targets' transform ids ({@code none}, {@code difference}, {@code log_return}). */
  public List<String> transformIds() {
    List<String> out = new ArrayList<>(transforms.length);
    for (TargetTransform t : transforms) {
      out.add(lower(t));
    }
    return List.copyOf(out);
  }

  /** Number of targets. */
  public int targetCount() {
    return transforms.length;
  }

  /** The transform of target {@code j}. */
  public TargetTransform transform(int j) {
    return transforms[j];
  }

  /** The horizons, in events ahead, ascending from 1. */
  public int[] horizons() {
    return horizons.clone();
  }

  /** Number of horizons. */
  public int horizonCount() {
    return horizons.length;
  }

  /** Horizon {@code k} in events ahead. */
  public int horizon(int k) {
    return horizons[k];
  }

  /** Number of model outputs: targets times horizons. */
  public int outputCount() {
    return outputNames.size();
  }

  /** The names of the model's outputs, {@code target@horizon}, target-major. */
  public List<String> outputNames() {
    return outputNames;
  }

  /** The value of target {@code j} in event {@code e}, in its own units. */
  public double target(Event e, int j) {
    return j == 0 ? e.target : e.fields[featureFieldCount + j - 1];
  }

  /** Names of the columns of {@code x}; a model must list exactly these. */
  public List<String> columns() {
    return columns;
  }

  /** Width of {@code x}. */
  public int width() {
    return columns.size();
  }

  /** The target transform. */
  public TargetTransform transform() {
    return transform;
  }

  /**
   * Fills missing input fields (NaN) from the series' last values. Returns the index of the first
   * field that cannot be filled (never seen before), or -1 when all are present.
   */
  public int carryForward(Event e, SeriesMemory memory) {
    double[] f = e.fields;
    float[] last = memory.lastFields();
    for (int i = 0; i < f.length; i++) {
      if (Double.isNaN(f[i])) {
        if (last == null || i >= last.length || Float.isNaN(last[i])) {
          return i;
        }
        f[i] = last[i];
      }
    }
    return -1;
  }

  /**
   * Computes {@code x} for event {@code e} of a pipeline without lag features, given what the
   * series remembers. Allocates nothing.
   *
   * @throws IllegalStateException when the pipeline has lag features (use the overload that takes
   *     their values)
   */
  public void features(Event e, SeriesMemory memory, float[] x) {
    features(e, memory, NO_LAGS, x, 0);
  }

  /**
   * Computes {@code x} for event {@code e} into {@code x[offset .. offset + width())} (one row of a
   * batch). Allocates nothing.
   *
   * @param lagged for each lag column i, the raw target {@code lag(i) - 1} events before {@code e}
   *     (NaN when not known: the column falls back to persistence)
   */
  public void features(Event e, SeriesMemory memory, double[] lagged, float[] x, int offset) {
    if (lagged.length < lags.length) {
      throw new IllegalStateException(
          "the pipeline has " + lags.length + " lag features, got " + lagged.length + " values");
    }
    boolean prev = memory.hasPrevious();
    x[offset] = (float) transformed(e.target, prev ? memory.previousTarget() : Double.NaN);
    int j = offset + 1;
    for (int i = 0; i < featureFieldCount; i++) {
      x[j++] = (float) e.fields[i];
    }
    for (int i = featureFieldCount; i < fieldCount; i++) {
      TargetTransform tf = transforms[i - featureFieldCount + 1];
      double previous = prev ? memory.lastFields()[i] : Double.NaN;
      x[j++] = (float) transformed(tf, e.fields[i], previous);
    }
    for (int i = 0; i < lags.length; i++) {
      double v = lagged[i];
      x[j++] = (float) label(Double.isNaN(v) ? e.target : v, e.target);
    }
    if (calendar.length > 0) {
      ZonedDateTime t = Instant.ofEpochMilli(e.timeMillis).atZone(zone);
      for (TopologySpec.CalendarFeature c : calendar) {
        double phase = phase(c, t);
        x[j++] = (float) Math.sin(TWO_PI * phase);
        x[j++] = (float) Math.cos(TWO_PI * phase);
      }
    }
    if (timeSincePrevious) {
      x[j] = prev ? (float) ((e.timeMillis - memory.previousTime()) / HOUR_MS) : 0f;
    }
  }

  /** Remembers this event's target, time and fields for the next one. */
  public void remember(Event e, MutableMemory memory) {
    memory.remember(e.timeMillis, e.target, e.fields);
  }

  /** The transformed target for {@code value} following {@code previous} (NaN: first event). */
  public double transformed(double value, double previous) {
    return transformed(transform, value, previous);
  }

  private static double transformed(TargetTransform transform, double value, double previous) {
    switch (transform) {
      case DIFFERENCE:
        return Double.isNaN(previous) ? 0.0 : value - previous;
      case LOG_RETURN:
        return Double.isNaN(previous) ? 0.0 : Math.log(value / previous);
      case NONE:
      default:
        return value;
    }
  }

  /** The training label at an event: the next event's transformed target. */
  public double label(double next, double current) {
    return transformed(next, current);
  }

  /**
   * The training label of target {@code j} at an event: its value {@code h} events later ({@code
   * later}) transformed against the current one.
   */
  public double label(int j, double later, double current) {
    return transformed(transforms[j], later, current);
  }

  /** Maps a model output back to a forecast of the next target, in the target's own units. */
  public double forecast(double y, double current) {
    return forecast(transform, y, current);
  }

  /** Maps a model output of target {@code j} back to a forecast in that target's own units. */
  public double forecast(int j, double y, double current) {
    return forecast(transforms[j], y, current);
  }

  private static double forecast(TargetTransform transform, double y, double current) {
    switch (transform) {
      case DIFFERENCE:
        return current + y;
      case LOG_RETURN:
        return current * Math.exp(y);
      case NONE:
      default:
        return y;
    }
  }

  private static double phase(TopologySpec.CalendarFeature c, ZonedDateTime t) {
    switch (c) {
      case HOUR_OF_DAY:
        return (t.getHour() + t.getMinute() / 60.0) / 24.0;
      case DAY_OF_WEEK:
        return (t.getDayOfWeek().getValue() - 1 + t.getHour() / 24.0) / 7.0;
      case MONTH_OF_YEAR:
        return (t.getMonthValue()
                - 1
                + (t.getDayOfMonth() - 1 + t.getHour() / 24.0) / t.toLocalDate().lengthOfMonth())
            / 12.0;
      case DAY_OF_YEAR:
      default:
        return (t.getDayOfYear() - 1 + t.getHour() / 24.0) / 365.25;
    }
  }

  /** A {@link SeriesMemory} that can be updated after an event. */
  public interface MutableMemory extends SeriesMemory {
    /** Records an event as the previous one. */
    void remember(long timeMillis, double target, double[] fields);
  }
}
