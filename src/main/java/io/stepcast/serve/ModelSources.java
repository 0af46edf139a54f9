package io.stepcast.serve;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.stepcast.config.TopologySpec;
import io.stepcast.features.FeaturePipeline;
import io.stepcast.kafka.ModelTopic;
import io.stepcast.model.ExecutionConfig;
import io.stepcast.model.ModelCandidate;
import io.stepcast.model.ModelDirectoryWatcher;
import io.stepcast.model.ModelRegistry;
import io.stepcast.model.ModelSpec;
import io.stepcast.model.SourceHealth;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The model side of an instance: the pipeline's {@link ModelRegistry} and the sources that feed it
 * (the model directory and the model topic), with their health as metrics.
 *
 * <p>Why here and not in the trainer: the serving path must not import {@code train}; the trainer
 * builds registries through {@link #registry} too, so both accept exactly the same models.
 */
public final class ModelSources implements AutoCloseable {
  private final ModelDirectoryWatcher watcher;
  private final ModelTopic.Follower follower;

  private ModelSources(ModelDirectoryWatcher watcher, ModelTopic.Follower follower) {
    this.watcher = watcher;
    this.follower = follower;
  }

  /**
   * A model registry that accepts only models fitting this pipeline (features, target, transform),
   * pinned to {@code model.pin} when the spec sets it.
   */
  public static ModelRegistry registry(
      TopologySpec spec, ExecutionConfig execution, ModelRegistry.Listener listener) {
    FeaturePipeline pipeline = new FeaturePipeline(spec);
    return new ModelRegistry(
        spec.name(),
        pipeline.columns(),
        ModelSpec.TargetSpec.list(pipeline.targetNames(), pipeline.transformIds()),
        spec.target().horizons(),
        execution,
        listener,
        spec.model().pin());
  }

  /**
   * Starts following the spec's model sources: {@code modelDir} (or {@code model.directory}) when
   * set, and the model topic when {@code model.followTopic}; binds their meters to {@code meters}.
   */
  public static ModelSources start(
      TopologySpec spec,
      Path modelDir,
      String bootstrap,
      Map<String, String> clientProperties,
      ModelRegistry registry,
      MeterRegistry meters) {
    ModelDirectoryWatcher w = null;
    ModelTopic.Follower f = null;
    List<ModelCandidate.Origin> origins = new ArrayList<>();
    if (modelDir != null) {
      origins.add(ModelCandidate.Origin.DIRECTORY);
    }
    if (spec.model().followTopic()) {
      origins.add(ModelCandidate.Origin.TOPIC);
    }
    registry.expect(origins);
    try {
      if (modelDir != null) {
        w = new ModelDirectoryWatcher(modelDir, registry, spec.model().pollIntervalMs());
      }
      if (spec.model().followTopic()) {
        f =
            new ModelTopic.Follower(
                bootstrap, clientProperties, spec.topics().model(), spec.name(), registry);
      }
    } catch (RuntimeException e) {
      if (w != null) {
        w.close();
      }
      throw e;
    }
    bind(spec.name(), registry, meters);
    return new ModelSources(w, f);
  }

  /** The model directory of an instance: the option when given, else the spec's. */
  public static Path directory(TopologySpec spec, Path option) {
    return option != null
        ? option
        : spec.model().directory() == null ? null : Path.of(spec.model().directory());
  }

  private static void bind(String pipeline, ModelRegistry registry, MeterRegistry meters) {
    Tags p = Tags.of("pipeline", pipeline);
    for (SourceHealth h : registry.sources()) {
      Tags t = p.and("source", h.origin().id());
      Gauge.builder("stepcast.model.source.up", h, s -> s.up() ? 1 : 0)
          .description(
              "1 while a model source (directory, topic) follows its models, 0 while it fails"
                  + " (it retries with backoff) or is wedged")
          .tags(t)
          .register(meters);
      Gauge.builder("stepcast.model.source.last.success", h, s -> s.lastSuccessMillis() / 1000.0)
          .description("Unix time of a model source's last successful scan or poll")
          .baseUnit("seconds")
          .tags(t)
          .register(meters);
      FunctionCounter.builder("stepcast.model.source.errors", h, SourceHealth::errors)
          .description("Failed scans or polls of a model source (each retried)")
          .tags(t)
          .register(meters);
    }
    Gauge.builder(
            "stepcast.model.created",
            registry,
            r -> {
              ModelRegistry.Handle h = r.current();
              return h == null ? Double.NaN : h.createdAt().toEpochMilli() / 1000.0;
            })
        .description(
            "Creation time (Unix, from its spec) of the model serving the pipeline: what ranks"
                + " models; instances that differ are skewed")
        .baseUnit("seconds")
        .tags(p)
        .register(meters);
  }

  @Override
  public void close() {
    if (follower != null) {
      try {
        follower.close();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (watcher != null) {
      watcher.close();
    }
  }
}
