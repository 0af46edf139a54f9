package io.stepcast.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.stepcast.config.SpecLoader;
import io.stepcast.config.TopologySpec;
import io.stepcast.features.FeaturePipeline;
import io.stepcast.kafka.Csv;
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

  private CliRun.Result run(String... extra) {
    List<String> args =
        new ArrayList<>(List.of("features", "-t", spec.toString(), "--csv", history.toString()));
    args.addAll(List.of(extra));
    return CliRun.run(args.toArray(String[]::new));
  }
}
