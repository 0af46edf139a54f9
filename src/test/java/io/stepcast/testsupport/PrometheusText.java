package io.stepcast.testsupport;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * A small reader of the Prometheus text exposition format (version 0.0.4), enough for tests to ask
 * for samples by name and labels. Syntax is checked by {@link Promtool}, not here.
 */
public final class PrometheusText {

  /** One sample line: metric name, labels, value. */
  public record Sample(String name, Map<String, String> labels, double value) {
    /** Whether every given label has the given value. */
    public boolean has(Map<String, String> wanted) {
      return wanted.entrySet().stream().allMatch(e -> e.getValue().equals(labels.get(e.getKey())));
    }
  }

  private final String text;
  private final List<Sample> samples;
  private final Map<String, String> types = new LinkedHashMap<>();
  private final Map<String, String> help = new LinkedHashMap<>();

  private PrometheusText(String text) {
    this.text = text;
    this.samples = new ArrayList<>();
    for (String line : text.split("\n")) {
      if (line.isBlank()) {
        continue;
      }
      if (line.startsWith("# TYPE ")) {
        String[] p = line.substring(7).split(" ", 2);
        types.put(p[0], p[1]);
      } else if (line.startsWith("# HELP ")) {
        String[] p = line.substring(7).split(" ", 2);
        help.put(p[0], p.length > 1 ? p[1] : "");
      } else if (!line.startsWith("#")) {
        samples.add(sample(line));
      }
    }
  }

  /** Parses a scrape. */
  public static PrometheusText parse(String text) {
    return new PrometheusText(text);
  }

  private static Sample sample(String line) {
    int brace = line.indexOf('{');
    int space;
    String name;
    Map<String, String> labels = new LinkedHashMap<>();
    if (brace >= 0 && brace < line.indexOf(' ')) {
      name = line.substring(0, brace);
      int i = brace + 1;
      while (line.charAt(i) != '}') {
        int eq = line.indexOf('=', i);
        String key = line.substring(i, eq).trim();
        StringBuilder value = new StringBuilder();
        int j = eq + 2; // skip ="
        while (line.charAt(j) != '"') {
          char c = line.charAt(j);
          if (c == '\\') {
            char n = line.charAt(++j);
            value.append(n == 'n' ? '\n' : n);
          } else {
            value.append(c);
          }
          j++;
        }
        labels.put(key, value.toString());
        i = j + 1;
        if (line.charAt(i) == ',') {
          i++;
        }
      }
      space = i + 1;
    } else {
      space = line.indexOf(' ');
      name = line.substring(0, space);
    }
    String[] rest = line.substring(space).trim().split(" ");
    return new Sample(name, labels, parseValue(rest[0]));
  }

  private static double parseValue(String v) {
    return switch (v) {
      case "+Inf" -> Double.POSITIVE_INFINITY;
      case "-Inf" -> Double.NEGATIVE_INFINITY;
      case "NaN" -> Double.NaN;
      default -> Double.parseDouble(v);
    };
  }

  /** The scraped text as is. */
  public String text() {
    return text;
  }

  /** Every sample. */
  public List<Sample> samples() {
    return samples;
  }

  /** The samples of a metric name (a histogram's {@code _bucket} series is its own name). */
  public List<Sample> samples(String name) {
    return samples.stream().filter(s -> s.name().equals(name)).toList();
  }

  /** The samples of a name that carry all the given labels. */
  public List<Sample> samples(String name, Map<String, String> labels) {
    return samples.stream().filter(s -> s.name().equals(name) && s.has(labels)).toList();
  }

  /** The single sample of a name with these labels; fails when there is none or more than one. */
  public double value(String name, Map<String, String> labels) {
    List<Sample> found = samples(name, labels);
    if (found.size() != 1) {
      throw new AssertionError(
          "expected one sample " + name + labels + ", found " + found.size() + ": " + found);
    }
    return found.get(0).value();
  }

  /** The sum of the samples of a name that carry these labels (0 when there are none). */
  public double sum(String name, Map<String, String> labels) {
    return samples(name, labels).stream().mapToDouble(Sample::value).sum();
  }

  /** Whether some sample's name matches. */
  public boolean hasName(Predicate<String> name) {
    return samples.stream().anyMatch(s -> name.test(s.name()));
  }

  /** The {@code # TYPE} of each metric family. */
  public Map<String, String> types() {
    return types;
  }

  /** The {@code # HELP} of each metric family. */
  public Map<String, String> help() {
    return help;
  }
}
