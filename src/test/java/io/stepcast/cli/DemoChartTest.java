package io.stepcast.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class DemoChartTest {
  private static final long HOUR = 3_600_000L;

  private static DemoChart.Series hourly(int n, boolean seasonal) {
    long[] t = new long[n];
    double[] actual = new double[n];
    double[] model = new double[n];
    double[] persistence = new double[n];
    double[] naive = new double[n];
    for (int i = 0; i < n; i++) {
      t[i] = 1_262_307_600_000L + i * HOUR;
      actual[i] = 5 + 4 * Math.sin(2 * Math.PI * i / 24);
      model[i] = actual[i] + 0.1;
      persistence[i] = i == 0 ? Double.NaN : actual[i - 1];
      naive[i] = i < 24 ? Double.NaN : actual[i - 24] + 0.3;
    }
    return new DemoChart.Series(
        "seattle",
        t,
        actual,
        model,
        persistence,
        seasonal ? naive : null,
        seasonal ? 24 : 0,
        "temperature (°C)",
        "caption");
  }

  @Test
  void shouldDrawActualModelAndBothBaselinesWithAUnitAndARollingErrorPanelAndAZoom() {
    String html = DemoChart.page("t", "intro", List.of(hourly(1000, true)));
    // Overview, rolling error, zoom.
    assertThat(count(html, "<svg")).isEqualTo(3);
    assertThat(html)
        .contains("temperature (°C)")
        .contains("absolute error, °C")
        .contains("persistence (last value)")
        .contains("seasonal-naive (24 events earlier)")
        .contains("mean absolute error over the last 168 events")
        .contains("zoom: the last 168 events");
    // The zoom has every line: actual, model, persistence, seasonal-naive.
    String zoom = html.substring(html.lastIndexOf("<svg"));
    for (String color : List.of("#222222", "#d9480f", "#1c7ed6", "#2b8a3e")) {
      assertThat(zoom).contains("stroke=\"" + color + "\" points=");
    }
  }

  @Test
  void shouldKeepTheLegendInTheBandAboveThePlotArea() {
    String html = DemoChart.page("t", "intro", List.of(hourly(1000, true), hourly(40, false)));
    // Every point of every line lies below the legend band (y >= 40, the plot's top).
    Matcher points = Pattern.compile("points=\"([^\"]*)\"").matcher(html);
    int lines = 0;
    while (points.find()) {
      lines++;
      for (String p : points.group(1).split(" ")) {
        assertThat(Double.parseDouble(p.split(",")[1])).isGreaterThanOrEqualTo(40.0);
      }
    }
    assertThat(lines).isGreaterThan(8);
    // Every legend sample sits in the band (y = 16).
    Matcher legend = Pattern.compile("stroke-width=\"2.5\"[^>]* y1=\"(\\d+)\"").matcher(html);
    int samples = 0;
    while (legend.find()) {
      samples++;
      assertThat(Integer.parseInt(legend.group(1))).isLessThan(40);
    }
    assertThat(samples).isGreaterThanOrEqualTo(8);
  }

  @Test
  void shouldShowAShortSeriesWithoutASeasonWhole() {
    String html = DemoChart.page("t", "intro", List.of(hourly(40, false)));
    assertThat(html).doesNotContain("seasonal-naive").doesNotContain("zoom");
    String overview = html.substring(html.indexOf("<svg"), html.indexOf("</svg>"));
    assertThat(overview).contains("persistence (last value)").contains("actual");
  }

  @Test
  void shouldAverageAbsoluteErrorsOverTheTrailingWindowSkippingMissingForecasts() {
    double[] actual = {1, 2, 3, 4, 5};
    double[] forecast = {Double.NaN, 1, 1, 1, 1};
    double[] mae = DemoChart.rollingMae(actual, forecast, 2);
    assertThat(mae[0]).isNaN();
    assertThat(mae[1]).isCloseTo(1.0, within(1e-12)); // only |2 - 1|
    assertThat(mae[2]).isCloseTo(1.5, within(1e-12));
    assertThat(mae[4]).isCloseTo(3.5, within(1e-12));
  }

  private static int count(String s, String what) {
    int n = 0;
    for (int i = s.indexOf(what); i >= 0; i = s.indexOf(what, i + 1)) {
      n++;
    }
    return n;
  }
}
