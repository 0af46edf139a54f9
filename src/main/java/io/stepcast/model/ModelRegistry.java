package io.stepcast.model;

import io.stepcast.config.SafeText;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The live model of one pipeline. New models are offered from the model topic or the model
 * directory; each is validated (signature and golden vectors by {@link StepModel#load}, then its
 * features and target against the pipeline) and swapped in atomically. A refused model leaves the
 * current one serving.
 *
 * <p>Stream tasks hold a {@link Handle} while they step; a replaced model is closed only when the
 * last task has let go of it, so a swap never closes a session under a running step.
 */
public final class ModelRegistry implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ModelRegistry.class);

  /** Told of every swap and refusal (metrics, logs). */
  public interface Listener {
    /** A model was swapped in; {@code previous} is null for the first. */
    void swapped(String previous, String current);

    /** A model was refused; the current one keeps serving. */
    void refused(String source, String reason);

    /** Does nothing. */
    Listener NONE =
        new Listener() {
          @Override
          public void swapped(String previous, String current) {}

          @Override
          public void refused(String source, String reason) {}
        };
  }

  /** A reference-counted hold on one loaded model. */
  public static final class Handle {
    private final StepModel model;
    private final AtomicInteger refs = new AtomicInteger(1);

    Handle(StepModel model) {
      this.model = model;
    }

    public StepModel model() {
      return model;
    }

    public String version() {
      return model.version();
    }

    boolean retain() {
      for (; ; ) {
        int r = refs.get();
        if (r == 0) {
          return false;
        }
        if (refs.compareAndSet(r, r + 1)) {
          return true;
        }
      }
    }

    /** Lets go of the model; the last release closes it. */
    public void release() {
      if (refs.decrementAndGet() == 0) {
        try {
          model.close();
        } catch (RuntimeException e) {
          LOG.warn("closing model {} failed", SafeText.of(model.version(), 200), e);
        }
      }
    }
  }

  private final String pipeline;
  private final List<String> columns;
  private final String target;
  private final String transform;
  private final ExecutionConfig execution;
  private final Listener listener;
  private volatile Handle current;
  private volatile String lastRefusal;
  private boolean closed;

  /**
   * @param pipeline the pipeline's name (models for other pipelines are refused)
   * @param columns the feature columns the pipeline computes, in order
   * @param target the target field
   * @param transform the target transform id ({@code none}, {@code difference}, {@code log_return})
   */
  public ModelRegistry(
      String pipeline,
      List<String> columns,
      String target,
      String transform,
      ExecutionConfig execution,
      Listener listener) {
    this.pipeline = pipeline;
    this.columns = List.copyOf(columns);
    this.target = target;
    this.transform = transform;
    this.execution = execution;
    this.listener = Objects.requireNonNull(listener);
  }

  /** The outcome of an offer. */
  public enum Outcome {
    SWAPPED,
    UNCHANGED,
    REFUSED
  }

  /**
   * Validates a model and swaps it in. A model with the version already serving is ignored.
   *
   * @param source where it came from, for logs (a path, or topic/partition/offset)
   */
  public Outcome offer(byte[] onnx, String source) {
    StepModel model;
    try {
      model = StepModel.load(onnx, execution);
    } catch (ModelException e) {
      return refuse(source, e.getMessage());
    }
    String problem = mismatch(model.spec());
    if (problem != null) {
      model.close();
      return refuse(source, problem);
    }
    Handle old;
    synchronized (this) {
      if (closed) {
        model.close();
        return Outcome.UNCHANGED;
      }
      if (current != null && current.version().equals(model.version())) {
        model.close();
        return Outcome.UNCHANGED;
      }
      old = current;
      current = new Handle(model);
    }
    String previous = old == null ? null : old.version();
    LOG.info(
        "pipeline {}: model {} from {} is now serving (was {}, provider {})",
        pipeline,
        SafeText.of(model.version(), 200),
        SafeText.of(source, 300),
        SafeText.of(previous, 200),
        model.provider());
    listener.swapped(previous, model.version());
    if (old != null) {
      old.release();
    }
    return Outcome.SWAPPED;
  }

  private Outcome refuse(String source, String reason) {
    lastRefusal = source + ": " + reason;
    LOG.warn(
        "pipeline {}: refused model from {}: {}; {} keeps serving",
        pipeline,
        SafeText.of(source, 300),
        SafeText.of(reason, 1000),
        current == null ? "no model" : "model " + SafeText.of(current.version(), 200));
    listener.refused(source, reason);
    return Outcome.REFUSED;
  }

  /** Why a model built for something else does not fit this pipeline, or null if it fits. */
  String mismatch(ModelSpec spec) {
    if (spec.pipeline() != null && !spec.pipeline().equals(pipeline)) {
      return "the model is for pipeline '" + spec.pipeline() + "', not '" + pipeline + "'";
    }
    if (!columns.equals(spec.features())) {
      return "the model expects features "
          + spec.features()
          + " but the pipeline computes "
          + columns;
    }
    if (!target.equals(spec.target())) {
      return "the model forecasts '"
          + spec.target()
          + "' but the pipeline's target is '"
          + target
          + "'";
    }
    if (!transform.equals(spec.targetTransform())) {
      return "the model was trained on target transform '"
          + spec.targetTransform()
          + "' but the pipeline uses '"
          + transform
          + "'";
    }
    if (spec.outputSize() != 1) {
      return "the model has " + spec.outputSize() + " outputs; stepcast forecasts one target";
    }
    return null;
  }

  /** The serving model without taking a hold on it (for identity checks), or null. */
  public Handle current() {
    return current;
  }

  /** Takes a hold on the serving model, or returns null if there is none. Release it when done. */
  public Handle acquire() {
    for (; ; ) {
      Handle h = current;
      if (h == null) {
        return null;
      }
      if (h.retain()) {
        return h;
      }
    }
  }

  /** Whether a model is serving. */
  public boolean hasModel() {
    return current != null;
  }

  /** The last refusal's source and reason, or null. */
  public String lastRefusal() {
    return lastRefusal;
  }

  /** Waits until a model is serving; returns false on timeout. */
  public boolean awaitModel(Duration timeout) throws InterruptedException {
    long end = System.nanoTime() + timeout.toNanos();
    while (current == null) {
      if (System.nanoTime() > end) {
        return false;
      }
      Thread.sleep(50);
    }
    return true;
  }

  @Override
  public void close() {
    Handle h;
    synchronized (this) {
      closed = true;
      h = current;
      current = null;
    }
    if (h != null) {
      h.release();
    }
  }
}
