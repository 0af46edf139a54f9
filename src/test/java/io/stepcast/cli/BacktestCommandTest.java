package io.stepcast.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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

/** {@code stepcast backtest} from a CSV file: training or {@code --model}, outputs, bad input. */
class BacktestCommandTest {

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

  private static List<Path> models(Path d) throws IOException {
    try (Stream<Path> s = Files.list(d)) {
      return s.filter(p -> p.toString().endsWith(".onnx")).sorted().toList();
    }
  }

  @Test
  void shouldTrainOnTheHistoryStreamEverythingAndWriteForecastsAndReport() throws Exception {
    Path o = dir.resolve("bt");
    int code =
        run(
            "backtest",
            "-t",
            spec.toString(),
            "--csv",
            csv.toString(),
            "--epochs",
            "3",
            "--out",
            o.toString(),
            "--ar-order",
            "5",
            "--inject-outliers",
            "3");

    assertThat(code).as(out + err).isZero();
    assertThat(out)
        .contains("training gru 1x16 on the history part of 2 series (420 events")
        .contains("training/serving parity")
        .contains("scoring the 180 after each series' split")
        .contains("AR(5) MAE")
        .contains("AR(5) lvl MAE")
        .contains("/persist")
        .contains("/seasonal")
        .contains("80.00% covered")
        .contains("other flags")
        .contains("(all)");
    assertThat(models(o)).hasSize(1);
    List<String> lines = Files.readAllLines(o.resolve("forecasts.csv"));
    assertThat(lines.get(0))
        .isEqualTo(
            "series,time,output,actual,model,persistence,seasonal,ar,ar_levels,lower_0.8,upper_0.8,"
                + "lower_0.95,upper_0.95,anomaly,held");
    assertThat(lines).hasSize(1 + 180);
    assertThat(lines.get(1)).startsWith("site-0,2024-01-09T18:00:00Z,level@1,");
    JsonNode json = new ObjectMapper().readTree(o.resolve("backtest.json").toFile());
    assertThat(json.get("trained").asBoolean()).isTrue();
    assertThat(json.get("arOrder").asInt()).isEqualTo(5);
    assertThat(json.at("/overall/outputs/0/model/count").asLong()).isEqualTo(180);
    assertThat(json.at("/overall/outputs/0/levelAr/mae").isNumber()).isTrue();
    assertThat(json.at("/overall/coverage/count").asLong()).isPositive();
    assertThat(json.at("/overall/outliers/injected").asLong()).isEqualTo(6);
    assertThat(json.at("/series/0/outliers/events")).hasSize(3);
  }

  @Test
  void shouldBacktestAGivenModelWithoutTraining() throws Exception {
    Path first = dir.resolve("first");
    assertThat(
            run(
                "backtest",
                "-t",
                spec.toString(),
                "--csv",
                csv.toString(),
                "--epochs",
                "2",
                "--out",
                first.toString()))
        .as(out + err)
        .isZero();
    Path model = models(first).get(0);
    Path second = dir.resolve("second");

    int code =
        run(
            "backtest",
            "-t",
            spec.toString(),
            "--csv",
            csv.toString(),
            "--model",
            model.toString(),
            "--out",
            second.toString());

    assertThat(code).as(out + err).isZero();
    assertThat(out).doesNotContain("training ").doesNotContain("parity");
    assertThat(models(second)).isEmpty();
    // The same model on the same data: the same forecasts, bit for bit.
    assertThat(Files.readString(second.resolve("forecasts.csv")))
        .isEqualTo(Files.readString(first.resolve("forecasts.csv")));
    JsonNode json = new ObjectMapper().readTree(second.resolve("backtest.json").toFile());
    assertThat(json.get("trained").asBoolean()).isFalse();
  }

  @Test
  void shouldRefuseBadArgumentsWithOneLine() throws Exception {
    Path notAModel = dir.resolve("broken.onnx");
    Files.writeString(notAModel, "not onnx");
    Path tiny = dir.resolve("tiny.csv");
    Files.writeString(tiny, SyntheticHistory.csv(1, 2, 1));
    String[][] cases = {
      {"--train-fraction", "1.5"},
      {"--train-fraction", "0"},
      {"--ar-order", "0"},
      {"--inject-outliers", "-1"},
      {"--outlier-size", "0"},
      {"--outlier-size", "NaN"},
      {"--epochs", "0"},
      {"--model", notAModel.toString(), "--seed", "3"},
      {"--model", dir.resolve("missing.onnx").toString()},
      {"--model", notAModel.toString()},
    };
    for (String[] extra : cases) {
      String[] args =
          Stream.concat(
                  Stream.of("backtest", "-t", spec.toString(), "--csv", csv.toString()),
                  Stream.of(extra))
              .toArray(String[]::new);
      assertThat(run(args)).as(String.join(" ", extra) + ": " + out + err).isEqualTo(2);
      assertThat(err.strip())
          .as(String.join(" ", extra))
          .startsWith("error: ")
          .doesNotContain("\n");
    }
    Path stocksModel = dir.resolve("stocks.onnx");
    assertThat(
            run("model", "export", "-t", "topologies/stocks.yaml", "--out", stocksModel.toString()))
        .as(out + err)
        .isZero();
    assertThat(
            run(
                "backtest",
                "-t",
                spec.toString(),
                "--csv",
                csv.toString(),
                "--model",
                stocksModel.toString()))
        .isEqualTo(2);
    assertThat(err.strip())
        .isEqualTo(
            "error: --model "
                + stocksModel
                + ": pipeline synth would refuse it: the model is for pipeline 'stocks', not"
                + " 'synth'");
    assertThat(run("backtest", "-t", spec.toString(), "--csv", dir.resolve("no.csv").toString()))
        .isEqualTo(2);
    assertThat(err.strip()).startsWith("error: no such file").doesNotContain("\n");
    assertThat(
            run(
                "backtest",
                "-t",
                spec.toString(),
                "--csv",
                tiny.toString(),
                "--train-fraction",
                "0.9"))
        .isEqualTo(2);
    assertThat(err.strip())
        .startsWith("error: series 'site-0' has 2 events")
        .contains("nothing to score")
        .doesNotContain("\n");
  }
}
