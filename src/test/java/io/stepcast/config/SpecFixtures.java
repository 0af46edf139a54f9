package io.stepcast.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.Map;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;

/** The shipped specs, loaded without environment overrides, and variations of them for tests. */
public final class SpecFixtures {
  private SpecFixtures() {}

  /** Asserts that {@code load} fails with a one-line ConfigException containing every part. */
  public static void assertOneLine(ThrowingCallable load, String... parts) {
    assertThatThrownBy(load)
        .isInstanceOf(ConfigException.class)
        .satisfies(
            e -> {
              assertThat(e.getMessage()).doesNotContain("\n").contains("Fix: ");
              for (String p : parts) {
                assertThat(e.getMessage()).contains(p);
              }
            });
  }

  public static TopologySpec weather() {
    return SpecLoader.load(Path.of("topologies/weather.yaml"), Map.of());
  }

  /** Weather with two targets (temperature, wind) at horizons 1, 6 and 24. */
  public static TopologySpec weatherHorizons() {
    return SpecLoader.load(Path.of("topologies/weather-horizons.yaml"), Map.of());
  }

  public static TopologySpec stocks() {
    return SpecLoader.load(Path.of("topologies/stocks.yaml"), Map.of());
  }

  /** The same spec with another missing-value policy. */
  public static TopologySpec withMissing(TopologySpec s, TopologySpec.MissingPolicy policy) {
    return with(
        s,
        s.features(),
        s.model(),
        new TopologySpec.Policies(policy, s.policies().anomaly()),
        s.intervals());
  }

  /** The same spec with another model section. */
  public static TopologySpec withModel(TopologySpec s, TopologySpec.Model model) {
    return with(s, s.features(), model, s.policies(), s.intervals());
  }

  /** The same spec with no features besides the target. */
  public static TopologySpec withNoFeatures(TopologySpec s) {
    return withFeatures(s, java.util.List.of());
  }

  /** The same spec with these features besides the target. */
  public static TopologySpec withFeatures(
      TopologySpec s, java.util.List<TopologySpec.Feature> features) {
    return with(s, features, s.model(), s.policies(), s.intervals());
  }

  /** The same spec with another anomaly policy and interval settings. */
  public static TopologySpec withIntervals(
      TopologySpec s, TopologySpec.AnomalyPolicy anomaly, TopologySpec.Intervals intervals) {
    return with(
        s,
        s.features(),
        s.model(),
        new TopologySpec.Policies(s.policies().missing(), anomaly),
        intervals);
  }

  /** The same spec with another anomaly policy. */
  public static TopologySpec withAnomalyPolicy(TopologySpec s, TopologySpec.AnomalyPolicy anomaly) {
    return withIntervals(s, anomaly, s.intervals());
  }

  private static TopologySpec with(
      TopologySpec s,
      java.util.List<TopologySpec.Feature> features,
      TopologySpec.Model model,
      TopologySpec.Policies policies,
      TopologySpec.Intervals intervals) {
    return new TopologySpec(
        s.name(),
        s.applicationId(),
        s.topics(),
        s.seriesId(),
        s.timestamp(),
        features,
        s.target(),
        model,
        policies,
        intervals,
        s.training(),
        s.execution(),
        s.processing(),
        s.csv());
  }
}
