package io.stepcast.config;

import java.nio.file.Path;
import java.util.Map;

/** The shipped specs, loaded without environment overrides, and variations of them for tests. */
public final class SpecFixtures {
  private SpecFixtures() {}

  public static TopologySpec weather() {
    return SpecLoader.load(Path.of("topologies/weather.yaml"), Map.of());
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
    return withFeatures(s, java.util.List.of());
  }

  /** The same spec with these features besides the target. */
  public static TopologySpec withFeatures(
      TopologySpec s, java.util.List<TopologySpec.Feature> features) {
    return new TopologySpec(
        s.name(),
        s.applicationId(),
        s.topics(),
        s.seriesId(),
        s.timestamp(),
        features,
        s.target(),
        s.model(),
        s.policies(),
        s.training(),
        s.execution(),
        s.processing(),
        s.csv());
  }
}
