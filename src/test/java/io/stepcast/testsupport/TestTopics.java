package io.stepcast.testsupport;

import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Unique names for topics and application ids, so that tests sharing one broker never see each
 * other's records or consumer groups.
 */
public final class TestTopics {

  private static final AtomicInteger COUNTER = new AtomicInteger();
  private static final String RUN = Long.toString(System.nanoTime() & 0xffffff, 36);

  private TestTopics() {}

  /** {@code base} plus a suffix unique within this JVM and unlikely to repeat across runs. */
  public static String unique(String base) {
    String safe = base.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9._-]", "-");
    return safe + "-" + RUN + "-" + COUNTER.incrementAndGet();
  }
}
