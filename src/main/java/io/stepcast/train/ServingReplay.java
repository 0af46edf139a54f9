package io.stepcast.train;

import io.stepcast.config.TopologySpec;
import io.stepcast.engine.MemoryRecentInputs;
import io.stepcast.engine.StepEngine;
import io.stepcast.engine.StepListener;
import io.stepcast.features.Event;
import io.stepcast.features.Rejection;
import io.stepcast.model.ModelException;
import io.stepcast.model.StepModel;
import io.stepcast.model.Stepper;
import io.stepcast.state.SeriesState;
import java.util.Arrays;
import java.util.List;

/**
 * Runs an ONNX step model over history the way a serving instance runs it: through the same {@link
 * StepEngine} the live forecaster calls, one event at a time from a fresh series state. The trainer
 * uses it to prove that the exported model serves what it learned, and the promotion gate uses it
 * to score the live model on the same validation events.
 */
public final class ServingReplay {
  private ServingReplay() {}

  /**
   * The forecast made at each event of a series, in the target's own units: {@code forecasts[t]} is
   * the forecast of event {@code t + 1} made at event {@code t}.
   *
   * @throws ModelException when ONNX Runtime fails
   * @throws IllegalArgumentException when the model does not fit the pipeline's feature width
   */
  public static double[] forecasts(StepModel model, TopologySpec spec, List<Event> events)
      throws ModelException {
    double[][] all = allForecasts(model, spec, events);
    double[] out = new double[all.length];
    for (int t = 0; t < out.length; t++) {
      out[t] = all[t][0];
    }
    return out;
  }

  /**
   * Every forecast made at each event of a series, in the targets' own units: {@code
   * forecasts[t][o]} is output {@code o} ({@link io.stepcast.features.FeaturePipeline#outputNames}
   * order: target-major, horizons ascending) made at event {@code t}.
   *
   * @throws ModelException when ONNX Runtime fails
   * @throws IllegalArgumentException when the model does not fit the pipeline
   */
  public static double[][] allForecasts(StepModel model, TopologySpec spec, List<Event> events)
      throws ModelException {
    return replay(model, spec, events, false).forecasts();
  }

  /**
   * What the engine gave at each event of a series, as the live forecast records carry it.
   *
   * @param forecasts {@code forecasts[t][o]}: output {@code o} made at event {@code t} (as {@link
   *     #allForecasts}); a row of NaN for an event the anomaly policy dead-lettered
   * @param halfWidths {@code halfWidths[t][l]}: the half-width of level {@code l}'s interval (the
   *     spec's order) around the first output made at event {@code t}; NaN while the series has
   *     none
   * @param intervalsWarm whether event {@code t}'s intervals are warm (the record's {@code
   *     intervalsWarm})
   * @param anomaly whether event {@code t}'s actual fell outside the widest interval of the
   *     forecast it scores
   * @param held whether that anomaly was held ({@code policies.anomaly: hold})
   * @param refused whether event {@code t} was dead-lettered as an anomaly (no forecast, no step)
   */
  public record Replay(
      double[][] forecasts,
      double[][] halfWidths,
      boolean[] intervalsWarm,
      boolean[] anomaly,
      boolean[] held,
      boolean[] refused) {}

  /**
   * Streams a series through the engine from a fresh state and keeps, per event, what its forecast
   * record would carry.
   *
   * @param applyAnomalyPolicy true: as a live instance does ({@code hold} steps on the forecast,
   *     {@code dead_letter} refuses the event); false: every actual steps the series (the trainer's
   *     parity)
   * @throws ModelException when ONNX Runtime fails
   * @throws IllegalArgumentException when the model does not fit the pipeline, or an event is
   *     refused for anything but an anomaly
   */
  public static Replay replay(
      StepModel model, TopologySpec spec, List<Event> events, boolean applyAnomalyPolicy)
      throws ModelException {
    int n = events.size();
    int levels = spec.intervals().levels().size();
    Replay out =
        new Replay(
            new double[n][],
            new double[n][levels],
            new boolean[n],
            new boolean[n],
            new boolean[n],
            new boolean[n]);
    // Recent rows in memory, as the live path keeps them in its store: lag features read them.
    MemoryRecentInputs recent = new MemoryRecentInputs(spec.model().ringBuffer());
    try (StepEngine engine =
        new StepEngine(spec, 1, recent, StepListener.NONE, applyAnomalyPolicy)) {
      engine.use(model);
      int outputs = engine.pipeline().outputCount();
      SeriesState st = null;
      for (int t = 0; t < n; t++) {
        Event e = events.get(t).copy();
        int slot = engine.stepOne(e.seriesId(), e, st);
        if (slot < 0) {
          if (engine.refusal() != Rejection.ANOMALY) {
            throw new IllegalArgumentException(
                "event " + t + " of series " + e.seriesId() + ": " + engine.refusalMessage());
          }
          // dead_letter: scored and learnt from, not stepped on; no forecast record.
          st = engine.refusedState();
          double[] none = new double[outputs];
          Arrays.fill(none, Double.NaN);
          out.forecasts()[t] = none;
          Arrays.fill(out.halfWidths()[t], Double.NaN);
          out.anomaly()[t] = true;
          out.refused()[t] = true;
          continue;
        }
        st = engine.state(slot);
        if (engine.multiOutput()) {
          int h = engine.horizonCount();
          double[] row = new double[engine.targetCount() * h];
          for (int j = 0; j < engine.targetCount(); j++) {
            for (int k = 0; k < h; k++) {
              row[j * h + k] = engine.forecast(slot, j, k);
            }
          }
          out.forecasts()[t] = row;
        } else {
          out.forecasts()[t] = new double[] {engine.forecast(slot)};
        }
        System.arraycopy(engine.halfWidths(), slot * levels, out.halfWidths()[t], 0, levels);
        out.intervalsWarm()[t] = engine.intervalsWarm(slot);
        out.anomaly()[t] = engine.anomaly(slot);
        out.held()[t] = engine.held(slot);
        engine.clear();
      }
    } catch (IllegalStateException e) {
      if (e.getCause() instanceof ModelException m) {
        throw m;
      }
      throw e;
    }
    return out;
  }

  /**
   * Raw model outputs for given feature rows, stepped one row at a time from a zero state: the ONNX
   * side of the export parity check against {@link RnnTrainer#forward}.
   */
  public static float[][] outputs(StepModel model, float[][] x) throws ModelException {
    int[] sizes = new int[model.stateCount()];
    float[][] states = new float[sizes.length][];
    for (int i = 0; i < sizes.length; i++) {
      states[i] = new float[model.stateSize(i)];
    }
    float[][] y = new float[x.length][model.outputSize()];
    try (Stepper stepper = model.newStepper(1)) {
      for (int t = 0; t < x.length; t++) {
        stepper.step(x[t], states, y[t]);
      }
    }
    return y;
  }
}
