package io.stepcast.topology;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.SerializableString;
import com.fasterxml.jackson.core.StreamWriteFeature;
import com.fasterxml.jackson.core.io.SerializedString;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;
import io.stepcast.engine.StepEngine;
import io.stepcast.features.SeriesCalendar;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.List;

/**
 * Writes forecast records as JSON with one reused generator and buffer per stream task.
 *
 * <p>Fields: {@code series}, {@code timestamp} (ISO-8601 UTC), {@code eventTime} (epoch ms), {@code
 * target} (field name), {@code actual} (the target in this event), {@code forecast} (of the next
 * value, in the target's units), {@code previousForecast} and {@code error} (actual minus the
 * forecast made at the previous event; null for a series' first event), {@code persistenceError}
 * (actual minus the previous actual), {@code model}, {@code steps}, {@code warm}; with interval
 * levels also {@code intervals} (per level, e.g. {@code "0.95"}, the {@code lower} and {@code
 * upper} bound of the forecast's prediction interval; null before the series' first scored error),
 * {@code intervalsWarm} (the calibration has seen {@code intervals.warmUp} errors and, after a
 * model swap, {@code intervals.swapWarmUp} of the new model's), {@code anomaly} (the actual fell
 * outside the widest interval of the forecast it scores) and {@code held} (the anomaly was held:
 * the series stepped on that forecast instead of the actual). All of these are about the first
 * target and the next event. A pipeline with several targets or horizons adds {@code actuals} (each
 * target's value in this event) and {@code forecasts}, one object per target and horizon,
 * target-major: {@code target}, {@code horizon} (events ahead), {@code for} and {@code forTime}
 * (the time it is for on the series' calendar, null before the series has an interval), {@code
 * forecast} (made now), {@code error} (this event's actual minus the forecast of this horizon made
 * {@code horizon} events ago, null when none is kept) and {@code persistenceError} (this event's
 * actual minus the actual {@code horizon} events ago); with interval levels also {@code intervals}
 * (as above, around this output's forecast, from this output's own calibration; null before its
 * first scored error) and {@code intervalsWarm} (that calibration is warm).
 *
 * <p>Per record it is the edge that costs most after the producer: on Java 17 {@code
 * Double.toString} (what Jackson writes doubles with by default) took most of it. Doubles are
 * written with Jackson's Schubfach writer ({@link StreamWriteFeature#USE_FAST_DOUBLE_WRITER}: the
 * same shortest round-tripping digits, several times faster), the ISO timestamp from the epoch
 * millis into a reused buffer, field names and the constant target name pre-encoded. No allocation
 * but the returned bytes.
 *
 * <p>Public so the benchmark's windowed peer writes exactly the same output.
 */
public final class ForecastWriter {
  private static final JsonFactory JSON =
      JsonFactory.builder().enable(StreamWriteFeature.USE_FAST_DOUBLE_WRITER).build();
  private static final SerializableString SERIES = new SerializedString("series");
  private static final SerializableString TIMESTAMP = new SerializedString("timestamp");
  private static final SerializableString EVENT_TIME = new SerializedString("eventTime");
  private static final SerializableString TARGET = new SerializedString("target");
  private static final SerializableString ACTUAL = new SerializedString("actual");
  private static final SerializableString FORECAST = new SerializedString("forecast");
  private static final SerializableString PREVIOUS = new SerializedString("previousForecast");
  private static final SerializableString ERROR = new SerializedString("error");
  private static final SerializableString PERSISTENCE = new SerializedString("persistenceError");
  private static final SerializableString MODEL = new SerializedString("model");
  private static final SerializableString STEPS = new SerializedString("steps");
  private static final SerializableString WARM = new SerializedString("warm");
  private static final SerializableString INTERVALS = new SerializedString("intervals");
  private static final SerializableString LOWER = new SerializedString("lower");
  private static final SerializableString UPPER = new SerializedString("upper");
  private static final SerializableString INTERVALS_WARM = new SerializedString("intervalsWarm");
  private static final SerializableString ANOMALY = new SerializedString("anomaly");
  private static final SerializableString HELD = new SerializedString("held");
  private static final SerializableString ACTUALS = new SerializedString("actuals");
  private static final SerializableString FORECASTS = new SerializedString("forecasts");
  private static final SerializableString HORIZON = new SerializedString("horizon");
  private static final SerializableString FOR = new SerializedString("for");
  private static final SerializableString FOR_TIME = new SerializedString("forTime");

  private final ByteArrayBuilder buffer = new ByteArrayBuilder(320);
  private final JsonGenerator gen;
  private final SerializableString target;
  private final SerializableString[] levels;
  private final SerializableString[] targets;
  private final int[] horizons;
  private final char[] iso = new char[24];
  private String lastModel;
  private SerializableString model;

  /** A writer of records without prediction intervals. */
  public ForecastWriter(String target) {
    this(target, List.of());
  }

  /** A writer of records with prediction intervals at {@code levels} (e.g. 0.8, 0.95). */
  public ForecastWriter(String target, List<Double> levels) {
    this(List.of(target), new int[] {1}, levels);
  }

  /**
   * A writer for a pipeline with these targets (the first is the target), horizons and interval
   * levels; with more than one target or horizon, records carry {@code actuals} and {@code
   * forecasts}.
   */
  public ForecastWriter(List<String> targets, int[] horizons, List<Double> levels) {
    this.target = new SerializedString(targets.get(0));
    this.targets = new SerializableString[targets.size()];
    for (int j = 0; j < this.targets.length; j++) {
      this.targets[j] = new SerializedString(targets.get(j));
    }
    this.horizons = horizons.clone();
    this.levels = new SerializableString[levels.size()];
    for (int i = 0; i < this.levels.length; i++) {
      this.levels[i] = new SerializedString(Double.toString(levels.get(i)));
    }
    try {
      this.gen = JSON.createGenerator(buffer);
      gen.setRootValueSeparator(null);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The forecast record of one event, without interval and anomaly fields. */
  public byte[] write(
      String series,
      long eventTime,
      double actual,
      double forecast,
      double previousForecast,
      double previousActual,
      String model,
      long steps,
      boolean warm) {
    return write(
        series,
        eventTime,
        actual,
        forecast,
        previousForecast,
        previousActual,
        model,
        steps,
        warm,
        null,
        0,
        false,
        false,
        false,
        null,
        0);
  }

  /**
   * The forecast record of one event with its prediction intervals and anomaly flags and, with
   * several targets or horizons, {@code engine}'s slot {@code slot}: every target's actual and
   * every horizon's forecast and score (null: one target at horizon 1).
   */
  public byte[] write(
      String series,
      long eventTime,
      double actual,
      double forecast,
      double previousForecast,
      double previousActual,
      String model,
      long steps,
      boolean warm,
      double[] halfWidths,
      int offset,
      boolean intervalsWarm,
      boolean anomaly,
      boolean held,
      StepEngine engine,
      int slot) {
    try {
      gen.writeStartObject();
      gen.writeFieldName(SERIES);
      gen.writeString(series);
      gen.writeFieldName(TIMESTAMP);
      writeIso(eventTime);
      gen.writeFieldName(EVENT_TIME);
      gen.writeNumber(eventTime);
      gen.writeFieldName(TARGET);
      gen.writeString(target);
      gen.writeFieldName(ACTUAL);
      gen.writeNumber(actual);
      gen.writeFieldName(FORECAST);
      gen.writeNumber(forecast);
      numberOrNull(PREVIOUS, previousForecast);
      numberOrNull(ERROR, Double.isNaN(previousForecast) ? Double.NaN : actual - previousForecast);
      numberOrNull(
          PERSISTENCE, Double.isNaN(previousActual) ? Double.NaN : actual - previousActual);
      gen.writeFieldName(MODEL);
      gen.writeString(modelName(model));
      gen.writeFieldName(STEPS);
      gen.writeNumber(steps);
      gen.writeFieldName(WARM);
      gen.writeBoolean(warm);
      if (halfWidths != null) {
        writeIntervals(forecast, halfWidths, offset);
        gen.writeFieldName(INTERVALS_WARM);
        gen.writeBoolean(intervalsWarm);
        gen.writeFieldName(ANOMALY);
        gen.writeBoolean(anomaly);
        gen.writeFieldName(HELD);
        gen.writeBoolean(held);
      }
      if (engine != null && engine.multiOutput()) {
        writeOutputs(engine, slot);
      }
      gen.writeEndObject();
      gen.flush();
      byte[] out = buffer.toByteArray();
      buffer.reset();
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void writeIntervals(double forecast, double[] halfWidths, int offset) throws IOException {
    gen.writeFieldName(INTERVALS);
    if (levels.length == 0 || Double.isNaN(halfWidths[offset]) || Double.isNaN(forecast)) {
      gen.writeNull();
      return;
    }
    gen.writeStartObject();
    for (int i = 0; i < levels.length; i++) {
      double h = halfWidths[offset + i];
      gen.writeFieldName(levels[i]);
      gen.writeStartObject();
      gen.writeFieldName(LOWER);
      gen.writeNumber(forecast - h);
      gen.writeFieldName(UPPER);
      gen.writeNumber(forecast + h);
      gen.writeEndObject();
    }
    gen.writeEndObject();
  }

  private void writeOutputs(StepEngine engine, int slot) throws IOException {
    gen.writeFieldName(ACTUALS);
    gen.writeStartObject();
    for (int j = 0; j < targets.length; j++) {
      gen.writeFieldName(targets[j]);
      gen.writeNumber(engine.actual(slot, j));
    }
    gen.writeEndObject();
    gen.writeFieldName(FORECASTS);
    gen.writeStartArray();
    for (int j = 0; j < targets.length; j++) {
      double actual = engine.actual(slot, j);
      for (int k = 0; k < horizons.length; k++) {
        gen.writeStartObject();
        gen.writeFieldName(TARGET);
        gen.writeString(targets[j]);
        gen.writeFieldName(HORIZON);
        gen.writeNumber(horizons[k]);
        long at = engine.forTime(slot, k);
        gen.writeFieldName(FOR);
        if (at == SeriesCalendar.UNKNOWN) {
          gen.writeNull();
          gen.writeFieldName(FOR_TIME);
          gen.writeNull();
        } else {
          writeIso(at);
          gen.writeFieldName(FOR_TIME);
          gen.writeNumber(at);
        }
        numberOrNull(FORECAST, engine.forecast(slot, j, k));
        double past = engine.pastForecast(slot, j, k);
        numberOrNull(ERROR, Double.isNaN(past) ? Double.NaN : actual - past);
        double then = engine.pastActual(slot, j, k);
        numberOrNull(PERSISTENCE, Double.isNaN(then) ? Double.NaN : actual - then);
        if (levels.length > 0) {
          writeOutputIntervals(engine, slot, j, k);
        }
        gen.writeEndObject();
      }
    }
    gen.writeEndArray();
  }

  /** The intervals of one output's forecast, and whether its calibration is warm. */
  private void writeOutputIntervals(StepEngine engine, int slot, int j, int k) throws IOException {
    writeIntervals(
        engine.forecast(slot, j, k), engine.outputHalfWidths(), engine.outputOffset(slot, j, k));
    gen.writeFieldName(INTERVALS_WARM);
    gen.writeBoolean(engine.intervalsWarm(slot, j, k));
  }

  /** An instant as an ISO-8601 UTC string, from a reused buffer. */
  private void writeIso(long millis) throws IOException {
    int n = IsoInstant.format(millis, iso);
    if (n > 0) {
      gen.writeString(iso, 0, n);
    } else {
      gen.writeString(Instant.ofEpochMilli(millis).toString());
    }
  }

  private SerializableString modelName(String version) {
    if (!version.equals(lastModel)) {
      lastModel = version;
      model = new SerializedString(version);
    }
    return model;
  }

  private void numberOrNull(SerializableString name, double v) throws IOException {
    gen.writeFieldName(name);
    if (Double.isNaN(v)) {
      gen.writeNull();
    } else {
      gen.writeNumber(v);
    }
  }
}
