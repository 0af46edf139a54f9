package io.stepcast.testsupport;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
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

  /**
   * Spec overrides (as environment variables) that give a pipeline its own topics and application
   * id, all named after {@code base}. Mutable: add more overrides to it.
   */
  public static Map<String, String> isolatedPipeline(String base, int partitions) {
    Map<String, String> env = new HashMap<>();
    env.put("STEPCAST_APPLICATION_ID", base + "-app");
    env.put("STEPCAST_TOPICS_INPUT", base + "-in");
    env.put("STEPCAST_TOPICS_OUTPUT", base + "-out");
    env.put("STEPCAST_TOPICS_DEAD_LETTER", base + "-dlq");
    env.put("STEPCAST_TOPICS_MODEL", base + "-models");
    env.put("STEPCAST_TOPICS_PARTITIONS", Integer.toString(partitions));
    return env;
  }
}
