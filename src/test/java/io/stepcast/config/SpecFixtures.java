package io.stepcast.config;

import java.nio.file.Path;
import java.util.Map;

/** The shipped specs, loaded without environment overrides, and variations of them for tests. */
public final class SpecFixtures {
  private SpecFixtures() {}

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
    return new TopologySpec(
        s.name(),
        s.applicationId(),
        s.topics(),
        s.seriesId(),
        s.timestamp(),
        s.features(),
        s.target(),
        s.model(),
        new TopologySpec.Policies(policy),
        s.training(),
        s.execution(),
        s.processing(),
        s.csv());
  }

  /** The same spec with another model section. */
  public static TopologySpec withModel(TopologySpec s, TopologySpec.Model model) {
    return new TopologySpec(
        s.name(),
        s.applicationId(),
        s.topics(),
        s.seriesId(),
        s.timestamp(),
        s.features(),
        s.target(),
        model,
        s.policies(),
        s.training(),
        s.execution(),
        s.processing(),
        s.csv());
  }

  /** The same spec with no features besides the target. */
  public static TopologySpec withNoFeatures(TopologySpec s) {
    return new TopologySpec(
        s.name(),
        s.applicationId(),
        s.topics(),
        s.seriesId(),
        s.timestamp(),
        java.util.List.of(),
        s.target(),
        s.model(),
        s.policies(),
        s.training(),
        s.execution(),
        s.processing(),
        s.csv());
  }
}
