package io.stepcast.train;

import io.stepcast.config.SpecLoader;
import io.stepcast.config.TopologySpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * Synthetic hourly history for training tests: a daily cycle with noise per series, a slowly
 * varying input field with a few blanks (carried forward), and a spec that reads it.
 */
public final class SyntheticHistory {
  private SyntheticHistory() {}

  /** A spec for the synthetic CSV; {@code env} overrides fields as environment variables would. */
  public static TopologySpec spec(Path dir, Map<String, String> env) throws IOException {
    return SpecLoader.load(specFile(dir, ""), env);
  }

  /** Writes the spec to {@code dir/synth.yaml} with extra top-level YAML (e.g. a topics line). */
  public static Path specFile(Path dir, String extra) throws IOException {
    Path file = dir.resolve("synth.yaml");
    Files.writeString(
        file,
        String.join(
            "\n",
            "name: synth",
            extra,
            "seriesId: {from: field, field: site}",
            "timestamp: {field: time, format: iso, zone: UTC}",
            "features:",
            "  - field: load",
            "  - calendar: hour_of_day",
            "target: {field: level, transform: none, season: 24}",
            "model: {directory: " + dir.resolve("models") + ", ringBuffer: 24}",
            "policies: {missing: carry_forward}",
            "training: {cell: gru, layers: 1, hiddenSize: 16, learningRate: 0.01, maxEpochs: 25,"
                + " chunkLength: 48, patience: 6, validationFraction: 0.2, burnIn: 12, seed: 7}",
            "csv: {keyColumn: site}",
            ""));
    return file;
  }

  /**
   * CSV text: {@code sites} series of {@code hours} hourly rows each, level = a daily sine with a
   * per-site phase and amplitude plus noise; every 50th load cell is blank.
   */
  public static String csv(int sites, int hours, long seed) {
    Random r = new Random(seed);
    StringBuilder sb = new StringBuilder("site,time,load,level\n");
    LocalDateTime start = LocalDateTime.of(2024, 1, 1, 0, 0);
    for (int s = 0; s < sites; s++) {
      double phase = 0.7 * s;
      double amplitude = 5 + 2 * s;
      for (int h = 0; h < hours; h++) {
        double level =
            20 + amplitude * Math.sin(2 * Math.PI * h / 24.0 + phase) + 0.2 * r.nextGaussian();
        double load = 1 + 0.5 * Math.cos(2 * Math.PI * h / 168.0) + 0.05 * r.nextGaussian();
        sb.append("site-")
            .append(s)
            .append(',')
            .append(start.plusHours(h))
            .append(':')
            .append("00")
            .append(',')
            .append(h % 50 == 7 ? "" : String.format(Locale.ROOT, "%.3f", load))
            .append(',')
            .append(String.format(Locale.ROOT, "%.3f", level))
            .append('\n');
      }
    }
    return sb.toString();
  }
}
