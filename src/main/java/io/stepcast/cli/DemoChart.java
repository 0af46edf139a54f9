package io.stepcast.cli;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A self-contained HTML page of forecast-against-actual charts: inline SVG and CSS, no scripts and
 * nothing fetched, so it opens from disk on a machine without a network.
 *
 * <p>Per series, three panels share one legend row above the plot area (never over the data): the
 * overview of every held-out event (actual and model), the rolling mean absolute error of the model
 * and of the baselines it is scored against (persistence and, when the spec has a season,
 * seasonal-naive), which is what the overview cannot show at that density, and a zoom on the last
 * events with every forecast as a line. The y axes carry the target's name and unit.
 */
final class DemoChart {
  private static final int W = 1000;
  private static final int H = 300;
  private static final int H_ERROR = 220;
  private static final int LEFT = 78;
  private static final int RIGHT = 16;
  private static final int TOP = 40;
  private static final int BOTTOM = 30;

  /** Longest series drawn point for point in the zoomed chart. */
  static final int ZOOM_POINTS = 168;

  private static final String ACTUAL = "#222222";
  private static final String MODEL = "#d9480f";
  private static final String PERSISTENCE = "#1c7ed6";
  private static final String SEASONAL = "#2b8a3e";

  private static final DateTimeFormatter DAY =
      DateTimeFormatter.ofPattern("yyyy-MM-dd", Locale.ROOT).withZone(ZoneOffset.UTC);
  private static final DateTimeFormatter HOUR =
      DateTimeFormatter.ofPattern("MM-dd HH:mm", Locale.ROOT).withZone(ZoneOffset.UTC);

  private DemoChart() {}

  /**
   * One series' held-out events: at {@code times[i]} the actual value and the forecasts that were
   * made for it at the previous event, by the model, persistence and seasonal-naive ({@code
   * seasonal} null when the spec has no season; NaN where a forecaster had none).
   *
   * @param axis the y axis title, with the unit, e.g. {@code temperature (°C)}
   * @param season the season length in events (for the seasonal-naive legend), or 0
   */
  record Series(
      String id,
      long[] times,
      double[] actual,
      double[] forecast,
      double[] persistence,
      double[] seasonal,
      int season,
      String axis,
      String caption) {}

  /** One line of a panel. */
  private record Line(String name, String color, double[] values, boolean dashed, double width) {}

  /** The whole page. */
  static String page(String title, String intro, List<Series> series) {
    StringBuilder sb = new StringBuilder(64 * 1024);
    sb.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>")
        .append(esc(title))
        .append("</title>\n<style>\n")
        .append("body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1040px}\n")
        .append("h1{font-size:20px}h2{font-size:16px;margin-top:28px}p{font-size:14px}\n")
        .append("h3{font-size:14px;margin:18px 0 4px;font-weight:600}\n")
        .append(
            "svg{background:#fff;border:1px solid #ddd;display:block;max-width:100%;height:auto}\n")
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
      int n = s.times().length;
      if (n == 0) {
        sb.append("<p>no held-out events</p>\n");
        continue;
      }
      boolean zoom = n > 2 * ZOOM_POINTS;
      // The overview of a long series is too dense for four lines: actual and model there, the
      // baselines in the error panel and the zoom. A short series shows all of them at once.
      List<Line> overview = new ArrayList<>();
      overview.add(new Line("actual", ACTUAL, s.actual(), false, 1.2));
      overview.add(new Line("model (forecast one event earlier)", MODEL, s.forecast(), false, 1.8));
      if (!zoom) {
        overview.addAll(baselines(s));
      }
      sb.append("<h3>all ").append(n).append(" held-out events</h3>\n");
      sb.append(svg(s, 0, n, s.axis(), H, overview, s.id() + ": all held-out events"));
      int window = window(s);
      if (n > window) {
        List<Line> errors = new ArrayList<>();
        errors.add(
            new Line("model", MODEL, rollingMae(s.actual(), s.forecast(), window), false, 1.8));
        for (Line b : baselines(s)) {
          errors.add(
              new Line(b.name(), b.color(), rollingMae(s.actual(), b.values(), window), true, 1.4));
        }
        sb.append("\n<h3>mean absolute error over the last ")
            .append(window)
            .append(" events (rolling)</h3>\n");
        sb.append(
            svg(
                s,
                0,
                n,
                "absolute error, " + unitOf(s.axis()),
                H_ERROR,
                errors,
                s.id() + ": rolling mean absolute error"));
      }
      if (zoom) {
        int from = n - ZOOM_POINTS;
        List<Line> all = new ArrayList<>();
        all.add(new Line("actual", ACTUAL, s.actual(), false, 1.6));
        all.add(new Line("model", MODEL, s.forecast(), false, 2.2));
        all.addAll(baselines(s));
        sb.append("\n<h3>zoom: the last ").append(ZOOM_POINTS).append(" events</h3>\n");
        sb.append(svg(s, from, n, s.axis(), H, all, s.id() + ": the last events"));
      }
      sb.append('\n');
    }
    sb.append("</body></html>\n");
    return sb.toString();
  }

  private static List<Line> baselines(Series s) {
    List<Line> out = new ArrayList<>();
    out.add(new Line("persistence (last value)", PERSISTENCE, s.persistence(), true, 1.1));
    if (s.seasonal() != null) {
      out.add(
          new Line(
              "seasonal-naive (" + s.season() + " events earlier)",
              SEASONAL,
              s.seasonal(),
              true,
              1.1));
    }
    return out;
  }

  /** The rolling window: seven seasons (a week of a daily one), else a quarter of the series. */
  static int window(Series s) {
    int n = s.times().length;
    int w = s.season() > 0 ? Math.min(7 * s.season(), n / 4) : n / 4;
    return Math.max(3, w);
  }

  /**
   * The mean absolute error of {@code forecast} against {@code actual} over the {@code window}
   * events ending at each index (NaN until the window is full; events without a forecast are left
   * out of the mean).
   */
  static double[] rollingMae(double[] actual, double[] forecast, int window) {
    int n = actual.length;
    double[] out = new double[n];
    double sum = 0;
    int count = 0;
    for (int i = 0; i < n; i++) {
      double e = Math.abs(actual[i] - forecast[i]);
      if (Double.isFinite(e)) {
        sum += e;
        count++;
      }
      if (i >= window) {
        double old = Math.abs(actual[i - window] - forecast[i - window]);
        if (Double.isFinite(old)) {
          sum -= old;
          count--;
        }
      }
      out[i] = i >= window - 1 && count > 0 ? sum / count : Double.NaN;
    }
    return out;
  }

  /** The unit in an axis title {@code name (unit)}, or the whole title without one. */
  static String unitOf(String axis) {
    int open = axis.lastIndexOf('(');
    return open >= 0 && axis.endsWith(")") ? axis.substring(open + 1, axis.length() - 1) : axis;
  }

  private static String svg(
      Series s, int from, int to, String axis, int height, List<Line> lines, String title) {
    double lo = Double.POSITIVE_INFINITY;
    double hi = Double.NEGATIVE_INFINITY;
    for (Line l : lines) {
      for (int i = from; i < to; i++) {
        double v = l.values()[i];
        if (Double.isFinite(v)) {
          lo = Math.min(lo, v);
          hi = Math.max(hi, v);
        }
      }
    }
    if (!Double.isFinite(lo)) {
      lo = 0;
      hi = 1;
    }
    if (!(hi > lo)) {
      hi = lo + 1;
    }
    double pad = (hi - lo) * 0.05;
    // An error panel starts at zero rather than below it.
    lo = lo >= 0 && lo - pad < 0 ? 0 : lo - pad;
    hi += pad;
    double step = niceStep((hi - lo) / 4);
    long t0 = s.times()[from];
    long t1 = Math.max(s.times()[to - 1], t0 + 1);
    StringBuilder sb = new StringBuilder();
    sb.append(
        String.format(
            Locale.ROOT,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\""
                + " font-family=\"sans-serif\"><rect width=\"100%%\" height=\"100%%\" fill=\"#fff\"/>",
            W,
            height,
            W,
            height));
    sb.append("<title>").append(esc(title)).append("</title>");
    for (double v = Math.ceil(lo / step) * step; v <= hi; v += step) {
      double y = y(v, lo, hi, height);
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
              label(Math.abs(v) < step / 1e6 ? 0 : v, step)));
    }
    double mid = TOP + (height - TOP - BOTTOM) / 2.0;
    sb.append(
        String.format(
            Locale.ROOT,
            "<text font-size=\"12\" fill=\"#333\" text-anchor=\"middle\" x=\"16\" y=\"%.1f\""
                + " transform=\"rotate(-90 16 %.1f)\">%s</text>",
            mid,
            mid,
            esc(axis)));
    DateTimeFormatter fmt = t1 - t0 < 10L * 86_400_000L ? HOUR : DAY;
    for (int k = 0; k <= 4; k++) {
      long t = t0 + (t1 - t0) * k / 4;
      double x = x(t, t0, t1);
      sb.append(
          String.format(
              Locale.ROOT,
              "<text font-size=\"11\" fill=\"#555\" x=\"%.1f\" y=\"%d\" text-anchor=\"%s\">%s</text>",
              x,
              height - BOTTOM + 16,
              k == 0 ? "start" : k == 4 ? "end" : "middle",
              fmt.format(Instant.ofEpochMilli(t))));
    }
    // The model first, the baselines' dashes over it, the actual on top; the legend in list order.
    for (int rank = 0; rank < 3; rank++) {
      for (Line l : lines) {
        if (drawRank(l) == rank) {
          sb.append(polyline(l, s.times(), from, to, t0, t1, lo, hi, height));
        }
      }
    }
    sb.append(legend(lines));
    sb.append("</svg>");
    return sb.toString();
  }

  /** The legend: one row in the band above the plot area, so it never covers data. */
  private static String legend(List<Line> lines) {
    StringBuilder sb = new StringBuilder();
    int x = LEFT;
    int y = 16;
    for (Line l : lines) {
      sb.append(
          String.format(
              Locale.ROOT,
              "<line stroke=\"%s\" stroke-width=\"2.5\"%s x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>"
                  + "<text font-size=\"12\" fill=\"#222\" x=\"%d\" y=\"%d\">%s</text>",
              l.color(),
              l.dashed() ? " stroke-dasharray=\"6 3\"" : "",
              x,
              y,
              x + 24,
              y,
              x + 30,
              y + 4,
              esc(l.name())));
      x += 30 + 7 * l.name().length() + 24;
    }
    return sb.toString();
  }

  private static String polyline(
      Line l, long[] t, int from, int to, long t0, long t1, double lo, double hi, int height) {
    StringBuilder sb = new StringBuilder();
    String open =
        String.format(
            Locale.ROOT,
            "<polyline fill=\"none\" stroke-width=\"%.1f\"%s stroke=\"%s\" points=\"",
            l.width(),
            l.dashed() ? " stroke-dasharray=\"5 3\"" : "",
            l.color());
    boolean inside = false;
    double[] v = l.values();
    for (int i = from; i < to; i++) {
      if (!Double.isFinite(v[i])) {
        if (inside) {
          sb.append("\"/>");
          inside = false;
        }
        continue;
      }
      if (!inside) {
        sb.append(open);
        inside = true;
      } else {
        sb.append(' ');
      }
      sb.append(String.format(Locale.ROOT, "%.1f,%.1f", x(t[i], t0, t1), y(v[i], lo, hi, height)));
    }
    if (inside) {
      sb.append("\"/>");
    }
    return sb.toString();
  }

  private static double x(long t, long t0, long t1) {
    return LEFT + (W - LEFT - RIGHT) * (double) (t - t0) / (t1 - t0);
  }

  private static double y(double v, double lo, double hi, int height) {
    return TOP + (height - TOP - BOTTOM) * (1 - (v - lo) / (hi - lo));
  }

  private static int drawRank(Line l) {
    return l.color().equals(MODEL) ? 0 : l.color().equals(ACTUAL) ? 2 : 1;
  }

  /** A round tick step (1, 2 or 5 times a power of ten) near {@code raw}. */
  static double niceStep(double raw) {
    double p = Math.pow(10, Math.floor(Math.log10(raw)));
    double f = raw / p;
    return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * p;
  }

  private static String label(double v, double step) {
    int decimals = Math.max(0, (int) -Math.floor(Math.log10(step) + 1e-9));
    return String.format(Locale.ROOT, "%." + decimals + "f", v);
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
