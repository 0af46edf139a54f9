package io.stepcast.serve;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.stepcast.config.TopologySpec;
import io.stepcast.engine.IntervalCalibration;
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
   * at its last event. At a step that is one of the pipeline's horizons the answer is the model's
   * own forecast for that horizon made at the last event ({@code forecastMethod: direct}; rolled
   * otherwise), with that output's calibrated intervals; see {@link #putIntervals}. {@code recent}
   * is the store of the series' kept events ({@link ForecastTopology#RECENT_STORE}), which lag
   * features read.
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
    IntervalCalibration intervals;
    boolean[] direct;
    RecentInputs rows = StoreRecentInputs.readOnly(recent, spec);
    try (StepEngine engine = new StepEngine(spec, 1, rows, StepListener.NONE)) {
      engine.use(handle.model());
      targets = engine.targetCount();
      names = engine.pipeline().targetNames();
      forecasts = new double[steps * targets];
      made = engine.roll(id, s, steps, times, forecasts);
      direct = new boolean[steps * targets];
      engine.putDirectForecasts(id, s, made, forecasts, direct);
      intervals = engine.intervals();
    }
    List<Double> levels = spec.intervals().levels();
    double[] halfWidths = new double[levels.size()];
    for (int k = 0; k < made; k++) {
      ObjectNode f = out.addObject();
      f.put("step", k + 1);
      f.put("eventTime", times[k]);
      f.put("timestamp", Instant.ofEpochMilli(times[k]).toString());
      putNumber(f, "forecast", forecasts[k * targets]);
      f.put("forecastMethod", direct[k * targets] ? "direct" : "rolled");
      if (!levels.isEmpty()) {
        putIntervals(
            f, intervals, s, 0, k + 1, forecasts[k * targets], direct[k * targets], halfWidths);
      }
      if (targets > 1) {
        ObjectNode all = f.putObject("targets");
        for (int j = 0; j < targets; j++) {
          putNumber(all, names.get(j), forecasts[k * targets + j]);
        }
        if (!levels.isEmpty()) {
          ObjectNode each = f.putObject("targetIntervals");
          for (int j = 0; j < targets; j++) {
            putIntervals(
                each.putObject(names.get(j)),
                intervals,
                s,
                j,
                k + 1,
                forecasts[k * targets + j],
                direct[k * targets + j],
                halfWidths);
          }
        }
      }
    }
    return n;
  }

  /**
   * Puts the intervals of target {@code j}'s forecast rolled {@code step} events ahead: {@code
   * intervals} (per level, {@code lower} and {@code upper}; null while the series has none), {@code
   * intervalsWarm} and {@code intervalMethod} ({@code calibrated}: the calibration of the spec's
   * horizon {@code step}, around the model's own forecast for it; {@code widened}: the next-event
   * interval grown with the square root of the step: see {@link IntervalCalibration.RollMethod}).
   */
  private void putIntervals(
      ObjectNode f,
      IntervalCalibration intervals,
      SeriesState s,
      int j,
      int step,
      double forecast,
      boolean direct,
      double[] halfWidths) {
    IntervalCalibration.RollMethod method = intervals.rolled(s, j, step, direct, halfWidths, 0);
    if (method == null || Double.isNaN(forecast)) {
      f.putNull("intervals");
      f.put("intervalsWarm", false);
      f.putNull("intervalMethod");
      return;
    }
    ObjectNode all = f.putObject("intervals");
    for (int i = 0; i < halfWidths.length; i++) {
      ObjectNode b = all.putObject(Double.toString(intervals.level(i)));
      b.put("lower", forecast - halfWidths[i]);
      b.put("upper", forecast + halfWidths[i]);
    }
    f.put("intervalsWarm", intervals.rolledWarm(s, j, step, direct));
    f.put("intervalMethod", method.id());
  }

  private static void putNumber(ObjectNode n, String name, double v) {
    if (Double.isNaN(v)) {
      n.putNull(name);
    } else {
      n.put(name, v);
    }
  }
}
