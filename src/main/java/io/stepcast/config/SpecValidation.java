package io.stepcast.config;

import io.stepcast.config.TopologySpec.Feature;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Validation of a bound spec: each setting against its declared validator ({@link SpecSettings}),
 * then the rules that relate settings to each other. Every error names the file (and the
 * environment variable, when one set the value), the field and the fix.
 */
public final class SpecValidation {
  /** The widest network an ensemble may export: training.hiddenSize's own upper bound. */
  static final int MAX_EXPORTED_WIDTH = 4096;

  private SpecValidation() {}

  static void validate(String src, Map<String, String> env, TopologySpec s) {
    for (Setting setting : SpecSettings.SPEC) {
      Object value = setting.valueIn(s);
      if (value == null) {
        if (setting.required()) {
          throw error(
              src,
              env,
              setting.path(),
              "is missing",
              "set " + setting.path() + " (" + setting.doc() + ")");
        }
        continue;
      }
      Validator.Problem p = setting.validator().check(value);
      if (p != null) {
        throw error(src, env, setting.path(), p.problem(), p.fix());
      }
    }
    crossField(src, env, s);
  }

  /**
   * The first problem of one section record (e.g. a {@code TopologySpec.Training} built in code)
   * against the declared validators, as {@code training.field=value: problem}.
   *
   * @param section the section's path, e.g. {@code training}
   */
  public static Optional<String> firstProblem(String section, Object record) {
    for (Setting setting : SpecSettings.section(section)) {
      Object value = setting.valueInSection(record);
      if (value == null) {
        if (setting.required()) {
          return Optional.of(setting.path() + " is missing");
        }
        continue;
      }
      Validator.Problem p = setting.validator().check(value);
      if (p != null) {
        return Optional.of(setting.path() + "=" + value + ": " + p.problem());
      }
    }
    return Optional.empty();
  }

  /** An error at {@code field}, naming the environment variable when one set it. */
  static ConfigException error(
      String source, Map<String, String> fromEnv, String field, String problem, String fix) {
    String env = fromEnv.get(field);
    String where =
        env == null ? source : source + " (overridden by environment variable " + env + ")";
    return new ConfigException(where, field, problem, fix);
  }

  private static void crossField(String src, Map<String, String> env, TopologySpec s) {
    var t = s.topics();
    Set<String> distinct = new HashSet<>(List.of(t.input(), t.output(), t.deadLetter(), t.model()));
    if (distinct.size() != 4) {
      throw error(
          src,
          env,
          "topics",
          "input, output, deadLetter and model name the same topic",
          "give each its own topic name");
    }
    if (s.seriesId().from() == TopologySpec.SeriesIdSource.FIELD && blank(s.seriesId().field())) {
      throw error(
          src,
          env,
          "seriesId.field",
          "is missing while seriesId.from is field",
          "name the JSON field that holds the series id, e.g. seriesId.field: symbol");
    }
    var p = s.processing();
    if (p.rocksdbMemoryMb() > 0 && p.rocksdbWriteBufferMb() >= p.rocksdbMemoryMb()) {
      throw error(
          src,
          env,
          "processing.rocksdbWriteBufferMb",
          "must be less than processing.rocksdbMemoryMb (" + p.rocksdbMemoryMb() + ")",
          "set e.g. half of it");
    }
    var ts = s.timestamp();
    if (ts.format() == TopologySpec.TimestampFormat.PATTERN && blank(ts.pattern())) {
      throw error(
          src,
          env,
          "timestamp.pattern",
          "is missing while timestamp.format is pattern",
          "give a java.time pattern, e.g. timestamp.pattern: 'MMM d yyyy'");
    }
    if (!ts.holidays().isEmpty() && ts.calendar() != TopologySpec.TimeCalendar.BUSINESS_DAYS) {
      String calendar = ts.calendar().name().toLowerCase(Locale.ROOT);
      // Blame the value an environment variable changed, when only one of the two came from one.
      boolean calendarFromEnv =
          env.containsKey("timestamp.calendar") && !env.containsKey("timestamp.holidays");
      throw error(
          src,
          env,
          calendarFromEnv ? "timestamp.calendar" : "timestamp.holidays",
          calendarFromEnv
              ? "is " + calendar + ", which has no days off, but timestamp.holidays lists some"
              : "lists "
                  + ts.holidays().size()
                  + " date(s) but timestamp.calendar is "
                  + calendar
                  + ", which has no days off",
          "set timestamp.calendar: business_days, or remove timestamp.holidays");
    }
    var tr = s.training();
    if (tr.validationFraction() + tr.testFraction() >= 0.9) {
      throw error(
          src,
          env,
          "training.testFraction",
          "is "
              + tr.testFraction()
              + ": with validationFraction "
              + tr.validationFraction()
              + " less than 10% of every series is left to train on",
          "lower training.testFraction or training.validationFraction (e.g. 0.1 and 0.2)");
    }
    if ((long) tr.ensemble() * tr.hiddenSize() > MAX_EXPORTED_WIDTH) {
      throw error(
          src,
          env,
          "training.ensemble",
          "is "
              + tr.ensemble()
              + ": "
              + tr.ensemble()
              + " networks of hiddenSize "
              + tr.hiddenSize()
              + " export as one of "
              + (long) tr.ensemble() * tr.hiddenSize()
              + " units per layer, more than "
              + MAX_EXPORTED_WIDTH,
          "lower training.ensemble or training.hiddenSize (their product at most "
              + MAX_EXPORTED_WIDTH
              + ")");
    }
    Set<String> alsoFields = alsoTargets(src, env, s);
    List<Feature> features = s.features();
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < features.size(); i++) {
      Feature f = features.get(i);
      String at = "features[" + i + "]";
      int kinds =
          f == null
              ? 0
              : (f.field() != null ? 1 : 0)
                  + (f.calendar() != null ? 1 : 0)
                  + (Boolean.TRUE.equals(f.timeSincePrevious()) ? 1 : 0)
                  + (f.lag() != null ? 1 : 0);
      if (kinds != 1) {
        throw error(
            src,
            env,
            at,
            "must have exactly one of field, calendar, timeSincePrevious: true, lag",
            "write e.g. '- field: pressure', '- calendar: hour_of_day' or '- lag: 24'");
      }
      if (f.lag() != null) {
        requireLag(src, env, at + ".lag", f.lag(), s.model().ringBuffer());
      }
      String key =
          f.field() != null
              ? "field:" + f.field()
              : f.calendar() != null
                  ? "calendar:" + f.calendar()
                  : f.lag() != null ? "lag:" + f.lag() : "dt";
      if (f.field() != null
          && f.field().equals(s.target().field())
          && s.target().transform() == TopologySpec.TargetTransform.NONE) {
        throw error(
            src,
            env,
            at + ".field",
            "'" + f.field() + "' is the target, which is always an input",
            "remove this feature");
      }
      if (f.field() != null && alsoFields.contains(f.field())) {
        throw error(
            src,
            env,
            at + ".field",
            "'" + f.field() + "' is a target (target.also), which is always an input",
            "remove this feature");
      }
      if (!seen.add(key)) {
        throw error(src, env, at, "repeats an earlier feature", "remove the duplicate");
      }
      if (f.field() == null && (f.min() != null || f.max() != null)) {
        throw error(
            src,
            env,
            at,
            "has min or max, but only a numeric field feature has a value range",
            "remove min and max from this feature");
      }
      requireRange(src, env, at, f.min(), f.max());
    }
    requireRange(src, env, "target", s.target().min(), s.target().max());
  }

  /**
   * A lag reads the series' row kept {@code lag - 1} events back in the recent-inputs store, so the
   * store must keep at least that many rows; lag 1 would be the event itself (persistence).
   */
  private static void requireLag(
      String src, Map<String, String> env, String at, int lag, int ringBuffer) {
    if (lag < 2 || lag > 4096) {
      throw error(
          src,
          env,
          at,
          "is " + lag + "; a lag counts events back from the forecast one and must be 2..4096",
          "use the season length in events, e.g. lag: 24 for hourly data with a daily cycle");
    }
    if (ringBuffer < lag) {
      throw error(
          src,
          env,
          "model.ringBuffer",
          "is "
              + ringBuffer
              + ", fewer rows than "
              + at
              + " "
              + lag
              + " needs (the lag reads the row kept that many events back)",
          "set model.ringBuffer: " + lag + " or more");
    }
  }

  /** Checks {@code target.also} and the number of outputs; returns the further targets' fields. */
  private static Set<String> alsoTargets(String src, Map<String, String> env, TopologySpec s) {
    Set<String> fields = new HashSet<>();
    List<TopologySpec.AlsoTarget> also = s.target().also();
    for (int i = 0; i < also.size(); i++) {
      TopologySpec.AlsoTarget a = also.get(i);
      String at = "target.also[" + i + "]";
      if (a == null || blank(a.field())) {
        throw error(
            src, env, at + ".field", "is missing", "name the numeric field, e.g. '- field: wind'");
      }
      if (a.field().equals(s.target().field())
          || a.field().equals(s.timestamp().field())
          || !fields.add(a.field())) {
        throw error(
            src,
            env,
            at + ".field",
            "'" + a.field() + "' is already the target, the timestamp or an earlier target",
            "name each further target once, and not target.field");
      }
      requireRange(src, env, at, a.min(), a.max());
    }
    int outputs = (1 + also.size()) * s.target().horizons().size();
    if (outputs > SpecSettings.MAX_OUTPUTS) {
      throw error(
          src,
          env,
          "target.horizons",
          (1 + also.size())
              + " targets x "
              + s.target().horizons().size()
              + " horizons are "
              + outputs
              + " outputs, more than "
              + SpecSettings.MAX_OUTPUTS,
          "forecast fewer targets or horizons");
    }
    return fields;
  }

  private static void requireRange(
      String src, Map<String, String> env, String at, Double min, Double max) {
    for (Double v : new Double[] {min, max}) {
      if (v != null && !Double.isFinite(v)) {
        throw error(src, env, at, "has a min or max that is not finite", "give finite bounds");
      }
    }
    if (min != null && max != null && !(min < max)) {
      throw error(
          src,
          env,
          at + ".min",
          "min " + min + " is not below max " + max,
          "give min < max, or leave one of them out");
    }
  }

  private static boolean blank(String s) {
    return s == null || s.isBlank();
  }
}
