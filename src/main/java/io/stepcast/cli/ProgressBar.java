package io.stepcast.cli;

import java.io.PrintStream;

/** A one-line progress bar on a terminal's error stream, redrawn in place. */
final class ProgressBar {
  private static final int WIDTH = 30;
  private final PrintStream out;
  private final String label;
  private final long startNanos = System.nanoTime();
  private final boolean interactive = System.console() != null;
  private long lastPrinted = -1;

  ProgressBar(PrintStream out, String label) {
    this.out = out;
    this.label = label;
  }

  /** Shows {@code done} of {@code total} (total <= 0: unknown) with an optional suffix. */
  synchronized void update(long done, long total, String suffix) {
    long now = System.nanoTime();
    if (!interactive && lastPrinted >= 0 && now - lastPrinted < 2_000_000_000L && done < total) {
      return;
    }
    lastPrinted = now;
    double secs = (now - startNanos) / 1e9;
    StringBuilder sb = new StringBuilder();
    sb.append(interactive ? '\r' : ' ').append(label).append(' ');
    if (total > 0) {
      int filled = (int) Math.min(WIDTH, WIDTH * done / total);
      sb.append('[').append("#".repeat(filled)).append(".".repeat(WIDTH - filled)).append("] ");
      sb.append(done).append('/').append(total);
    } else {
      sb.append(done);
    }
    sb.append(String.format(" %.1fs", secs));
    if (suffix != null && !suffix.isEmpty()) {
      sb.append(' ').append(suffix);
    }
    if (interactive) {
      out.print(sb);
    } else {
      out.println(sb.toString().trim());
    }
    out.flush();
  }

  /** Ends the line. */
  void done() {
    if (interactive) {
      out.println();
    }
  }
}
