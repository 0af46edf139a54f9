package io.stepcast.train;

import io.stepcast.config.TopologySpec;
import io.stepcast.engine.MemoryRecentInputs;
import io.stepcast.engine.StepEngine;
import io.stepcast.engine.StepListener;
import io.stepcast.features.Event;
import io.stepcast.model.ModelException;
import io.stepcast.model.StepModel;
import io.stepcast.model.Stepper;
import io.stepcast.state.SeriesState;
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
    double[][] out = new double[events.size()][];
    // Recent rows in memory, as the live path keeps them in its store: lag features read them.
    MemoryRecentInputs recent = new MemoryRecentInputs(spec.model().ringBuffer());
    // Every actual steps the series whatever policies.anomaly says: parity with the trainer.
    try (StepEngine engine = new StepEngine(spec, 1, recent, StepListener.NONE, false)) {
      engine.use(model);
      SeriesState st = null;
      for (int t = 0; t < events.size(); t++) {
        Event e = events.get(t).copy();
        int slot = engine.stepOne(e.seriesId(), e, st);
        if (slot < 0) {
          throw new IllegalArgumentException(
              "event " + t + " of series " + e.seriesId() + ": " + engine.refusalMessage());
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
          out[t] = row;
        } else {
          out[t] = new double[] {engine.forecast(slot)};
        }
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
