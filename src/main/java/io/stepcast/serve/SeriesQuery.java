package io.stepcast.serve;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.stepcast.config.TopologySpec;
import io.stepcast.features.Event;
import io.stepcast.features.FeaturePipeline;
import io.stepcast.features.SeriesReplay;
import io.stepcast.model.ModelException;
import io.stepcast.model.ModelRegistry;
import io.stepcast.model.Stepper;
import io.stepcast.state.SeriesState;
import java.time.Instant;

/**
 * Reads a series' live state and rolls a multi-step forecast forward from it without changing it:
 * each step feeds the previous forecast back as the next event's target, with the input fields
 * carried forward and the time advanced by the series' last interval.
 */
public final class SeriesQuery {
  /** The most steps a rolled forecast may take. */
  public static final int MAX_STEPS = 1000;

  private final TopologySpec spec;
  private final FeaturePipeline pipeline;
  private final ObjectMapper json;

  public SeriesQuery(TopologySpec spec, ObjectMapper json) {
    this.spec = spec;
    this.pipeline = new FeaturePipeline(spec);
    this.json = json;
  }

  /** The state summary of a series. */
  public ObjectNode summary(String id, SeriesState s) {
    ObjectNode n = json.createObjectNode();
    n.put("series", id);
    n.put("pipeline", spec.name());
    n.put("model", s.modelVersion());
    n.put("steps", s.steps());
    n.put("modelSteps", s.modelSteps());
    n.put("lastEventTime", s.lastEventTime());
    n.put("lastTimestamp", Instant.ofEpochMilli(s.lastEventTime()).toString());
    n.put("lastIntervalMs", s.lastIntervalMs());
    putNumber(n, "lastActual", s.lastTarget());
    putNumber(n, "lastForecast", s.lastForecast());
    n.put("scored", s.errorCount());
    putNumber(n, "mae", s.mae());
    putNumber(n, "persistenceMae", s.persistenceMae());
    n.put("ringBuffer", s.ringSize());
    ArrayNode states = n.putArray("stateNorms");
    for (float[] t : s.states()) {
      double sum = 0;
      for (float v : t) {
        sum += (double) v * v;
      }
      states.add(Math.sqrt(sum));
    }
    return n;
  }

  /**
   * Rolls {@code steps} forecasts forward from a copy of the state. The first is the forecast the
   * series made at its last event.
   */
  public ObjectNode forecast(String id, SeriesState s, int steps, ModelRegistry.Handle handle) {
    ObjectNode n = json.createObjectNode();
    n.put("series", id);
    n.put("model", handle.version());
    ArrayNode out = n.putArray("forecasts");
    float[][] states = new float[s.states().length][];
    for (int i = 0; i < states.length; i++) {
      states[i] = s.states()[i].clone();
    }
    float[] fields = s.lastFields().clone();
    double[] carried = new double[fields.length];
    for (int i = 0; i < fields.length; i++) {
      carried[i] = fields[i];
    }
    SeriesReplay.Memory memory = new SeriesReplay.Memory(fields.length);
    memory.remember(s.lastEventTime(), s.lastTarget(), carried);
    long interval = s.lastIntervalMs() > 0 ? s.lastIntervalMs() : 1;
    long time = s.lastEventTime();
    double forecast = s.lastForecast();
    float[] x = new float[pipeline.width()];
    float[] y = new float[1];
    try (Stepper stepper = handle.model().newStepper(1)) {
      for (int k = 0; k < steps; k++) {
        time += interval;
        ObjectNode f = out.addObject();
        f.put("step", k + 1);
        f.put("eventTime", time);
        f.put("timestamp", Instant.ofEpochMilli(time).toString());
        putNumber(f, "forecast", forecast);
        if (k == steps - 1 || Double.isNaN(forecast)) {
          break;
        }
        Event e = Event.of(id, time, forecast, carried);
        pipeline.features(e, memory, x);
        try {
          stepper.step(x, states, y);
        } catch (ModelException ex) {
          throw new IllegalStateException(
              "model " + handle.version() + " failed: " + ex.getMessage(), ex);
        }
        pipeline.remember(e, memory);
        forecast = pipeline.forecast(y[0], forecast);
      }
    }
    return n;
  }

  private static void putNumber(ObjectNode n, String name, double v) {
    if (Double.isNaN(v)) {
      n.putNull(name);
    } else {
      n.put(name, v);
    }
  }
}
