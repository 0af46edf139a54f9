package io.stepcast.model;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The health of one model source (the directory watcher or the topic follower): whether its last
 * attempt succeeded, when it last did, how many attempts failed, and why the last one did.
 *
 * <p>Why: a source that silently stops following leaves an instance serving an old model forever
 * while it looks healthy. Readiness and the {@code stepcast_model_source_*} metrics read this.
 */
public final class SourceHealth {
  private final ModelCandidate.Origin origin;
  private final long staleAfterMillis;
  private final AtomicLong errors = new AtomicLong();
  private volatile boolean up = true;
  private volatile long lastSuccessMillis;
  private volatile String lastError;
  private volatile boolean closed;

  /**
   * @param staleAfterMillis a source that has not succeeded for this long is down (a wedged thread)
   */
  public SourceHealth(ModelCandidate.Origin origin, long staleAfterMillis) {
    this.origin = origin;
    this.staleAfterMillis = staleAfterMillis;
    this.lastSuccessMillis = System.currentTimeMillis();
  }

  /** Records a successful round (a scan, a poll). */
  public void success() {
    lastSuccessMillis = System.currentTimeMillis();
    up = true;
  }

  /** Records a failed round; returns whether its reason differs from the previous failure's. */
  public boolean failure(Throwable t) {
    errors.incrementAndGet();
    up = false;
    String reason = t.getClass().getSimpleName() + ": " + t.getMessage();
    boolean changed = !reason.equals(lastError);
    lastError = reason;
    return changed;
  }

  /** Marks the source stopped on purpose (closed): no longer reported down. */
  public void close() {
    closed = true;
  }

  public ModelCandidate.Origin origin() {
    return origin;
  }

  /** Whether the source works: its last round succeeded and it is not wedged. */
  public boolean up() {
    return closed || (up && System.currentTimeMillis() - lastSuccessMillis <= staleAfterMillis);
  }

  /** Wall-clock time of the last successful round, epoch milliseconds. */
  public long lastSuccessMillis() {
    return lastSuccessMillis;
  }

  /** Failed rounds so far. */
  public long errors() {
    return errors.get();
  }

  /** Why the source is down, or null when it is up. */
  public String reason() {
    if (up()) {
      return null;
    }
    if (!up) {
      return "model " + origin.id() + " source failing: " + lastError;
    }
    return "model "
        + origin.id()
        + " source has not completed a round for "
        + (System.currentTimeMillis() - lastSuccessMillis) / 1000
        + " s";
  }
}
