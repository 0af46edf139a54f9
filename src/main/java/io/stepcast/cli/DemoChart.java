package io.stepcast.cli;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;

/**
 * A self-contained HTML page of forecast-against-actual charts: inline SVG and CSS, no scripts and
 * nothing fetched, so it opens from disk on a machine without a network.
 */
final class DemoChart {
  private static final int W = 1000;
  private static final int H = 300;
  private static final int LEFT = 64;
  private static final int RIGHT = 16;
  private static final int TOP = 16;
  private static final int BOTTOM = 36;

  /** Longest series drawn point for point in the zoomed chart. */
  static final int ZOOM_POINTS = 168;

  private static final DateTimeFormatter DAY =
      DateTimeFormatter.ofPattern("yyyy-MM-dd", Locale.ROOT).withZone(ZoneOffset.UTC);
  private static final DateTimeFormatter HOUR =
      DateTimeFormatter.ofPattern("MM-dd HH:mm", Locale.ROOT).withZone(ZoneOffset.UTC);

  private DemoChart() {}

  /**
   * One series' held-out events: at {@code times[i]} the actual value and the forecast that was
   * made for it at the previous event.
   */
  record Series(String id, long[] times, double[] actual, double[] forecast, String caption) {}

  /** The whole page. */
  static String page(String title, String intro, List<Series> series) {
    StringBuilder sb = new StringBuilder(64 * 1024);
    sb.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>")
        .append(esc(title))
        .append("</title>\n<style>\n")
        .append("body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1040px}\n")
        .append("h1{font-size:20px}h2{font-size:16px;margin-top:28px}p{font-size:14px}\n")
        .append("svg{background:#fff;border:1px solid #ddd}\n")
        .append("</style></head><body>\n<h1>")
        .append(esc(title))
        .append("</h1>\n<p>")
        .append(esc(intro))
        .append("</p>\n");
    for (Series s : series) {
      sb.append("<h2>")
          .append(esc(s.id()))
          .append("</h2>\n<p>")
          .append(esc(s.caption()))
          .append("</p>\n");
      sb.append(svg(s, 0, s.times().length, "all " + s.times().length + " held-out events"));
      if (s.times().length > 2 * ZOOM_POINTS) {
        int from = s.times().length - ZOOM_POINTS;
        sb.append("\n")
            .append(svg(s, from, s.times().length, "the last " + ZOOM_POINTS + " events"));
      }
      sb.append('\n');
    }
    sb.append("</body></html>\n");
    return sb.toString();
  }

  private static String svg(Series s, int from, int to, String what) {
    double lo = Double.POSITIVE_INFINITY;
    double hi = Double.NEGATIVE_INFINITY;
    for (int i = from; i < to; i++) {
      for (double v : new double[] {s.actual()[i], s.forecast()[i]}) {
        if (Double.isFinite(v)) {
          lo = Math.min(lo, v);
          hi = Math.max(hi, v);
        }
      }
    }
    if (!(hi > lo)) {
      hi = lo + 1;
    }
    double pad = (hi - lo) * 0.05;
    lo -= pad;
    hi += pad;
    long t0 = s.times()[from];
    long t1 = Math.max(s.times()[to - 1], t0 + 1);
    StringBuilder sb = new StringBuilder();
    sb.append(
        String.format(
            Locale.ROOT,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\""
                + " font-family=\"sans-serif\"><rect width=\"100%%\" height=\"100%%\" fill=\"#fff\"/>",
            W,
            H,
            W,
            H));
    sb.append("<title>").append(esc(s.id() + ": " + what)).append("</title>");
    for (int k = 0; k <= 4; k++) {
      double v = lo + (hi - lo) * k / 4;
      double y = y(v, lo, hi);
      sb.append(
          String.format(
              Locale.ROOT,
              "<line stroke=\"#e5e5e5\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>"
                  + "<text font-size=\"11\" fill=\"#555\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>",
              LEFT,
              y,
              W - RIGHT,
              y,
              LEFT - 6,
              y + 4,
              label(v, hi - lo)));
    }
    DateTimeFormatter fmt = t1 - t0 < 10L * 86_400_000L ? HOUR : DAY;
    for (int k = 0; k <= 4; k++) {
      long t = t0 + (t1 - t0) * k / 4;
      double x = x(t, t0, t1);
      sb.append(
          String.format(
              Locale.ROOT,
              "<text font-size=\"11\" fill=\"#555\" x=\"%.1f\" y=\"%d\" text-anchor=\"%s\">%s</text>",
              x,
              H - BOTTOM + 16,
              k == 0 ? "start" : k == 4 ? "end" : "middle",
              fmt.format(Instant.ofEpochMilli(t))));
    }
    sb.append(polyline("#222222", s.times(), s.actual(), from, to, t0, t1, lo, hi));
    sb.append(polyline("#d9480f", s.times(), s.forecast(), from, to, t0, t1, lo, hi));
    sb.append(
        String.format(
            Locale.ROOT,
            "<text font-size=\"12\" fill=\"#222\" x=\"%d\" y=\"%d\">%s</text>"
                + "<line stroke=\"#222\" stroke-width=\"2\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>"
                + "<text font-size=\"12\" fill=\"#222\" x=\"%d\" y=\"%d\">actual</text>"
                + "<line stroke=\"#d9480f\" stroke-width=\"2\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>"
                + "<text font-size=\"12\" fill=\"#222\" x=\"%d\" y=\"%d\">forecast (made one event earlier)</text>",
            LEFT + 8,
            TOP + 12,
            esc(what),
            W - 400,
            TOP + 8,
            W - 370,
            TOP + 8,
            W - 365,
            TOP + 12,
            W - 300,
            TOP + 8,
            W - 270,
            TOP + 8,
            W - 265,
            TOP + 12));
    sb.append("</svg>");
    return sb.toString();
  }

  private static String polyline(
      String color,
      long[] t,
      double[] v,
      int from,
      int to,
      long t0,
      long t1,
      double lo,
      double hi) {
    StringBuilder sb = new StringBuilder();
    boolean open = false;
    for (int i = from; i < to; i++) {
      if (!Double.isFinite(v[i])) {
        if (open) {
          sb.append("\"/>");
          open = false;
        }
        continue;
      }
      if (!open) {
        sb.append("<polyline fill=\"none\" stroke-width=\"1.2\" stroke=\"")
            .append(color)
            .append("\" points=\"");
        open = true;
      } else {
        sb.append(' ');
      }
      sb.append(String.format(Locale.ROOT, "%.1f,%.1f", x(t[i], t0, t1), y(v[i], lo, hi)));
    }
    if (open) {
      sb.append("\"/>");
    }
    return sb.toString();
  }

  private static double x(long t, long t0, long t1) {
    return LEFT + (W - LEFT - RIGHT) * (double) (t - t0) / (t1 - t0);
  }

  private static double y(double v, double lo, double hi) {
    return TOP + (H - TOP - BOTTOM) * (1 - (v - lo) / (hi - lo));
  }

  private static String label(double v, double range) {
    return String.format(Locale.ROOT, range < 1 ? "%.3f" : range < 20 ? "%.2f" : "%.1f", v);
  }

  static String esc(String s) {
    StringBuilder sb = new StringBuilder(s.length());
    for (char c : s.toCharArray()) {
      switch (c) {
        case '&' -> sb.append("&amp;");
        case '<' -> sb.append("&lt;");
        case '>' -> sb.append("&gt;");
        case '"' -> sb.append("&quot;");
        default -> sb.append(c);
      }
    }
    return sb.toString();
  }
}
