package io.stepcast.features;

import java.util.Arrays;
import java.util.List;

/**
 * Runs a series' events through the feature pipeline the way the server does, giving the input rows
 * {@code x} and the labels {@code y} (the next event's transformed target) the trainer learns from.
 * The last event has no label, so a series of n events gives n-1 rows. With several targets or
 * horizons a row's labels are every target {@code h} events later for every horizon {@code h}
 * ({@link FeaturePipeline#outputNames} order); a label past the series' end is NaN (the trainer
 * masks it out). A {@code lag} feature reads the target {@code lag - 1} events back in the list, as
 * the server reads it from the row it kept.
 */
public final class SeriesReplay {
  private SeriesReplay() {}

  /**
   * Feature rows and labels of one series. {@code targets[t]} is event t's raw (first) target;
   * {@code allTargets[j][t]} event t's target {@code j}.
   */
  public record Rows(
      float[][] x, float[][] y, double[] targets, long[] times, double[][] allTargets) {

    /** Rows of a single-target series. */
    public Rows(float[][] x, float[][] y, double[] targets, long[] times) {
      this(x, y, targets, times, new double[][] {targets});
    }
  }

  /** Computes the rows of a time-ordered list of events of one series. */
  public static Rows rows(FeaturePipeline pipeline, List<Event> events) {
    int n = events.size();
    int m = Math.max(0, n - 1);
    float[][] x = new float[m][];
    float[][] y = new float[m][];
    int targetCount = pipeline.targetCount();
    int[] horizons = pipeline.horizons();
    double[][] all = new double[targetCount][n];
    long[] times = new long[n];
    Memory memory = new Memory(events.isEmpty() ? 0 : events.get(0).fields.length);
    double[] lagged = new double[pipeline.lagCount()];
    for (int t = 0; t < n; t++) {
      Event e = events.get(t);
      for (int j = 0; j < targetCount; j++) {
        all[j][t] = pipeline.target(e, j);
      }
      times[t] = e.timeMillis;
    }
    for (int t = 0; t < n; t++) {
      Event e = events.get(t);
      if (t < m) {
        for (int i = 0; i < lagged.length; i++) {
          int back = t - (pipeline.lag(i) - 1);
          lagged[i] = back >= 0 ? events.get(back).target : Double.NaN;
        }
        float[] row = new float[pipeline.width()];
        pipeline.features(e, memory, lagged, row, 0);
        x[t] = row;
        float[] labels = new float[targetCount * horizons.length];
        for (int j = 0; j < targetCount; j++) {
          for (int k = 0; k < horizons.length; k++) {
            int later = t + horizons[k];
            labels[j * horizons.length + k] =
                later < n ? (float) pipeline.label(j, all[j][later], all[j][t]) : Float.NaN;
          }
        }
        y[t] = labels;
      }
      pipeline.remember(e, memory);
    }
    return new Rows(x, y, all[0], times, all);
  }

  /** A plain in-memory {@link FeaturePipeline.MutableMemory}. */
  public static final class Memory implements FeaturePipeline.MutableMemory {
    private boolean has;
    private long time;
    private double target;
    private final float[] fields;

    public Memory(int fieldCount) {
      this.fields = new float[fieldCount];
      Arrays.fill(fields, Float.NaN);
    }

    @Override
    public boolean hasPrevious() {
      return has;
    }

    @Override
    public long previousTime() {
      return time;
    }

    @Override
    public double previousTarget() {
      return target;
    }

    @Override
    public float[] lastFields() {
      return fields;
    }

    @Override
    public void remember(long timeMillis, double target, double[] values) {
      this.has = true;
      this.time = timeMillis;
      this.target = target;
      for (int i = 0; i < values.length && i < fields.length; i++) {
        fields[i] = (float) values[i];
      }
    }
  }
}
