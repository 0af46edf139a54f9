package io.stepcast.train;

import io.stepcast.config.TopologySpec;
import io.stepcast.features.FeaturePipeline;
import io.stepcast.model.CellType;
import io.stepcast.model.DemoModels;
import io.stepcast.model.ModelSpec;
import java.time.Instant;

/** Model specs that fit a pipeline: its feature columns, target and transform, and burn-in. */
public final class PipelineModels {
  private PipelineModels() {}

  /** A spec builder for a model of this pipeline with the given network. */
  public static ModelSpec.Builder specFor(
      TopologySpec spec, String version, CellType cell, int layers, int hidden) {
    FeaturePipeline p = new FeaturePipeline(spec);
    return ModelSpec.builder()
        .version(version)
        .pipeline(spec.name())
        .network(cell, layers, hidden)
        .features(p.columns())
        .outputs(
            ModelSpec.TargetSpec.list(p.targetNames(), p.transformIds()), spec.target().horizons())
        .states(ModelSpec.defaultStates(cell, layers, hidden))
        .burnIn(spec.training().burnIn())
        .createdAt(Instant.now().toString());
  }

  /**
   * A model from fixed seeded weights with a near-zero head: with a difference or log-return target
   * it forecasts close to persistence. Serves until a trained model is published.
   */
  public static byte[] fixed(TopologySpec spec, long seed) {
    var t = spec.training();
    CellType cell = CellType.of(t.cell());
    FeaturePipeline p = new FeaturePipeline(spec);
    ModelSpec base =
        specFor(spec, spec.name() + "-fixed-" + seed, cell, t.layers(), t.hiddenSize()).build();
    return DemoModels.persistenceLike(cell, p.width(), t.hiddenSize(), t.layers(), seed, base);
  }
}
