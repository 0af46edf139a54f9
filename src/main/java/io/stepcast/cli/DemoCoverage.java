package io.stepcast.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Locale;

/**
 * The demo's check of the prediction intervals, read from the forecast records as a user reads
 * them: each held-out actual against the intervals of the record one event earlier (the forecast it
 * labels), counted once that record says its intervals are warm; and the records flagged as
 * anomalies.
 */
final class DemoCoverage {
  private final List<Double> levels;
  private final long[] inside;
  private long total;
  private long anomalies;
  private long held;

  DemoCoverage(List<Double> levels) {
    this.levels = levels;
    this.inside = new long[levels.size()];
  }

  /**
   * Counts one held-out actual.
   *
   * @param previous the record of the series' previous event (null: none received)
   * @param record the record of this event (null: none received)
   */
  void add(JsonNode previous, double actual, JsonNode record) {
    if (record != null && record.path("anomaly").asBoolean()) {
      anomalies++;
      held += record.path("held").asBoolean() ? 1 : 0;
    }
    JsonNode intervals = previous == null ? null : previous.get("intervals");
    if (intervals == null || intervals.isNull() || !previous.path("intervalsWarm").asBoolean()) {
      return;
    }
    total++;
    for (int i = 0; i < inside.length; i++) {
      JsonNode b = intervals.get(Double.toString(levels.get(i)));
      if (actual >= b.get("lower").asDouble() && actual <= b.get("upper").asDouble()) {
        inside[i]++;
      }
    }
  }

  /** One line: coverage per level over the warm held-out actuals, and the anomalies flagged. */
  String describe() {
    StringBuilder sb = new StringBuilder("prediction intervals on the held-out events (");
    sb.append(total).append(" actuals of warm series):");
    for (int i = 0; i < inside.length; i++) {
      sb.append(
          String.format(
              Locale.ROOT,
              " %.0f%% covered %.1f%%",
              100 * levels.get(i),
              total == 0 ? Double.NaN : 100.0 * inside[i] / total));
      sb.append(i < inside.length - 1 ? "," : ";");
    }
    sb.append(String.format(Locale.ROOT, " %d anomalies (%d held)", anomalies, held));
    return sb.toString();
  }
}
