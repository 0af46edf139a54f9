package io.stepcast.testsupport;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Waits for a condition by polling it, failing with a description after a timeout. */
public final class Await {

  private static final long POLL_MILLIS = 20;

  private Await() {}

  /**
   * Returns as soon as {@code condition} holds; throws an {@link AssertionError} naming {@code
   * what} (evaluated at the timeout) when it still does not after {@code timeout}.
   */
  public static void until(Duration timeout, BooleanSupplier condition, Supplier<String> what) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError("Timed out after " + timeout.toMillis() + " ms: " + what.get());
      }
      try {
        Thread.sleep(POLL_MILLIS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("Interrupted while waiting: " + what.get(), e);
      }
    }
  }
}
