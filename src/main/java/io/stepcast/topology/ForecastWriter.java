package io.stepcast.topology;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.SerializableString;
import com.fasterxml.jackson.core.StreamWriteFeature;
import com.fasterxml.jackson.core.io.SerializedString;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;

/**
 * Writes forecast records as JSON with one reused generator and buffer per stream task.
 *
 * <p>Fields: {@code series}, {@code timestamp} (ISO-8601 UTC), {@code eventTime} (epoch ms), {@code
 * target} (field name), {@code actual} (the target in this event), {@code forecast} (of the next
 * value, in the target's units), {@code previousForecast} and {@code error} (actual minus the
 * forecast made at the previous event; null for a series' first event), {@code persistenceError}
 * (actual minus the previous actual), {@code model}, {@code steps}, {@code warm}.
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

  private final ByteArrayBuilder buffer = new ByteArrayBuilder(320);
  private final JsonGenerator gen;
  private final SerializableString target;
  private final char[] iso = new char[24];
  private String lastModel;
  private SerializableString model;

  public ForecastWriter(String target) {
    this.target = new SerializedString(target);
    try {
      this.gen = JSON.createGenerator(buffer);
      gen.setRootValueSeparator(null);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The forecast record of one event. */
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
    try {
      gen.writeStartObject();
      gen.writeFieldName(SERIES);
      gen.writeString(series);
      gen.writeFieldName(TIMESTAMP);
      int n = IsoInstant.format(eventTime, iso);
      if (n > 0) {
        gen.writeString(iso, 0, n);
      } else {
        gen.writeString(Instant.ofEpochMilli(eventTime).toString());
      }
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
      gen.writeEndObject();
      gen.flush();
      byte[] out = buffer.toByteArray();
      buffer.reset();
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
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
