package io.stepcast.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.stepcast.train.SyntheticHistory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code stepcast train} from a CSV file: writing candidates, the promotion gate, bad input. */
class TrainCommandTest {

  @TempDir Path dir;

  private Path csv;
  private Path spec;
  private String out;
  private String err;

  @BeforeEach
  void files() throws IOException {
    SyntheticHistory.spec(dir, Map.of());
    spec = dir.resolve("synth.yaml");
    csv = dir.resolve("history.csv");
    Files.writeString(csv, SyntheticHistory.csv(2, 300, 9));
  }

  private int run(String... args) {
    CliRun.Result r = CliRun.run(args);
    out = r.out();
    err = r.err();
    return r.code();
  }

  private List<Path> models(Path d) throws IOException {
    if (!Files.isDirectory(d)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(d)) {
      return s.filter(p -> p.toString().endsWith(".onnx")).sorted().toList();
    }
  }

  @Test
  void shouldWriteACandidateAndItsReportWithoutPublishing() throws Exception {
    int code = run("train", "-t", spec.toString(), "--csv", csv.toString(), "--epochs", "3");

    assertThat(code).as(out + err).isZero();
    assertThat(models(dir.resolve("models"))).isEmpty();
    List<Path> candidates = models(dir.resolve("models/candidates"));
    assertThat(candidates).hasSize(1);
    String version = candidates.get(0).getFileName().toString().replace(".onnx", "");
    assertThat(version).matches("synth-\\d{14}");
    String report = Files.readString(dir.resolve("models/candidates/" + version + ".report.json"));
    assertThat(report).contains("\"version\" : \"" + version + "\"").contains("\"persistence\"");
    assertThat(out)
        .contains("model MAE")
        .contains("persist MAE")
        .contains("seasonal MAE")
        .containsPattern("AR\\(\\d+\\) MAE")
        .contains("validation part (it picked the epoch")
        .contains("test part (never used to fit or choose anything)")
        .containsPattern("AR order \\d+ \\(aic")
        .contains("export parity")
        .contains("training/serving parity")
        .contains("not published");
  }

  @Test
  void shouldPublishABetterModelAndRefuseAWorseOneUnlessForced() throws Exception {
    Path live = dir.resolve("models");

    assertThat(run("train", "-t", spec.toString(), "--csv", csv.toString(), "--publish"))
        .as(out + err)
        .isZero();
    assertThat(out).contains("publishing: no live model");
    assertThat(models(live)).hasSize(1);

    // One epoch from another seed: worse than the model just published.
    int refused =
        run(
            "train",
            "-t",
            spec.toString(),
            "--csv",
            csv.toString(),
            "--publish",
            "--epochs",
            "1",
            "--seed",
            "3");
    assertThat(refused).as(out + err).isEqualTo(4);
    assertThat(out).contains("NOT publishing: not better, refused").contains("live model synth-");
    assertThat(out).containsPattern("new model synth-\\S+: test MAE \\d");
    assertThat(out).contains("on the test part");
    assertThat(models(live)).hasSize(1);

    int forced =
        run(
            "train",
            "-t",
            spec.toString(),
            "--csv",
            csv.toString(),
            "--publish",
            "--epochs",
            "1",
            "--seed",
            "3",
            "--force");
    assertThat(forced).as(out + err).isZero();
    assertThat(out).contains("publishing: not better, forced");
    assertThat(models(live)).hasSize(2);
  }

  @Test
  void shouldNameTheRowAndColumnOfANonNumericCell() throws Exception {
    List<String> lines = Files.readAllLines(csv);
    lines.set(5, lines.get(5).replaceAll(",[^,]*$", ",n/a"));
    Files.write(csv, lines);

    int code = run("train", "-t", spec.toString(), "--csv", csv.toString());

    assertThat(code).isEqualTo(2);
    assertThat(err).contains("error: " + csv + ": row 6, column 4: (level) 'n/a' is not a number");
  }

  @Test
  void shouldSayWhichSeriesIsTooShort() throws Exception {
    Files.writeString(csv, SyntheticHistory.csv(1, 40, 1));

    int code = run("train", "-t", spec.toString(), "--csv", csv.toString());

    assertThat(code).isEqualTo(2);
    assertThat(err).contains("series 'site-0' has 40 events, too short to split");
  }

  @Test
  void shouldRejectAnEmptyFile() throws Exception {
    Files.writeString(csv, "");

    assertThat(run("train", "-t", spec.toString(), "--csv", csv.toString())).isEqualTo(2);
    assertThat(err)
        .contains("error: " + csv + ": row 1, column 1: no header row (the input is empty)");
  }

  @Test
  void shouldReportADivergedTrainingInOneLineWithTheCause() throws Exception {
    // An absurd level in the validation part of site-0 (hour 240 of 300): every squared validation
    // loss overflows float32, so no epoch can be kept.
    List<String> lines = new java.util.ArrayList<>(Files.readAllLines(csv));
    lines.set(241, lines.get(241).replaceAll(",[^,]*$", ",1e30"));
    Files.write(csv, lines);
    // Squared, that error overflows; the default mae loss keeps it finite (and merely huge).
    Files.writeString(
        spec, Files.readString(spec).replace("training: {", "training: {loss: mse, "));

    int code = run("train", "-t", spec.toString(), "--csv", csv.toString(), "--epochs", "2");

    assertThat(code).as(out + err).isEqualTo(2);
    assertThat(err.strip().lines().filter(l -> l.startsWith("error: ")))
        .singleElement()
        .asString()
        .startsWith("error: training diverged: the validation loss was never finite in 2 epochs")
        .contains("look for an outlier");
    assertThat(err).doesNotContain("Exception").doesNotContain("\tat ");
  }

  @Test
  void shouldDropAndReportRowsWithAMissingCellUnderTheRejectPolicy() throws Exception {
    Files.writeString(
        spec,
        Files.readString(spec)
            .replace("policies: {missing: carry_forward}", "policies: {missing: reject}"));

    int code = run("train", "-t", spec.toString(), "--csv", csv.toString(), "--epochs", "2");

    // 2 sites x 300 hours, a blank load cell at hours 7, 57, ..., 257 of each: 12 rows dropped.
    assertThat(code).as(out + err).isZero();
    assertThat(out)
        .contains("600 records -> 2 series, 588 events")
        .contains("rejected 12 records (missing_field 12)")
        .contains("dropped under policies.missing: reject");
  }
}
