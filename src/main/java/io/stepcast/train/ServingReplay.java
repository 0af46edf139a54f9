package io.stepcast.train;

import io.stepcast.config.TopologySpec;
import io.stepcast.features.Event;
import io.stepcast.features.FeaturePipeline;
import io.stepcast.model.ModelException;
import io.stepcast.model.StepModel;
import io.stepcast.model.Stepper;
import io.stepcast.state.SeriesState;
import java.util.List;

/**
 * Runs an ONNX step model over history the way a serving instance runs it: one event at a time from
 * a fresh series state, features computed by the shared pipeline from the event and the state's
 * memory, the recurrent state carried in a {@link SeriesState}, one ONNX Runtime call per event.
 * The trainer uses it to prove that the exported model serves what it learned, and the promotion
 * gate uses it to score the live model on the same validation events.
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
    FeaturePipeline pipeline = new FeaturePipeline(spec);
    if (model.inputSize() != pipeline.width()) {
      throw new IllegalArgumentException(
          "model "
              + model.version()
              + " takes "
              + model.inputSize()
              + " features, the pipeline computes "
              + pipeline.width());
    }
    int[] sizes = new int[model.stateCount()];
    for (int i = 0; i < sizes.length; i++) {
      sizes[i] = model.stateSize(i);
    }
    int fieldCount = FeaturePipeline.inputFields(spec).size();
    SeriesState st =
        SeriesState.fresh(
            model.version(), sizes, fieldCount, spec.model().ringBuffer(), pipeline.width());
    float[] x = new float[pipeline.width()];
    float[] y = new float[model.outputSize()];
    double[] out = new double[events.size()];
    try (Stepper stepper = model.newStepper(1)) {
      for (int t = 0; t < events.size(); t++) {
        Event e = events.get(t).copy();
        if (pipeline.carryForward(e, st) >= 0) {
          throw new IllegalArgumentException(
              "event "
                  + t
                  + " of series "
                  + e.seriesId()
                  + " has a missing value to carry forward");
        }
        pipeline.features(e, st, x);
        stepper.step(x, st.states(), y);
        double forecast = pipeline.forecast(y[0], e.target());
        pipeline.remember(e, st);
        st.push(x);
        st.advance(model.version(), forecast);
        out[t] = forecast;
      }
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
