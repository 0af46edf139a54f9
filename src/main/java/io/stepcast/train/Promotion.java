package io.stepcast.train;

import io.stepcast.config.TopologySpec;
import io.stepcast.features.FeaturePipeline;
import io.stepcast.model.ExecutionConfig;
import io.stepcast.model.ModelException;
import io.stepcast.model.StepModel;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The promotion gate of {@code stepcast train --publish}: a new model replaces the live one only if
 * its MAE is lower than the live model's on the same events, scored the same way (streamed event by
 * event from each series' first event), unless forced. The events are every series' test part
 * ({@link TrainingRun#gatePart}): the new model picked its epoch on the validation part, so
 * comparing there would favour it; only when {@code training.testFraction} is 0 does the gate fall
 * back to the validation part, and its messages name the part either way.
 *
 * <p>Every live candidate (the newest model in the model directory, the latest on the model topic)
 * is scored; the new model must beat each. A live model that cannot be loaded or does not fit the
 * pipeline cannot be compared, and the gate refuses rather than guess; {@code --force} overrides.
 */
public final class Promotion {
  private Promotion() {}

  /** A live model and where it was found. */
  public record Live(String source, byte[] onnx) {}

  /**
   * A live model's figure.
   *
   * @param source where it was found
   * @param version its version, or null when it could not be loaded
   * @param mae its MAE on the gate's part, or null when it could not be scored
   * @param problem why it could not be scored, or null
   */
  public record LiveScore(String source, String version, Double mae, String problem) {}

  /**
   * The gate's decision.
   *
   * @param publish whether to publish
   * @param newMae the new model's MAE on the gate's part
   * @param live the live models' figures
   * @param reason one line for the user
   */
  public record Decision(boolean publish, double newMae, List<LiveScore> live, String reason) {}

  /** Scores the live models and decides. */
  public static Decision decide(
      TopologySpec spec,
      TrainingData data,
      TrainConfig cfg,
      String newVersion,
      double newMae,
      List<Live> live,
      boolean force) {
    List<LiveScore> scores = new ArrayList<>();
    for (Live l : live) {
      scores.add(score(spec, data, cfg, l));
    }
    if (scores.isEmpty()) {
      return new Decision(true, newMae, scores, "no live model: publishing the first one");
    }
    for (LiveScore s : scores) {
      if (s.mae() == null) {
        return force
            ? new Decision(
                true,
                newMae,
                scores,
                "forced: the live model from "
                    + s.source()
                    + " could not be scored ("
                    + s.problem()
                    + ")")
            : new Decision(
                false,
                newMae,
                scores,
                "the live model from "
                    + s.source()
                    + " cannot be compared ("
                    + s.problem()
                    + "); pass --force to replace it anyway");
      }
    }
    double best = scores.stream().mapToDouble(LiveScore::mae).min().orElseThrow();
    LiveScore bestLive = scores.stream().filter(s -> s.mae() == best).findFirst().orElseThrow();
    String figures =
        String.format(
            Locale.ROOT,
            "new %s MAE %.6f vs live %s MAE %.6f on the %s part",
            newVersion,
            newMae,
            bestLive.version(),
            best,
            TrainingRun.gatePart(cfg).id());
    if (newMae < best) {
      return new Decision(true, newMae, scores, "better: " + figures);
    }
    if (force) {
      return new Decision(true, newMae, scores, "not better, forced: " + figures);
    }
    return new Decision(
        false,
        newMae,
        scores,
        "not better, refused: " + figures + "; pass --force to publish anyway");
  }

  private static LiveScore score(TopologySpec spec, TrainingData data, TrainConfig cfg, Live live) {
    try (StepModel m = StepModel.load(live.onnx(), ExecutionConfig.cpu())) {
      List<String> columns = new FeaturePipeline(spec).columns();
      if (!columns.equals(m.spec().features())) {
        return new LiveScore(
            live.source(),
            m.version(),
            null,
            "it takes features " + m.spec().features() + ", the pipeline computes " + columns);
      }
      String transform = spec.target().transform().name().toLowerCase(Locale.ROOT);
      if (!spec.target().field().equals(m.spec().target())
          || !transform.equals(m.spec().targetTransform())) {
        return new LiveScore(
            live.source(),
            m.version(),
            null,
            "it forecasts "
                + m.spec().target()
                + " ("
                + m.spec().targetTransform()
                + "), the pipeline "
                + spec.target().field()
                + " ("
                + transform
                + ")");
      }
      List<String> outputs = new FeaturePipeline(spec).outputNames();
      if (!outputs.equals(m.spec().outputs())) {
        return new LiveScore(
            live.source(),
            m.version(),
            null,
            "it forecasts " + m.spec().outputs() + ", the pipeline " + outputs);
      }
      Accuracy a = TrainingRun.evaluate(m, spec, data, cfg);
      return new LiveScore(live.source(), m.version(), a.mae(), null);
    } catch (ModelException | RuntimeException e) {
      return new LiveScore(live.source(), null, null, "not a valid step model: " + e.getMessage());
    }
  }
}
