package io.stepcast.model;

import io.stepcast.config.SafeText;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The live model of one pipeline. Its sources (the model directory, the model topic) hand it their
 * candidates; it serves the highest-ranked valid one by one precedence, the same on every instance:
 * the newest spec {@code createdAt}, ties broken by the greater version string, unless pinned to a
 * version. Each candidate is validated (signature and golden vectors by {@link StepModel#load},
 * then its features and target against the pipeline) and swapped in atomically; a refused one is
 * logged and counted once and the next older one is tried, so a broken newest model never leaves an
 * instance without the valid older one. It never steps back to a lower-ranked model.
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

    /** The spec's creation time (the epoch when it has none): what ranks the model. */
    public Instant createdAt() {
      return ModelCandidate.createdAt(model.spec().createdAt());
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

  /**
   * How long the first choice waits for every registered source's first view (a topic being read to
   * its end); after that it is made from the sources heard so far.
   */
  public static final long SETTLE_MS = 30_000;

  private final String pipeline;
  private final List<String> columns;
  private final String target;
  private final String transform;
  private final List<ModelSpec.TargetSpec> targets;
  private final List<Integer> horizons;
  private final ExecutionConfig execution;
  private final Listener listener;
  private final String pin;
  private final Object selecting = new Object();
  private final Map<ModelCandidate.Origin, List<ModelCandidate>> pools =
      new EnumMap<>(ModelCandidate.Origin.class);
  private final Map<ModelCandidate.Origin, SourceHealth> sources =
      new EnumMap<>(ModelCandidate.Origin.class);
  // Sources registered but not yet heard from; the first choice waits for them (up to SETTLE_MS).
  private final Set<ModelCandidate.Origin> unheard = EnumSet.noneOf(ModelCandidate.Origin.class);
  private long settleUntilNanos;
  // Candidates already refused or passed over, by identity: each is logged and counted once.
  private final Set<String> refused = new HashSet<>();
  private final Set<String> noted = new HashSet<>();
  private volatile Handle current;
  private volatile String lastRefusal;
  private boolean closed;

  /**
   * @param pipeline the pipeline's name (models for other pipelines are refused)
   * @param columns the feature columns the pipeline computes, in order
   * @param target the target field
   * @param transform the target transform id ({@code none}, {@code difference}, {@code log_return})
   * @param pin the only version to serve, whatever its rank; null: the highest-ranked valid one
   */
  public ModelRegistry(
      String pipeline,
      List<String> columns,
      String target,
      String transform,
      ExecutionConfig execution,
      Listener listener,
      String pin) {
    this(
        pipeline,
        columns,
        List.of(new ModelSpec.TargetSpec(target, transform)),
        List.of(1),
        execution,
        listener,
        pin);
  }

  /**
   * A registry for a pipeline that forecasts several targets or horizons.
   *
   * @param targets the targets with their transforms, in output order (the first is the target)
   * @param horizons the horizons in events ahead, ascending from 1
   */
  public ModelRegistry(
      String pipeline,
      List<String> columns,
      List<ModelSpec.TargetSpec> targets,
      List<Integer> horizons,
      ExecutionConfig execution,
      Listener listener,
      String pin) {
    this.pipeline = pipeline;
    this.columns = List.copyOf(columns);
    this.targets = List.copyOf(targets);
    this.horizons = List.copyOf(horizons);
    this.target = this.targets.get(0).name();
    this.transform = this.targets.get(0).transform();
    this.execution = execution;
    this.listener = Objects.requireNonNull(listener);
    this.pin = pin == null || pin.isBlank() ? null : pin;
  }

  /** The outcome of an offer. */
  public enum Outcome {
    SWAPPED,
    UNCHANGED,
    REFUSED
  }

  /**
   * Validates a model and swaps it in, whatever its rank (tools and tests; running instances go
   * through {@link #candidates}). A model with the version already serving is ignored.
   *
   * @param source where it came from, for logs (a path, or topic/partition/offset)
   */
  public Outcome offer(byte[] onnx, String source) {
    synchronized (selecting) {
      return load(onnx, source);
    }
  }

  /**
   * Replaces the candidates of one source with {@code list} (all it offers now) and serves the
   * highest-ranked valid candidate of all sources, trying them newest first: a broken newest model
   * never hides a valid older one. Never steps back below the serving model's rank unless pinned.
   * Runs in the calling source's thread; loading a model can take a while.
   */
  public void candidates(ModelCandidate.Origin origin, List<ModelCandidate> list) {
    synchronized (selecting) {
      pools.put(origin, List.copyOf(list));
      unheard.remove(origin);
      if (current == null && !unheard.isEmpty() && System.nanoTime() - settleUntilNanos < 0) {
        // The first model waits for every source's first full view: serving the directory's model
        // and swapping to the topic's newer one a moment later is a needless burn-in.
        return;
      }
      select();
    }
  }

  /**
   * Whether the first choice still waits for a source's first view: sources hand their candidates
   * again on every round while this holds, so that the choice happens once the wait is over.
   */
  public boolean waitingForSources() {
    synchronized (selecting) {
      return current == null && !unheard.isEmpty();
    }
  }

  private void select() {
    List<ModelCandidate> ranked = new ArrayList<>();
    Set<String> present = new HashSet<>();
    for (List<ModelCandidate> pool : pools.values()) {
      for (ModelCandidate c : pool) {
        present.add(c.identity());
        if (c.problem() == null) {
          ranked.add(c);
        }
      }
    }
    // Forget what no source offers any more, so the sets stay as small as the pools.
    refused.retainAll(present);
    noted.retainAll(present);
    for (List<ModelCandidate> pool : pools.values()) {
      for (ModelCandidate c : pool) {
        if (c.problem() != null && refused.add(c.identity())) {
          refuse(c.source(), c.problem());
        }
      }
    }
    ranked.sort(ModelCandidate.PRECEDENCE.reversed());
    for (ModelCandidate c : ranked) {
      Handle h = current;
      if (h != null && h.version().equals(c.version())) {
        return;
      }
      if (pin != null && !pin.equals(c.version())) {
        note(c, "model.pin is " + pin);
        continue;
      }
      if (h != null && pin == null && !c.newerThan(servingKey(h))) {
        note(c, "it ranks below the serving model " + h.version() + " (pin it to serve it)");
        return;
      }
      if (refused.contains(c.identity())) {
        continue;
      }
      byte[] bytes;
      try {
        bytes = c.loader().bytes();
      } catch (IOException | RuntimeException e) {
        refused.add(c.identity());
        refuse(c.source(), "cannot read it: " + e);
        continue;
      }
      refused.add(c.identity()); // until it proves valid: a listener that throws must not retry it
      Outcome o = load(bytes, c.source());
      if (o != Outcome.REFUSED) {
        refused.remove(c.identity());
        return;
      }
    }
  }

  private void note(ModelCandidate c, String why) {
    if (noted.add(c.identity())) {
      LOG.info(
          "pipeline {}: model {} from {} is valid-looking but not served: {}",
          pipeline,
          SafeText.of(c.version(), 200),
          SafeText.of(c.source(), 300),
          SafeText.of(why, 1000));
    }
  }

  private static ModelCandidate servingKey(Handle h) {
    return new ModelCandidate(null, null, null, h.version(), h.createdAt(), null, null);
  }

  /** Whether {@code c} can never be served while the current model serves (sources drop it). */
  public boolean outranked(ModelCandidate c) {
    Handle h = current;
    return h != null
        && c.problem() == null
        && (pin != null ? !pin.equals(c.version()) : !c.newerThan(servingKey(h)));
  }

  private Outcome load(byte[] onnx, String source) {
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
    if (old != null) {
      old.release();
    }
    listener.swapped(previous, model.version());
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

  /**
   * Registers a model source and returns its health record; a source that is down makes {@link
   * #healthy()} false.
   */
  public SourceHealth source(ModelCandidate.Origin origin, long staleAfterMillis) {
    SourceHealth h = new SourceHealth(origin, staleAfterMillis);
    synchronized (sources) {
      sources.put(origin, h);
    }
    expect(List.of(origin));
    return h;
  }

  /**
   * Announces the sources about to start, before the first of them hands its candidates: the first
   * choice waits for each one's first view (at most {@link #SETTLE_MS}).
   */
  public void expect(List<ModelCandidate.Origin> origins) {
    synchronized (selecting) {
      if (current != null) {
        return;
      }
      if (unheard.isEmpty()) {
        settleUntilNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(SETTLE_MS);
      }
      for (ModelCandidate.Origin o : origins) {
        if (!pools.containsKey(o)) {
          unheard.add(o);
        }
      }
    }
  }

  /** The registered model sources. */
  public List<SourceHealth> sources() {
    synchronized (sources) {
      return List.copyOf(sources.values());
    }
  }

  /** Whether every model source works (readiness: an instance deaf to new models is not ready). */
  public boolean healthy() {
    return healthReason() == null;
  }

  /** Why a model source is down, or null when all work. */
  public String healthReason() {
    for (SourceHealth h : sources()) {
      String r = h.reason();
      if (r != null) {
        return r;
      }
    }
    return null;
  }

  /** The pinned version, or null. */
  public String pin() {
    return pin;
  }

  /**
   * Why a model built for something else does not fit this pipeline, or null if it fits (what
   * {@link #offer} checks after loading; public for tools that check a model without serving it).
   */
  public String mismatch(ModelSpec spec) {
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
    if (spec.outputs() == null) {
      return "the model has "
          + spec.outputSize()
          + " outputs but names no targets and horizons for them; the pipeline forecasts "
          + targets.size() * horizons.size();
    }
    if (!targets.equals(spec.targets())) {
      return "the model forecasts targets "
          + spec.targets()
          + " but the pipeline's targets are "
          + targets;
    }
    if (!horizons.equals(spec.horizons())) {
      return "the model forecasts horizons "
          + spec.horizons()
          + " but the pipeline's are "
          + horizons;
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
    for (SourceHealth s : sources()) {
      s.close();
    }
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
