package io.stepcast.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.stepcast.config.SpecFixtures;
import io.stepcast.config.TopologySpec;
import io.stepcast.features.Event;
import io.stepcast.features.FeaturePipeline;
import io.stepcast.features.Rejection;
import io.stepcast.kafka.Csv;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainingDataTest {

  @TempDir Path dir;

  private static TrainingData.RawRecord record(String key, String json) {
    return new TrainingData.RawRecord(
        key == null ? null : key.getBytes(StandardCharsets.UTF_8),
        json.getBytes(StandardCharsets.UTF_8));
  }

  private static String weather(String date, double temperature) {
    return "{\"date\":\""
        + date
        + "\",\"pressure\":1016.5,\"temperature\":"
        + temperature
        + ",\"wind\":3.5}";
  }

  @Test
  void shouldTurnTheStocksSampleIntoOneSeriesPerSymbolInTimeOrder() throws Exception {
    TopologySpec spec = SpecFixtures.stocks();
    TrainingData data = TrainingData.fromCsv(spec, Path.of("samples/stocks.csv"));

    assertThat(data.series())
        .extracting(TrainingData.Series::id)
        .containsExactly("MSFT", "AMZN", "IBM", "GOOG", "AAPL");
    assertThat(data.events()).isEqualTo(560);
    assertThat(data.counts().records()).isEqualTo(560);
    assertThat(data.counts().rejectedTotal()).isZero();
    TrainingData.Series msft = data.series().get(0);
    assertThat(msft.events().get(0).target()).isEqualTo(39.81);
    assertThat(msft.rows().x().length).isEqualTo(msft.length() - 1);
    // log_return: the first row's transformed target is 0, the label the next month's log return.
    assertThat(msft.rows().x()[0][0]).isEqualTo(0f);
    assertThat((double) msft.rows().y()[0][0])
        .isCloseTo(Math.log(36.35 / 39.81), org.assertj.core.data.Offset.offset(1e-6));
    for (TrainingData.Series s : data.series()) {
      for (int i = 1; i < s.length(); i++) {
        assertThat(s.events().get(i).timeMillis())
            .isGreaterThan(s.events().get(i - 1).timeMillis());
      }
    }
  }

  @Test
  void shouldKeyRowsAsTheReplayDoesAndKeepTheirRawRecords() throws Exception {
    TopologySpec spec = SpecFixtures.weather();
    Csv csv =
        Csv.parse(
            "w.csv",
            "date,pressure,temperature,wind\n2010-01-01T01:00:00,1016.6,4.0,3.8\n"
                + "2010-01-01T02:00:00,1016.6,3.9,3.8\n");
    TrainingData data = TrainingData.fromCsv(spec, csv);

    assertThat(data.series())
        .singleElement()
        .satisfies(
            s -> {
              assertThat(s.id()).isEqualTo("seattle");
              assertThat(new String(s.records().get(0).key(), StandardCharsets.UTF_8))
                  .isEqualTo("seattle");
              assertThat(new String(s.records().get(0).value(), StandardCharsets.UTF_8))
                  .isEqualTo(
                      "{\"date\":\"2010-01-01T01:00:00\",\"pressure\":1016.6,\"temperature\":4.0,\"wind\":3.8}");
            });
  }

  @Test
  void shouldFailOnAnEmptyFileNamingIt() {
    TopologySpec spec = SpecFixtures.weather();
    assertThatThrownBy(() -> TrainingData.fromCsv(spec, Csv.parse("empty.csv", "")))
        .isInstanceOf(Csv.FormatException.class)
        .hasMessageContaining("empty.csv")
        .hasMessageContaining("empty");
    assertThatThrownBy(
            () ->
                TrainingData.fromCsv(
                    spec, Csv.parse("header.csv", "date,pressure,temperature,wind\n")))
        .isInstanceOf(Csv.FormatException.class)
        .hasMessageContaining("header.csv")
        .hasMessageContaining("no data rows");
  }

  @Test
  void shouldNameTheRowAndColumnOfANonNumericCell() {
    TopologySpec spec = SpecFixtures.weather();
    Csv csv =
        Csv.parse(
            "bad.csv",
            "date,pressure,temperature,wind\n"
                + "2010-01-01T01:00:00,1016.6,4.0,3.8\n"
                + "2010-01-01T02:00:00,1016.6,warm,3.8\n");

    assertThatThrownBy(() -> TrainingData.fromCsv(spec, csv))
        .isInstanceOf(Csv.FormatException.class)
        .hasMessageContaining("bad.csv: row 3, column 3")
        .hasMessageContaining("temperature")
        .hasMessageContaining("'warm' is not a number")
        .satisfies(
            e -> {
              Csv.FormatException f = (Csv.FormatException) e;
              assertThat(f.row()).isEqualTo(3);
              assertThat(f.column()).isEqualTo(3);
            });
  }

  @Test
  void shouldNameTheRowAndColumnOfAnUnreadableTimestamp() {
    TopologySpec spec = SpecFixtures.weather();
    Csv csv = Csv.parse("bad.csv", "pressure,date,temperature,wind\n1016.6,yesterday,4.0,3.8\n");

    assertThatThrownBy(() -> TrainingData.fromCsv(spec, csv))
        .isInstanceOf(Csv.FormatException.class)
        .hasMessageContaining("row 2, column 2")
        .hasMessageContaining("'yesterday'");
  }

  @Test
  void shouldNameAMissingColumnAndTheHeader() {
    TopologySpec spec = SpecFixtures.weather();
    Csv csv =
        Csv.parse("nowind.csv", "date,pressure,temperature\n2010-01-01T01:00:00,1016.6,4.0\n");

    assertThatThrownBy(() -> TrainingData.fromCsv(spec, csv))
        .isInstanceOf(Csv.FormatException.class)
        .hasMessageContaining("nowind.csv")
        .hasMessageContaining("no column 'wind'")
        .hasMessageContaining("[date, pressure, temperature]");
  }

  @Test
  void shouldSortLateEventsDropDuplicatesAndCountBoth() {
    TopologySpec spec = SpecFixtures.weather();
    TrainingData data =
        TrainingData.fromRecords(
            spec,
            "test",
            List.of(
                record("a", weather("2010-01-01T01:00:00", 1)),
                record("a", weather("2010-01-01T03:00:00", 3)),
                record("a", weather("2010-01-01T02:00:00", 2)),
                record("a", weather("2010-01-01T03:00:00", 99)),
                record("b", weather("2010-01-01T01:00:00", 5))));

    assertThat(data.counts().late()).isEqualTo(1);
    assertThat(data.counts().duplicates()).isEqualTo(1);
    TrainingData.Series a = data.series().get(0);
    assertThat(a.events()).extracting(Event::target).containsExactly(1.0, 2.0, 3.0);
    assertThat(data.series().get(1).events()).extracting(Event::target).containsExactly(5.0);
  }

  @Test
  void shouldCountRejectedRecordsOfATopicByReason() {
    TopologySpec spec = SpecFixtures.weather();
    TrainingData data =
        TrainingData.fromRecords(
            spec,
            "topic weather-events",
            List.of(
                record("a", weather("2010-01-01T01:00:00", 1)),
                record("a", "not json"),
                record(null, weather("2010-01-01T02:00:00", 2)),
                record(
                    "a",
                    "{\"date\":\"2010-01-01T03:00:00\",\"pressure\":1,\"temperature\":\"hot\",\"wind\":1}"),
                record("a", weather("2010-01-01T04:00:00", 4))));

    assertThat(data.counts().records()).isEqualTo(5);
    assertThat(data.counts().rejected())
        .containsEntry(Rejection.MALFORMED_JSON, 1L)
        .containsEntry(Rejection.BAD_KEY, 1L)
        .containsEntry(Rejection.NON_NUMERIC, 1L);
    assertThat(data.counts().firstRejections()).hasSize(3);
    assertThat(data.events()).isEqualTo(2);
  }

  @Test
  void shouldCarryMissingInputsForwardAndDropEventsWithNothingToCarry() {
    TopologySpec spec = SpecFixtures.weather();
    TrainingData data =
        TrainingData.fromRecords(
            spec,
            "test",
            List.of(
                record("a", "{\"date\":\"2010-01-01T01:00:00\",\"temperature\":1,\"wind\":2}"),
                record("a", weather("2010-01-01T02:00:00", 2)),
                record("a", "{\"date\":\"2010-01-01T03:00:00\",\"temperature\":3,\"wind\":7}"),
                record("a", "{\"date\":\"2010-01-01T04:00:00\",\"pressure\":1000}")));

    // The first has no pressure to carry; the last has no target (skipped, like the server does).
    assertThat(data.counts().unfillable()).isEqualTo(1);
    assertThat(data.counts().skipped()).isEqualTo(1);
    List<Event> events = data.series().get(0).events();
    assertThat(events).hasSize(2);
    assertThat(events.get(1).fields()).containsExactly(1016.5, 7.0);
    float[][] x = data.series().get(0).rows().x();
    FeaturePipeline p = new FeaturePipeline(spec);
    assertThat(p.columns().get(1)).isEqualTo("pressure");
    assertThat(x.length).isEqualTo(1);
  }

  @Test
  void shouldTakeTheHeadOfEverySeriesWithRowsRecomputed() throws Exception {
    TopologySpec spec = SyntheticHistory.spec(dir, Map.of());
    TrainingData data =
        TrainingData.fromCsv(spec, Csv.parse("s.csv", SyntheticHistory.csv(2, 100, 1)));
    TrainingData head = data.head(0.7, new FeaturePipeline(spec));

    assertThat(head.series())
        .allSatisfy(
            s -> {
              assertThat(s.length()).isEqualTo(70);
              assertThat(s.rows().x().length).isEqualTo(69);
              assertThat(s.records()).hasSize(70);
            });
    assertThat(head.series().get(0).rows().x()[68])
        .containsExactly(data.series().get(0).rows().x()[68]);
  }

  @Test
  void shouldDropAndCountRowsWithAMissingCellUnderTheRejectPolicyAsTheServerDoes()
      throws Exception {
    TopologySpec spec = SyntheticHistory.spec(dir, Map.of("STEPCAST_POLICIES_MISSING", "reject"));
    // Every 50th load cell is blank (hours 7, 57, 107, 157 of each site); blank a target and a
    // timestamp as well.
    List<String> lines =
        new java.util.ArrayList<>(SyntheticHistory.csv(2, 200, 5).lines().toList());
    lines.set(21, lines.get(21).substring(0, lines.get(21).lastIndexOf(',') + 1));
    String[] cells = lines.get(31).split(",", -1);
    cells[1] = "";
    lines.set(31, String.join(",", cells));

    TrainingData data =
        TrainingData.fromCsv(spec, Csv.parse("gaps.csv", String.join("\n", lines) + "\n"));

    assertThat(data.counts().records()).isEqualTo(400);
    assertThat(data.counts().rejected()).containsOnly(Map.entry(Rejection.MISSING_FIELD, 10L));
    assertThat(data.counts().firstRejections())
        .first()
        .asString()
        .contains("field 'load' is missing")
        .contains("record 8");
    assertThat(data.events()).isEqualTo(390);
    assertThat(data.series()).hasSize(2);
  }

  @Test
  void shouldStillFailOnACellThatIsNotANumberUnderTheRejectPolicy() throws Exception {
    TopologySpec spec = SyntheticHistory.spec(dir, Map.of("STEPCAST_POLICIES_MISSING", "reject"));
    List<String> lines = new java.util.ArrayList<>(SyntheticHistory.csv(1, 60, 5).lines().toList());
    lines.set(1, lines.get(1).replaceAll(",[^,]*$", ",oops"));
    String csv = String.join("\n", lines) + "\n";

    assertThatThrownBy(() -> TrainingData.fromCsv(spec, Csv.parse("bad.csv", csv)))
        .isInstanceOf(Csv.FormatException.class)
        .hasMessageContaining("bad.csv: row 2")
        .hasMessageContaining("'oops' is not a number");
  }
}
