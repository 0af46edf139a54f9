package io.stepcast.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.stepcast.config.SpecLoader;
import io.stepcast.config.TopologySpec;
import io.stepcast.features.FeaturePipeline;
import io.stepcast.kafka.Csv;
import io.stepcast.model.CellType;
import io.stepcast.model.ModelSpec;
import io.stepcast.train.PipelineModels;
import io.stepcast.train.SeriesData;
import io.stepcast.train.SyntheticHistory;
import io.stepcast.train.TrainConfig;
import io.stepcast.train.TrainingData;
import io.stepcast.train.TrainingRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code stepcast features} writes exactly what the trainer is fed: the rows of {@link
 * TrainingData#seriesData()}, the list {@code TrainingRun} hands to its trainer, compared float for
 * float after a round trip through the CSV text, plus the trainer's split and the raw target.
 */
class FeaturesCommandTest {
  @TempDir Path dir;

  private Path spec;
  private Path history;

  @BeforeEach
  void writeHistory() throws Exception {
    spec = SyntheticHistory.specFile(dir, "");
    // A series id with a comma and quotes: the output must quote it the way CSV readers expect.
    String csv =
        SyntheticHistory.csv(3, 120, 11).replace("\nsite-2,", "\n\"site,2 \"\"north\"\"\",");
    history = dir.resolve("history.csv");
    Files.writeString(history, csv);
  }

  @Test
  void shouldWriteExactlyTheRowsAndLabelsTheTrainerIsFed() throws Exception {
    Path out = dir.resolve("out/features.csv");

    CliRun.Result r = run("--out", out.toString());

    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("wrote 357 rows of 4 inputs and their labels for 3 series");
    TopologySpec topology = SpecLoader.load(spec, Map.of());
    TrainingData data = TrainingData.fromCsv(topology, history);
    TrainConfig cfg = TrainingRun.config(topology, null, null);
    Csv written = Csv.read(out);
    List<String> columns = new FeaturePipeline(topology).columns();
    List<String> header = new ArrayList<>(List.of("series_id", "time", "part"));
    header.addAll(columns);
    header.addAll(List.of("y", "target_value"));
    assertThat(written.header()).isEqualTo(header);

    Map<String, List<Csv.Row>> bySeries = new LinkedHashMap<>();
    for (Csv.Row row : written.rows()) {
      bySeries.computeIfAbsent(row.get("series_id"), k -> new ArrayList<>()).add(row);
    }
    List<SeriesData> fed = data.seriesData();
    assertThat(bySeries.keySet())
        .containsExactly("site-0", "site-1", "site,2 \"north\"")
        .containsExactlyElementsOf(fed.stream().map(SeriesData::id).toList());
    for (int i = 0; i < fed.size(); i++) {
      SeriesData s = fed.get(i);
      List<Csv.Row> rows = bySeries.get(s.id());
      // 120 events, the last only labels the one before it.
      assertThat(rows).hasSize(s.length()).hasSize(119);
      int validation = TrainingRun.validationStart(s.length(), cfg);
      int test = TrainingRun.testStart(s.length(), cfg);
      for (int t = 0; t < rows.size(); t++) {
        Csv.Row row = rows.get(t);
        for (int j = 0; j < columns.size(); j++) {
          assertThat(Float.parseFloat(row.get(3 + j)))
              .as("%s row %d column %s", s.id(), t, columns.get(j))
              .isEqualTo(s.x()[t][j]);
        }
        assertThat(Float.parseFloat(row.get("y"))).isEqualTo(s.y()[t][0]);
        assertThat(Double.parseDouble(row.get("target_value")))
            .isEqualTo(data.series().get(i).rows().targets()[t]);
        assertThat(Instant.parse(row.get("time")))
            .isEqualTo(Instant.parse("2024-01-01T00:00:00Z").plusSeconds(3600L * t));
        assertThat(row.get("part"))
            .isEqualTo(t < validation ? "train" : t < test ? "validation" : "test");
      }
    }
  }

  @Test
  void shouldComputeTheDocumentedEncodingsFromTheRawHistory() throws Exception {
    Path out = dir.resolve("features.csv");
    assertThat(run("--out", out.toString()).code()).isZero();
    Csv raw = Csv.read(history);
    List<Csv.Row> written = Csv.read(out).rows();

    // Independent of the pipeline: the raw CSV and the formulas of docs/MODEL-CONTRACT.md.
    for (int t = 0; t < 119; t++) {
      Csv.Row in = raw.rows().get(t);
      Csv.Row row = written.get(t);
      double hourPhase = (t % 24) / 24.0;
      assertThat(Float.parseFloat(row.get("level"))).isEqualTo((float) in.getDouble("level"));
      assertThat(Float.parseFloat(row.get("hour_of_day:sin")))
          .isEqualTo((float) Math.sin(2 * Math.PI * hourPhase));
      assertThat(Float.parseFloat(row.get("hour_of_day:cos")))
          .isEqualTo((float) Math.cos(2 * Math.PI * hourPhase));
      assertThat(Float.parseFloat(row.get("y")))
          .as("the label is the next event's target (transform none)")
          .isEqualTo((float) raw.rows().get(t + 1).getDouble("level"));
      // A blank load cell is carried forward from the previous event.
      String load = in.get("load").isBlank() ? raw.rows().get(t - 1).get("load") : in.get("load");
      assertThat(Float.parseFloat(row.get("load"))).isEqualTo((float) Double.parseDouble(load));
    }
    assertThat(raw.rows().get(7).get("load")).as("the history has a blank to carry").isBlank();
  }

  @Test
  void shouldWriteCsvToStandardOutputAndTheSummaryToStandardError() {
    CliRun.Result r = run();

    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).startsWith("series_id,time,part,level,load,hour_of_day:sin");
    assertThat(r.out().lines()).hasSize(1 + 357);
    assertThat(r.out()).contains("\n\"site,2 \"\"north\"\"\",2024-01-01T00:00:00Z,train,");
    assertThat(r.err()).contains("read ").contains("wrote 357 rows");
  }

  @Test
  void shouldRefuseAMissingFileOrColumnInOneLine() throws Exception {
    CliRun.Result missing =
        CliRun.run("features", "-t", spec.toString(), "--csv", dir.resolve("nope.csv").toString());
    assertThat(missing.code()).isEqualTo(2);
    assertThat(missing.err().strip()).startsWith("error: no such file").doesNotContain("\n");

    Files.writeString(history, "site,time,level\nsite-0,2024-01-01T00:00,1.0\n");
    CliRun.Result noColumn = run();
    assertThat(noColumn.code()).isEqualTo(2);
    assertThat(noColumn.err().strip())
        .startsWith("error: ")
        .contains("no column 'load'")
        .doesNotContain("\n");
  }

  /**
   * Two targets at three horizons: one label column per output, in the model spec's {@code outputs}
   * order, equal to the labels the trainer is fed and to the raw history's differences; empty where
   * the horizon runs past the series' end (the trainer's NaN, masked out).
   */
  @Test
  void shouldWriteOneLabelPerOutputInTheModelSpecsOrder() throws Exception {
    Path multi = dir.resolve("multi.yaml");
    Files.writeString(
        multi,
        Files.readString(spec)
            .replace("  - field: load\n", "")
            .replace(
                "target: {field: level, transform: none, season: 24}",
                "target: {field: level, transform: none, season: 24, horizons: [1, 6, 24],"
                    + " also: [{field: load, transform: difference}]}"));
    Path out = dir.resolve("multi.csv");

    CliRun.Result r =
        CliRun.run(
            "features", "-t", multi.toString(), "--csv", history.toString(), "--out", "" + out);

    assertThat(r.code()).as(r.err()).isZero();
    TopologySpec topology = SpecLoader.load(multi, Map.of());
    FeaturePipeline pipeline = new FeaturePipeline(topology);
    ModelSpec model = PipelineModels.specFor(topology, "v1", CellType.GRU, 1, 16).build();
    assertThat(model.outputs())
        .containsExactly("level@1", "level@6", "level@24", "load@1", "load@6", "load@24");
    List<String> labels = model.outputs().stream().map(o -> "y:" + o).toList();
    Csv written = Csv.read(out);
    List<String> header = new ArrayList<>(List.of("series_id", "time", "part"));
    header.addAll(pipeline.columns());
    header.addAll(labels);
    header.addAll(List.of("target_value", "target_value:load"));
    assertThat(written.header()).isEqualTo(header);

    TrainingData data = TrainingData.fromCsv(topology, history);
    List<SeriesData> fed = data.seriesData();
    int row = 0;
    int empty = 0;
    for (SeriesData s : fed) {
      List<Csv.Row> rows = written.rows().subList(row, row + s.length());
      row += s.length();
      int n = s.length() + 1;
      double[][] raw = data.series().get(fed.indexOf(s)).rows().allTargets();
      for (int t = 0; t < s.length(); t++) {
        Csv.Row w = rows.get(t);
        assertThat(w.get("series_id")).isEqualTo(s.id());
        assertThat(Double.parseDouble(w.get("target_value"))).isEqualTo(raw[0][t]);
        assertThat(Double.parseDouble(w.get("target_value:load"))).isEqualTo(raw[1][t]);
        for (int j = 0; j < pipeline.columns().size(); j++) {
          assertThat(Float.parseFloat(w.get(3 + j))).isEqualTo(s.x()[t][j]);
        }
        for (int o = 0; o < labels.size(); o++) {
          int h = topology.target().horizons().get(o % 3);
          String cell = w.get(labels.get(o));
          String what = s.id() + " row " + t + " " + labels.get(o);
          if (t + h >= n) {
            assertThat(cell).as(what).isEmpty();
            assertThat(s.y()[t][o]).as(what).isNaN();
            empty++;
            continue;
          }
          float label = Float.parseFloat(cell);
          assertThat(label).as(what).isEqualTo(s.y()[t][o]);
          // From the raw targets (carried forward), not the pipeline's labelling: level is
          // untransformed, load a difference over h events.
          float expected = o < 3 ? (float) raw[0][t + h] : (float) (raw[1][t + h] - raw[1][t]);
          assertThat(label).as(what).isEqualTo(expected);
        }
      }
    }
    assertThat(row).isEqualTo(written.rows().size());
    // Per series the last h - 1 rows lack the h-ahead label: 0 + 5 + 23, for both targets.
    assertThat(empty).isEqualTo(fed.size() * 2 * (0 + 5 + 23));
  }

  private CliRun.Result run(String... extra) {
    List<String> args =
        new ArrayList<>(List.of("features", "-t", spec.toString(), "--csv", history.toString()));
    args.addAll(List.of(extra));
    return CliRun.run(args.toArray(String[]::new));
  }
}
