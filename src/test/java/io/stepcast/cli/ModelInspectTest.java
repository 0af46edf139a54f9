package io.stepcast.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.stepcast.config.SpecFixtures;
import io.stepcast.model.CellType;
import io.stepcast.model.DemoModels;
import io.stepcast.model.ModelSpec;
import io.stepcast.model.onnx.OnnxProto.ModelProto;
import io.stepcast.model.onnx.OnnxProto.StringStringEntryProto;
import io.stepcast.testsupport.TestModels;
import io.stepcast.train.PipelineModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code stepcast model inspect}: the graph's signature, the schema check and the exit codes. */
class ModelInspectTest {
  @TempDir Path dir;

  @Test
  void shouldPrintTheSignatureOfAValidTwoLayerLstmWithItsStateLayout() throws Exception {
    // weather: 7 inputs; 2 layers of 5 -> state tensors of 10 columns.
    ModelSpec base =
        PipelineModels.specFor(SpecFixtures.weather(), "w-1", CellType.LSTM, 2, 5).build();
    Path file = write("w.onnx", DemoModels.persistenceLike(CellType.LSTM, 7, 5, 2, 3, base));

    CliRun.Result r = CliRun.run("model", "inspect", file.toString());

    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out())
        .contains("model w-1: signature and 8 golden steps checked on CPU")
        .contains("spec follows the schema: valid")
        .contains("graph (ONNX Runtime):")
        .containsPattern("input +x +float32 \\[batch, 7\\]")
        .containsPattern("input +h +float32 \\[batch, 10\\]")
        .containsPattern("input +c +float32 \\[batch, 10\\]")
        .containsPattern("output +y +float32 \\[batch, 1\\]")
        .containsPattern("output +h_next +float32 \\[batch, 10\\]")
        .containsPattern("output +c_next +float32 \\[batch, 10\\]")
        .contains(ModelSpec.METADATA_KEY + ":\n{\"specVersion\":1,\"version\":\"w-1\"");
    // Inputs in graph order: x first, then the states in the spec's order.
    assertThat(r.out().indexOf("input  x")).isLessThan(r.out().indexOf("input  h"));
    assertThat(r.out().indexOf("input  h")).isLessThan(r.out().indexOf("input  c"));
    assertThat(r.err()).isEmpty();
  }

  @Test
  void shouldRefuseASpecTheSchemaRefusesAndStillPrintTheSignature() throws Exception {
    byte[] good =
        TestModels.model(SpecFixtures.stocks(), "s-1", Instant.parse("2026-01-01T00:00:00Z"));
    // The loader ignores unknown fields (forward compatibility); the schema names them.
    Path file =
        write(
            "s.onnx",
            withSpec(good, specOf(good).replace("\"burnIn\"", "\"burnin\":3,\"burnIn\"")));

    CliRun.Result r = CliRun.run("model", "inspect", file.toString());

    assertThat(r.code()).isEqualTo(3);
    assertThat(r.out())
        .doesNotContain("valid")
        .containsPattern("input +x +float32 \\[batch, 1\\]")
        .containsPattern("output +h_next +float32 \\[batch, 8\\]");
    assertThat(r.err().strip())
        .isEqualTo(
            "error: "
                + file
                + " is not a valid step model: spec $: property 'burnin' is not defined in the"
                + " schema and the schema does not allow additional properties");
  }

  @Test
  void shouldReportEverySchemaProblemAndTheLoadersReasonOneLineEach() throws Exception {
    byte[] good =
        TestModels.model(SpecFixtures.stocks(), "s-2", Instant.parse("2026-01-01T00:00:00Z"));
    Path file =
        write(
            "bad.onnx",
            withSpec(good, specOf(good).replace("\"cell\":\"gru\"", "\"cell\":\"gru4\"")));

    CliRun.Result r = CliRun.run("model", "inspect", file.toString());

    assertThat(r.code()).isEqualTo(3);
    assertThat(r.err().lines())
        .containsExactly(
            "error: "
                + file
                + " is not a valid step model: spec $.cell: does not have a value in"
                + " the enumeration [\"lstm\", \"gru\", \"rnn\"]",
            "error: "
                + file
                + " is not a valid step model: model metadata 'stepcast.spec' is not"
                + " a valid spec: invalid model spec: unknown cell type 'gru4': use lstm, gru or rnn");
  }

  @Test
  void shouldRefuseBytesThatAreNoModel() throws Exception {
    Path file = write("garbage.onnx", TestModels.garbage());

    CliRun.Result r = CliRun.run("model", "inspect", file.toString());

    assertThat(r.code()).isEqualTo(3);
    assertThat(r.out()).isEmpty();
    assertThat(r.err().lines())
        .singleElement()
        .asString()
        .startsWith("error: " + file + " is not a valid step model: ");

    CliRun.Result missing = CliRun.run("model", "inspect", dir.resolve("none.onnx").toString());
    assertThat(missing.code()).isEqualTo(2);
    assertThat(missing.err().strip()).isEqualTo("error: no such file: " + dir.resolve("none.onnx"));
  }

  private Path write(String name, byte[] bytes) throws Exception {
    Path file = dir.resolve(name);
    Files.write(file, bytes);
    return file;
  }

  static String specOf(byte[] onnx) throws Exception {
    return io.stepcast.model.OnnxMetadata.read(onnx).get(ModelSpec.METADATA_KEY);
  }

  /** The model with its spec metadata replaced by {@code json}. */
  static byte[] withSpec(byte[] onnx, String json) throws Exception {
    ModelProto.Builder m = ModelProto.parseFrom(onnx).toBuilder().clearMetadataProps();
    m.addMetadataProps(
        StringStringEntryProto.newBuilder().setKey(ModelSpec.METADATA_KEY).setValue(json));
    return m.build().toByteArray();
  }
}
