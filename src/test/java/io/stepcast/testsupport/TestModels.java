package io.stepcast.testsupport;

import io.stepcast.config.TopologySpec;
import io.stepcast.features.FeaturePipeline;
import io.stepcast.model.CellType;
import io.stepcast.model.DemoModels;
import io.stepcast.model.ModelSpec;
import io.stepcast.train.PipelineModels;
import java.time.Instant;

/** Real ONNX step models with a chosen version and creation time, for ranking tests. */
public final class TestModels {
  private TestModels() {}

  /** A valid model for {@code spec}'s pipeline. */
  public static byte[] model(TopologySpec spec, String version, Instant createdAt) {
    var t = spec.training();
    CellType cell = CellType.of(t.cell());
    ModelSpec base =
        PipelineModels.specFor(spec, version, cell, t.layers(), t.hiddenSize())
            .createdAt(createdAt.toString())
            .build();
    return DemoModels.persistenceLike(
        cell, new FeaturePipeline(spec).width(), t.hiddenSize(), t.layers(), 42, base);
  }

  /** Bytes that are no ONNX model at all (not even a readable spec). */
  public static byte[] garbage() {
    return new byte[] {1, 2, 3, (byte) 0xff, (byte) 0xff};
  }
}
