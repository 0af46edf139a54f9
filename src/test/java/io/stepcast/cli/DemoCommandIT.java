package io.stepcast.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.stepcast.config.SpecLoader;
import io.stepcast.config.TopologySpec;
import io.stepcast.testsupport.EmbeddedKafkaSupport;
import io.stepcast.testsupport.TestTopics;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The demo's pipeline run on a real broker: train, serve, stream the rest, score, chart. */
class DemoCommandIT {

  @TempDir Path dir;

  private DemoCommand.Outcome run(
      TopologySpec spec, String csv, DemoCommand.Settings settings, ByteArrayOutputStream console)
      throws Exception {
    return DemoCommand.runPipeline(
        spec,
        Path.of(csv),
        settings,
        EmbeddedKafkaSupport.cluster().bootstrapServers(),
        dir.resolve("work"),
        new PrintStream(console, true, StandardCharsets.UTF_8));
  }

  @Test
  void shouldForecastEveryHeldOutStockEventLiveAndChartIt() throws Exception {
    String base = TestTopics.unique("demo");
    TopologySpec spec =
        SpecLoader.load(Path.of("topologies/stocks.yaml"), TestTopics.isolatedPipeline(base, 2));
    ByteArrayOutputStream console = new ByteArrayOutputStream();
    DemoCommand.Settings settings =
        new DemoCommand.Settings(0.7, 5, null, dir.resolve("out"), Duration.ofMinutes(2));

    DemoCommand.Outcome o = run(spec, "samples/stocks.csv", settings, console);
    o.service().close();
    String text = console.toString(StandardCharsets.UTF_8);

    // 560 rows in 5 series (123, 123, 123, 68, 123 months): 70% trained, the rest held out.
    int heldOut = 4 * (123 - 86) + (68 - 47);
    assertThat(o.overall().forecasts()).as(text).isEqualTo(heldOut);
    assertThat(o.series()).hasSize(5).allSatisfy(s -> assertThat(s.liveMae()).isFinite());
    assertThat(o.deadLetters()).isZero();
    assertThat(o.maxOfflineDiff()).isLessThanOrEqualTo(1e-4);
    assertThat(text)
        .contains("received " + (heldOut + 5 * 6) + " forecasts and 0 dead letters")
        .contains("forecasts by model version: {" + o.version() + "=" + (heldOut + 5 * 6) + "}")
        .contains("persist MAE")
        .containsPattern("AR\\(\\d+\\) MAE");
    String html = Files.readString(o.chart());
    assertThat(o.chart().getFileName().toString()).isEqualTo("demo-stocks.html");
    assertThat(html).contains("<svg").contains("<polyline").contains("MSFT").contains("GOOG");
    assertThat(html).doesNotContain("<script").doesNotContain("src=").doesNotContain("href=");
    assertThat(Files.list(dir.resolve("out/models/stocks")).count()).isEqualTo(2);
  }

  @Test
  void shouldBeatTheSeasonalNaiveForecastOnTheWeatherSampleWithExactServingParity()
      throws Exception {
    String base = TestTopics.unique("demo-weather");
    TopologySpec spec =
        SpecLoader.load(Path.of("topologies/weather.yaml"), TestTopics.isolatedPipeline(base, 2));
    ByteArrayOutputStream console = new ByteArrayOutputStream();
    DemoCommand.Settings settings =
        new DemoCommand.Settings(0.7, null, null, dir.resolve("out"), Duration.ofMinutes(3));

    DemoCommand.Outcome o =
        run(spec, "samples/seattle-weather-hourly-normals.csv", settings, console);
    o.service().close();
    String text = console.toString(StandardCharsets.UTF_8);

    // The lag features (same hour yesterday and the hour before) read rows of the series-recent
    // store live and the events in memory offline: the same forecasts, to the last bit.
    assertThat(o.maxOfflineDiff()).as(text).isZero();
    assertThat(o.overall().forecasts()).isEqualTo(2628);
    assertThat(o.overall().liveMae())
        .as(text)
        .isLessThan(o.overall().seasonalMae())
        .isLessThan(o.overall().persistenceMae());
    assertThat(text).contains("seasonal MAE").contains("live vs seasonal");
    assertThat(DemoCommand.summaryLine(o))
        .contains(String.format(Locale.ROOT, "seasonal-naive %.4f", o.overall().seasonalMae()))
        .contains("persistence");
    String html = Files.readString(o.chart());
    assertThat(html)
        .contains("temperature (°C)")
        .contains("seasonal-naive (24 events earlier)")
        .contains("mean absolute error over the last 168 events");
  }

  @Test
  void shouldBeatPersistenceAndArOnRealDailyWeatherAndMatchPersistenceOnTheIndex()
      throws Exception {
    String base = TestTopics.unique("demo-daily");
    ByteArrayOutputStream console = new ByteArrayOutputStream();
    DemoCommand.Settings settings =
        new DemoCommand.Settings(0.7, null, null, dir.resolve("out"), Duration.ofMinutes(3));
    TopologySpec weather =
        SpecLoader.load(
            Path.of("topologies/weather-daily.yaml"), TestTopics.isolatedPipeline(base + "-w", 2));
    TopologySpec index =
        SpecLoader.load(
            Path.of("topologies/sp500.yaml"), TestTopics.isolatedPipeline(base + "-i", 1));

    DemoCommand.Outcome w = run(weather, "samples/weather-daily.csv", settings, console);
    w.service().close();
    DemoCommand.Outcome i = run(index, "samples/sp500-daily.csv", settings, console);
    i.service().close();
    String text = console.toString(StandardCharsets.UTF_8);

    // Noisy daily observations at two stations, four targets in one model: the first target's
    // live error beats persistence and the least-squares AR at both stations (3-5% over AR, 6-13%
    // over persistence when measured), with the served forecasts equal to the model run offline.
    assertThat(w.maxOfflineDiff()).as(text).isZero();
    assertThat(w.series()).hasSize(2);
    for (DemoCommand.Live s : w.series()) {
      assertThat(s.liveMae()).as(s.id() + "\n" + text).isLessThan(s.persistenceMae());
      assertThat(s.liveMae()).as(s.id() + "\n" + text).isLessThan(s.arMae());
    }
    // A random walk: no worse than persistence (0.6% better when measured; half a percent of
    // slack for a machine whose math library sums in another order).
    assertThat(i.maxOfflineDiff()).as(text).isZero();
    assertThat(i.overall().liveMae()).as(text).isLessThan(1.005 * i.overall().persistenceMae());
    assertThat(text).contains("AR(14) MAE");
  }
}
