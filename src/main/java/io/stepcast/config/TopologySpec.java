package io.stepcast.config;

import java.util.List;

/**
 * One forecasting pipeline, as written in {@code topologies/NAME.yaml}: where events come from, how
 * a series and its features are read, where forecasts and dead letters go, where models come from,
 * and the policies for missing values and model swaps.
 *
 * <p>Load it with {@link SpecLoader}, which applies environment overrides and validates every field
 * before any Kafka client starts.
 */
public record TopologySpec(
    String name,
    String applicationId,
    Topics topics,
    SeriesId seriesId,
    Timestamp timestamp,
    List<Feature> features,
    Target target,
    Model model,
    Policies policies,
    Intervals intervals,
    Training training,
    Execution execution,
    Processing processing,
    Csv csv) {

  /**
   * Topic names; {@code partitions} and {@code replicationFactor} apply when stepcast creates them.
   */
  public record Topics(
      String input,
      String output,
      String deadLetter,
      String model,
      int partitions,
      short replicationFactor) {}

  /** Where the series id comes from: the record key, or a field of the JSON value. */
  public record SeriesId(SeriesIdSource from, String field) {}

  /**
   * The event-time field and how it is written, and the window of plausible event times: an event
   * before {@code earliest} (ISO-8601 instant or date) or more than {@code maxAhead} (ISO-8601
   * duration) ahead of the reading instance's clock is dead-lettered as {@code out_of_range}.
   * {@code calendar} is the series' own time axis, which the times of forecasts several events
   * ahead follow: {@code continuous}, or {@code business_days} (Saturdays and Sundays, in {@code
   * zone}, do not exist, nor the ISO dates listed in {@code holidays}).
   */
  public record Timestamp(
      String field,
      TimestampFormat format,
      String pattern,
      String zone,
      String earliest,
      String maxAhead,
      TimeCalendar calendar,
      List<String> holidays) {

    /** A timestamp section on a continuous calendar (code and tests that build one by hand). */
    public Timestamp(
        String field,
        TimestampFormat format,
        String pattern,
        String zone,
        String earliest,
        String maxAhead) {
      this(field, format, pattern, zone, earliest, maxAhead, TimeCalendar.CONTINUOUS, List.of());
    }

    /**
     * {@code earliest} in epoch milliseconds: an ISO-8601 instant ({@code 1900-01-01T00:00:00Z}) or
     * date ({@code 1900-01-01}, midnight UTC).
     *
     * @throws java.time.DateTimeException if it is neither
     */
    public long earliestMillis() {
      return toMillis(earliest);
    }

    /** An ISO-8601 instant or date (midnight UTC) in epoch milliseconds. */
    static long toMillis(String text) {
      return text.length() <= 10
          ? java.time.LocalDate.parse(text)
              .atStartOfDay(java.time.ZoneOffset.UTC)
              .toInstant()
              .toEpochMilli()
          : java.time.Instant.parse(text).toEpochMilli();
    }

    /**
     * {@code maxAhead} in milliseconds.
     *
     * @throws java.time.DateTimeException if it is not an ISO-8601 duration such as {@code P1D}
     * @throws ArithmeticException if it does not fit in milliseconds
     */
    public long maxAheadMillis() {
      return java.time.Duration.parse(maxAhead).toMillis();
    }
  }

  /**
   * One input feature: a numeric {@code field} of the event, a {@code calendar} encoding of the
   * event time (sine and cosine), the time since the series' previous event ({@code
   * timeSincePrevious: true}, in hours), or the target {@code lag} events before the event being
   * forecast ({@code lag: 24} on hourly data: the same hour yesterday, so the model can learn the
   * residual over the seasonal-naive forecast).
   */
  public record Feature(
      String field,
      CalendarFeature calendar,
      Boolean timeSincePrevious,
      Integer lag,
      Double min,
      Double max) {}

  /**
   * The value to forecast. The model learns the transformed target; forecasts are always emitted in
   * the target's own units. {@code season} (in events) enables the seasonal-naive baseline. {@code
   * min} and {@code max} (optional, also on a numeric feature) bound plausible values: outside them
   * an event is dead-lettered as {@code out_of_range}. {@code also} names further targets the same
   * model forecasts (each with its transform and range; each is also an input), and {@code
   * horizons} how many events ahead every target is forecast ({@code [1]}: the next event only;
   * always starting with 1).
   */
  public record Target(
      String field,
      TargetTransform transform,
      Integer season,
      Double min,
      Double max,
      List<AlsoTarget> also,
      List<Integer> horizons) {}

  /**
   * A further target forecast by the same model ({@code target.also}): a numeric field, its
   * transform (null: {@code none}) and its plausible range.
   */
  public record AlsoTarget(String field, TargetTransform transform, Double min, Double max) {

    /** The transform, {@code none} when not set. */
    public TargetTransform transformOrNone() {
      return transform == null ? TargetTransform.NONE : transform;
    }
  }

  /**
   * Where models come from (a directory that is watched, the model topic, or both), what a series
   * whose state came from an older model does on its next event, and the version to serve whatever
   * newer ones exist ({@code pin}, null: the newest valid one).
   */
  public record Model(
      String directory,
      boolean followTopic,
      OnSwap onSwap,
      int ringBuffer,
      long pollIntervalMs,
      long startupTimeoutMs,
      String pin) {}

  /**
   * What to do with an event whose input field is missing (null or absent), and with an actual that
   * falls outside the widest prediction interval of the forecast it scores ({@code anomaly}).
   */
  public record Policies(MissingPolicy missing, AnomalyPolicy anomaly) {}

  /**
   * Prediction intervals on every forecast, calibrated online per series from its own errors:
   * nominal coverage {@code levels} (each in (0, 1)), the calibration's step size {@code
   * learningRate}, the memory of the error scale in events {@code scaleEvents}, and the scored
   * errors after which a series' intervals count as warm ({@code warmUp}); when a new model takes
   * over a series, whether its calibration is kept ({@code onSwap: keep}: its scale then follows
   * the new model's errors at once) or starts over ({@code reset}), and how many of the new model's
   * forecasts must be scored before its intervals count as warm again ({@code swapWarmUp}).
   */
  public record Intervals(
      List<Double> levels,
      double learningRate,
      int scaleEvents,
      int warmUp,
      IntervalsOnSwap onSwap,
      int swapWarmUp) {}

  /** Network and optimiser settings for {@code stepcast train}. */
  public record Training(
      String cell,
      int layers,
      int hiddenSize,
      double dropout,
      double learningRate,
      int maxEpochs,
      int chunkLength,
      double gradientClip,
      int patience,
      double validationFraction,
      long seed,
      String loss,
      int burnIn,
      Integer arOrder,
      double testFraction,
      int ensemble) {}

  /** ONNX Runtime execution: provider, fall back to CPU when CUDA is unavailable, threads. */
  public record Execution(
      String provider, boolean fallbackToCpu, int cudaDeviceId, int intraOpThreads) {}

  /**
   * Kafka Streams processing settings. {@code rocksdbMemoryMb}: native memory of all RocksDB state
   * stores of the instance (block cache, index and filter blocks, memtables), 0 for RocksDB's
   * unbounded per-store defaults; {@code rocksdbWriteBufferMb}: the memtables' part of it; {@code
   * cacheMaxBytes}: the record cache in front of the series state store (0: none); {@code
   * batchSize}: the most series stepped in one ONNX Runtime call (1: one call per event).
   */
  public record Processing(
      String guarantee,
      int numStreamThreads,
      int standbyReplicas,
      long commitIntervalMs,
      int rocksdbMemoryMb,
      int rocksdbWriteBufferMb,
      long cacheMaxBytes,
      int batchSize) {}

  /**
   * How CSV history maps to events (for {@code replay} and {@code train --csv}): the key column, or
   * a constant key when the file holds one series.
   */
  public record Csv(String keyColumn, String key) {}

  /** Source of the series id. */
  public enum SeriesIdSource {
    KEY,
    FIELD
  }

  /** How the timestamp field is written. */
  public enum TimestampFormat {
    ISO,
    EPOCH_MILLIS,
    PATTERN
  }

  /** Calendar encodings of the event time. */
  public enum CalendarFeature {
    HOUR_OF_DAY,
    DAY_OF_WEEK,
    DAY_OF_YEAR,
    MONTH_OF_YEAR
  }

  /** The time axis of a series: every instant, or business days only (no Saturdays, Sundays). */
  public enum TimeCalendar {
    CONTINUOUS,
    BUSINESS_DAYS
  }

  /** Target transforms. */
  public enum TargetTransform {
    NONE,
    DIFFERENCE,
    LOG_RETURN
  }

  /** Missing-value policies. */
  public enum MissingPolicy {
    SKIP,
    CARRY_FORWARD,
    REJECT
  }

  /**
   * What an anomalous actual does to the series: {@code flag} (marked, stepped as usual), {@code
   * hold} (marked; the network steps on the forecast in its place), {@code dead_letter} (to the
   * dead-letter topic; the series does not step).
   */
  public enum AnomalyPolicy {
    FLAG,
    HOLD,
    DEAD_LETTER
  }

  /** What a new model taking over a series does to its interval calibration. */
  public enum IntervalsOnSwap {
    KEEP,
    RESET
  }

  /** What a series made by an older model does on its next event. */
  public enum OnSwap {
    BURN_IN,
    RESET
  }
}
