package io.stepcast.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.stepcast.config.SpecFixtures;
import io.stepcast.config.TopologySpec;
import io.stepcast.features.Event;
import io.stepcast.features.FeaturePipeline;
import io.stepcast.features.SeriesReplay;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class BaselinesTest {

  /** Weather events (difference transform) whose targets are the given values. */
  private static SeriesReplay.Rows rows(TopologySpec spec, double[] values) {
    List<Event> events = new ArrayList<>();
    for (int t = 0; t < values.length; t++) {
      events.add(Event.of("s", 3_600_000L * t, values[t], 1000.0, 3.0));
    }
    return SeriesReplay.rows(new FeaturePipeline(spec), events);
  }

  @Test
  void shouldForecastTheLastValueAndTheValueOneSeasonBefore() {
    SeriesReplay.Rows r = rows(SpecFixtures.weather(), new double[] {1, 2, 3, 4, 5});
    assertThat(Baselines.persistence(r, 3)).isEqualTo(4.0);
    assertThat(Baselines.seasonalNaive(r, 3, 2)).isEqualTo(3.0);
    assertThat(Baselines.seasonalNaive(r, 0, 2)).isNaN();
  }

  @Test
  void shouldRecoverTheCoefficientsOfAnAutoregressiveProcessOfDifferences() {
    TopologySpec spec = SpecFixtures.weather();
    Random random = new Random(3);
    int n = 40_000;
    double[] v = new double[n];
    double d1 = 0;
    double d2 = 0;
    for (int t = 1; t < n; t++) {
      double d = 0.1 + 0.6 * d1 - 0.3 * d2 + 0.01 * random.nextGaussian();
      v[t] = v[t - 1] + d;
      d2 = d1;
      d1 = d;
    }
    SeriesReplay.Rows r = rows(spec, v);
    Baselines.LinearAr ar = Baselines.LinearAr.fit(r, 30_000, 4);

    double[] c = ar.coefficients();
    assertThat(c[0]).isCloseTo(0.1, within(0.01));
    assertThat(c[1]).isCloseTo(0.6, within(0.02));
    assertThat(c[2]).isCloseTo(-0.3, within(0.02));
    assertThat(c[3]).isCloseTo(0.0, within(0.02));
    assertThat(c[4]).isCloseTo(0.0, within(0.02));
    FeaturePipeline p = new FeaturePipeline(spec);
    double expected =
        v[35_000] + 0.1 + 0.6 * (v[35_000] - v[34_999]) - 0.3 * (v[34_999] - v[34_998]);
    assertThat(ar.forecast(r, 35_000, p)).isCloseTo(expected, within(0.01));
  }

  /** An AR(order) process of differences with the given lag coefficients, as weather rows. */
  private static SeriesReplay.Rows arProcess(double[] phi, int n, long seed) {
    Random random = new Random(seed);
    double[] v = new double[n];
    double[] d = new double[n];
    for (int t = 1; t < n; t++) {
      double next = random.nextGaussian();
      for (int k = 0; k < phi.length && t - 1 - k >= 1; k++) {
        next += phi[k] * d[t - 1 - k];
      }
      d[t] = next;
      v[t] = v[t - 1] + next;
    }
    return rows(SpecFixtures.weather(), v);
  }

  @Test
  void shouldChooseTheOrderOfTheProcessByAicOverSeveralSeries() {
    // AR(3) with a clear third lag: each series votes, the summed criterion keeps the third lag
    // (AIC may add a spurious one, it never drops a strong one); AR(1) data needs no third lag.
    List<SeriesReplay.Rows> series =
        List.of(
            arProcess(new double[] {0.5, -0.2, 0.35}, 3000, 1),
            arProcess(new double[] {0.5, -0.2, 0.35}, 2000, 2));
    int[] trainEnd = {2400, 1600};

    int max = Baselines.maxArOrder(trainEnd, null);
    assertThat(max).isEqualTo(30);
    assertThat(Baselines.chooseArOrder(series, trainEnd, max)).isBetween(3, 5);
    assertThat(
            Baselines.chooseArOrder(
                List.of(arProcess(new double[] {0.7}, 3000, 3)), new int[] {2400}, max))
        .isBetween(1, 3);
  }

  @Test
  void shouldBoundTheOrdersTriedByTheSeasonAndTheShortestTrainingPart() {
    assertThat(Baselines.maxArOrder(new int[] {5000}, 48)).isEqualTo(49);
    assertThat(Baselines.maxArOrder(new int[] {5000, 120}, 48)).isEqualTo(12);
    assertThat(Baselines.maxArOrder(new int[] {7}, null)).isEqualTo(1);
  }

  @Test
  void shouldForecastEachHorizonWithTheLatestValueOfTheSamePhase() {
    double[] v = {0, 1, 2, 3, 4, 5, 6, 7};
    // Season 3, origin 5: horizon 1 is event 6, same phase as event 3; horizon 3 is event 8, the
    // same phase as 5; horizon 4 is event 9, the same phase as 3 (the latest known at 5).
    assertThat(Baselines.seasonalNaive(v, 5, 1, 3)).isEqualTo(3.0);
    assertThat(Baselines.seasonalNaive(v, 5, 3, 3)).isEqualTo(5.0);
    assertThat(Baselines.seasonalNaive(v, 5, 4, 3)).isEqualTo(3.0);
    assertThat(Baselines.seasonalNaive(v, 1, 1, 3)).isNaN();
  }

  @Test
  void shouldRecoverAnAutoregressionOfLevelsWithItsInterceptFromTheFittedPartOnly() {
    Random random = new Random(5);
    int n = 40_000;
    double[] v = new double[n];
    v[0] = 1000;
    v[1] = 1000;
    // Mean 1000: y = 300 + 0.5 y[t-1] + 0.2 y[t-2] + noise, at price-like levels.
    for (int t = 2; t < n; t++) {
      v[t] = 300 + 0.5 * v[t - 1] + 0.2 * v[t - 2] + random.nextGaussian();
    }
    int end = 30_000;
    Baselines.LevelAr fit = Baselines.LevelAr.fit(v, end, 2);
    assertThat(fit.coefficients()).hasSize(3);
    assertThat(fit.coefficients()[0]).isCloseTo(300, within(15.0));
    assertThat(fit.coefficients()[1]).isCloseTo(0.5, within(0.02));
    assertThat(fit.coefficients()[2]).isCloseTo(0.2, within(0.02));

    // Values from end on play no part: garbage there leaves the fit as it was.
    double[] spoiled = v.clone();
    for (int t = end; t < n; t++) {
      spoiled[t] = -1e6 * t;
    }
    Baselines.LevelAr same = Baselines.LevelAr.fit(spoiled, end, 2);
    assertThat(same.coefficients()).containsExactly(fit.coefficients());
    Baselines.LevelAr leaky = Baselines.LevelAr.fit(spoiled, end + 1, 2);
    assertThat(leaky.coefficients()).isNotEqualTo(fit.coefficients());

    // Further horizons roll the one-step forecast forward.
    double[] c = fit.coefficients();
    double one = c[0] + c[1] * v[100] + c[2] * v[99];
    double two = c[0] + c[1] * one + c[2] * v[100];
    assertThat(fit.forecast(v, 100, 1)).isCloseTo(one, within(1e-9));
    assertThat(fit.forecast(v, 100, 2)).isCloseTo(two, within(1e-9));
    assertThat(fit.forecast(v, 0, 1)).isNaN();
  }

  @Test
  void shouldRefuseALevelAutoregressionWithFewerValuesThanCoefficients() {
    double[] v = {1, 2, 3, 4, 5, 6};
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> Baselines.LevelAr.fit(v, 6, 3))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("AR(3)");
  }
}
