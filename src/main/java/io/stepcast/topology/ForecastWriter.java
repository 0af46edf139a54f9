package io.stepcast.topology;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
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
 * <p>Public so the benchmark's windowed peer writes exactly the same output.
 */
public final class ForecastWriter {
  private static final JsonFactory JSON = new JsonFactory();

  private final ByteArrayBuilder buffer = new ByteArrayBuilder(256);
  private final JsonGenerator gen;
  private final String target;

  public ForecastWriter(String target) {
    this.target = target;
    try {
      this.gen = JSON.createGenerator(buffer);
      gen.setRootValueSeparator(null);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

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
      gen.writeStringField("series", series);
      gen.writeStringField("timestamp", Instant.ofEpochMilli(eventTime).toString());
      gen.writeNumberField("eventTime", eventTime);
      gen.writeStringField("target", target);
      gen.writeNumberField("actual", actual);
      gen.writeNumberField("forecast", forecast);
      numberOrNull("previousForecast", previousForecast);
      numberOrNull(
          "error", Double.isNaN(previousForecast) ? Double.NaN : actual - previousForecast);
      numberOrNull(
          "persistenceError", Double.isNaN(previousActual) ? Double.NaN : actual - previousActual);
      gen.writeStringField("model", model);
      gen.writeNumberField("steps", steps);
      gen.writeBooleanField("warm", warm);
      gen.writeEndObject();
      gen.flush();
      byte[] out = buffer.toByteArray();
      buffer.reset();
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void numberOrNull(String name, double v) throws IOException {
    if (Double.isNaN(v)) {
      gen.writeNullField(name);
    } else {
      gen.writeNumberField(name, v);
    }
  }
}
