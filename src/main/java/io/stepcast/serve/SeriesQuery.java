package io.stepcast.serve;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.stepcast.config.TopologySpec;
import io.stepcast.engine.RecentInputs;
import io.stepcast.engine.StepEngine;
import io.stepcast.engine.StepListener;
import io.stepcast.model.ModelRegistry;
import io.stepcast.state.ModelId;
import io.stepcast.state.SeriesState;
import io.stepcast.topology.ForecastTopology;
import io.stepcast.topology.StoreRecentInputs;
import java.time.Instant;
import java.util.List;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * Reads a series' live state and rolls a multi-step forecast forward from it without changing it:
 * each step feeds the previous forecasts back as the next event's targets, with the input fields
 * carried forward and the time advanced by the series' last interval on its calendar ({@code
 * timestamp.calendar}: with {@code business_days} no step lands on a Saturday or Sunday).
 */
public final class SeriesQuery {
  /** The most steps a rolled forecast may take. */
  public static final int MAX_STEPS = 1000;

  private final TopologySpec spec;
  private final ObjectMapper json;

  public SeriesQuery(TopologySpec spec, ObjectMapper json) {
    this.spec = spec;
    this.json = json;
  }

  /**
   * The state summary of a series. The state records the compact id of its model ({@code modelId});
   * {@code model} names it when it is the serving model ({@code servingVersion}), and is null
   * otherwise (the series' next event rebuilds it for the serving model).
   */
  public ObjectNode summary(String id, SeriesState s, String servingVersion) {
    ObjectNode n = json.createObjectNode();
    n.put("series", id);
    n.put("pipeline", spec.name());
    if (servingVersion != null && s.madeBy(ModelId.of(servingVersion))) {
      n.put("model", servingVersion);
    } else {
      n.putNull("model");
    }
    n.put("modelId", ModelId.hex(s.modelId()));
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
   * Rolls {@code steps} forecasts forward from a copy of the state with the same {@link StepEngine}
   * the live path steps with ({@link StepEngine#roll}). The first is the forecast the series made
   * at its last event. {@code recent} is the store of the series' kept events ({@link
   * ForecastTopology#RECENT_STORE}), which lag features read.
   */
  public ObjectNode forecast(
      String id,
      SeriesState s,
      int steps,
      ModelRegistry.Handle handle,
      ReadOnlyKeyValueStore<Bytes, byte[]> recent) {
    ObjectNode n = json.createObjectNode();
    n.put("series", id);
    n.put("model", handle.version());
    ArrayNode out = n.putArray("forecasts");
    long[] times = new long[steps];
    int made;
    int targets;
    double[] forecasts;
    List<String> names;
    RecentInputs rows = StoreRecentInputs.readOnly(recent, spec);
    try (StepEngine engine = new StepEngine(spec, 1, rows, StepListener.NONE)) {
      engine.use(handle.model());
      targets = engine.targetCount();
      names = engine.pipeline().targetNames();
      forecasts = new double[steps * targets];
      made = engine.roll(id, s, steps, times, forecasts);
    }
    for (int k = 0; k < made; k++) {
      ObjectNode f = out.addObject();
      f.put("step", k + 1);
      f.put("eventTime", times[k]);
      f.put("timestamp", Instant.ofEpochMilli(times[k]).toString());
      putNumber(f, "forecast", forecasts[k * targets]);
      if (targets > 1) {
        ObjectNode all = f.putObject("targets");
        for (int j = 0; j < targets; j++) {
          putNumber(all, names.get(j), forecasts[k * targets + j]);
        }
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
