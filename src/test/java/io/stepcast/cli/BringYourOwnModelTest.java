package io.stepcast.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.stepcast.config.SpecLoader;
import io.stepcast.config.TopologySpec;
import io.stepcast.kafka.Csv;
import io.stepcast.model.CellType;
import io.stepcast.model.DemoModels;
import io.stepcast.model.ExecutionConfig;
import io.stepcast.model.ModelDirectoryWatcher;
import io.stepcast.model.ModelRegistry;
import io.stepcast.model.ModelSpec;
import io.stepcast.model.ReferenceRnn;
import io.stepcast.model.RnnWeights;
import io.stepcast.model.StepModelBuilder;
import io.stepcast.serve.ModelSources;
import io.stepcast.train.ServingReplay;
import io.stepcast.train.SyntheticHistory;
import io.stepcast.train.TrainingData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The path of docs/MODEL-CONTRACT.md for a model trained outside stepcast, with Java standing in
 * for PyTorch: the feature CSV from {@code stepcast features}, scaling fitted on its train rows, a
 * two-layer LSTM's weights, a spec written by hand, an ONNX step model built outside the trainer,
 * {@code model inspect}, {@code model publish}, and a running instance's model registry serving it.
 * Its forecasts streamed event by event through the serving step equal the offline forward pass
 * over the CSV rows: the CSV is exactly what serving feeds the model.
 */
class BringYourOwnModelTest {
  @TempDir Path dir;

  @Test
  void shouldServeAModelBuiltFromTheFeatureCsvOutsideTheTrainer() throws Exception {
    Path specFile = SyntheticHistory.specFile(dir, "");
    Path history = dir.resolve("history.csv");
    Files.writeString(history, SyntheticHistory.csv(2, 150, 3));
    Path features = dir.resolve("features.csv");
    assertThat(
            CliRun.run(
                    "features",
                    "-t",
                    specFile.toString(),
                    "--csv",
                    history.toString(),
                    "--out",
                    features.toString())
                .code())
        .isZero();

    // "Elsewhere": only the CSV. Inputs are the columns between 'part' and 'y'.
    Csv csv = Csv.read(features);
    List<String> header = csv.header();
    List<String> inputs = header.subList(header.indexOf("part") + 1, header.indexOf("y"));
    List<float[]> x = new ArrayList<>();
    List<float[]> xTrain = new ArrayList<>();
    List<float[]> yTrain = new ArrayList<>();
    for (Csv.Row row : csv.rows()) {
      float[] v = new float[inputs.size()];
      for (int j = 0; j < v.length; j++) {
        v[j] = Float.parseFloat(row.get(inputs.get(j)));
      }
      x.add(v);
      if (row.get("part").equals("train")) {
        xTrain.add(v);
        yTrain.add(new float[] {Float.parseFloat(row.get("y"))});
      }
    }
    float[][] xs = meanStd(xTrain);
    float[][] ys = meanStd(yTrain);
    RnnWeights random = DemoModels.persistenceLikeWeights(CellType.LSTM, inputs.size(), 6, 2, 1, 9);
    RnnWeights w =
        new RnnWeights(
            random.cell(),
            random.inputSize(),
            random.hiddenSize(),
            random.layers(),
            random.outputSize(),
            random.wIh(),
            random.wHh(),
            random.bIh(),
            random.bHh(),
            scaled(random.wOut(), 300),
            random.bOut(),
            xs[0],
            xs[1],
            ys[0],
            ys[1]);
    // The exporter's own forward pass from zero state gives the golden outputs.
    float[][] goldenX = x.subList(0, 8).toArray(float[][]::new);
    float[][] goldenY = new ReferenceRnn(w).run(goldenX);
    String specJson =
        String.format(
            Locale.ROOT,
            "{\"specVersion\":1,\"version\":\"byo-lstm-1\",\"pipeline\":\"synth\",\"cell\":\"lstm\","
                + "\"layers\":2,\"hiddenSize\":6,\"inputSize\":%d,\"outputSize\":1,"
                + "\"features\":%s,\"target\":\"level\",\"targetTransform\":\"none\","
                + "\"states\":[{\"name\":\"h\",\"size\":12},{\"name\":\"c\",\"size\":12}],"
                + "\"burnIn\":12,\"createdAt\":\"2026-11-30T15:00:00Z\"}",
            inputs.size(),
            json(inputs));
    ModelSpec spec =
        ModelSpec.fromJson(specJson).withGolden(new ModelSpec.GoldenVectors(goldenX, goldenY));
    Path onnx = dir.resolve("byo.onnx");
    Files.write(onnx, StepModelBuilder.build(w, spec));

    CliRun.Result inspect = CliRun.run("model", "inspect", onnx.toString());
    assertThat(inspect.code()).as(inspect.err()).isZero();
    assertThat(inspect.out()).contains("model byo-lstm-1: signature and 8 golden steps");
    CliRun.Result publish =
        CliRun.run("model", "publish", "-t", specFile.toString(), onnx.toString());
    assertThat(publish.code()).as(publish.err()).isZero();
    Path published = dir.resolve("models/byo-lstm-1.onnx");
    assertThat(published).exists();

    TopologySpec topology = SpecLoader.load(specFile, Map.of());
    try (ModelRegistry registry =
            ModelSources.registry(topology, ExecutionConfig.cpu(), ModelRegistry.Listener.NONE);
        ModelDirectoryWatcher watcher =
            new ModelDirectoryWatcher(dir.resolve("models"), registry, 200)) {
      assertThat(registry.awaitModel(Duration.ofMinutes(2))).as(registry.lastRefusal()).isTrue();
      ModelRegistry.Handle served = registry.acquire();
      try {
        assertThat(served.version()).isEqualTo("byo-lstm-1");
        TrainingData data = TrainingData.fromCsv(topology, history);
        int offset = 0;
        for (TrainingData.Series s : data.series()) {
          double[] live = ServingReplay.forecasts(served.model(), topology, s.events());
          int rows = s.length() - 1;
          float[][] offline =
              new ReferenceRnn(w).run(x.subList(offset, offset + rows).toArray(float[][]::new));
          for (int t = 0; t < rows; t++) {
            assertThat(live[t])
                .as("series %s event %d", s.id(), t)
                .isCloseTo(offline[t][0], within(1e-3 * Math.max(1, Math.abs(offline[t][0]))));
          }
          offset += rows;
        }
        assertThat(offset).isEqualTo(x.size());
      } finally {
        served.release();
      }
    }
  }

  @Test
  void shouldRefuseToPublishAModelThePipelineWouldRefuse() throws Exception {
    Path specFile = SyntheticHistory.specFile(dir, "");
    TopologySpec topology = SpecLoader.load(specFile, Map.of());
    // Features in another order than the pipeline computes: the registry refuses it.
    ModelSpec wrongOrder =
        ModelSpec.builder()
            .version("byo-2")
            .pipeline("synth")
            .network(CellType.GRU, 1, 4)
            .features(List.of("load", "level", "hour_of_day:sin", "hour_of_day:cos"))
            .target("level", "none")
            .build();
    Path file = dir.resolve("wrong.onnx");
    Files.write(file, DemoModels.persistenceLike(CellType.GRU, 4, 4, 1, 1, wrongOrder));

    CliRun.Result r = CliRun.run("model", "publish", "-t", specFile.toString(), file.toString());

    assertThat(r.code()).isEqualTo(2);
    // The registry also logs its refusal (WARN); the command's own verdict is the last line.
    List<String> lines = r.err().strip().lines().toList();
    assertThat(lines.get(lines.size() - 1))
        .startsWith("error: not published: pipeline synth would refuse it: ")
        .contains("the model expects features [load, level");
    assertThat(dir.resolve("models")).doesNotExist();
    assertThat(topology.model().directory()).isEqualTo(dir.resolve("models").toString());
  }

  private static float[] scaled(float[] v, float factor) {
    float[] out = v.clone();
    for (int i = 0; i < out.length; i++) {
      out[i] *= factor;
    }
    return out;
  }

  /** Population mean and standard deviation per column ({@code [mean, std]}), std 0 -> 1. */
  private static float[][] meanStd(List<float[]> rows) {
    int width = rows.get(0).length;
    double[] mean = new double[width];
    for (float[] r : rows) {
      for (int j = 0; j < width; j++) {
        mean[j] += r[j] / (double) rows.size();
      }
    }
    double[] var = new double[width];
    for (float[] r : rows) {
      for (int j = 0; j < width; j++) {
        var[j] += (r[j] - mean[j]) * (r[j] - mean[j]) / rows.size();
      }
    }
    float[][] out = new float[2][width];
    for (int j = 0; j < width; j++) {
      out[0][j] = (float) mean[j];
      double std = Math.sqrt(var[j]);
      out[1][j] = std < 1e-6 ? 1f : (float) std;
    }
    return out;
  }

  private static String json(List<String> names) {
    StringBuilder sb = new StringBuilder("[");
    for (String n : names) {
      sb.append(sb.length() == 1 ? "" : ",").append('"').append(n).append('"');
    }
    return sb.append(']').toString();
  }
}
