package io.stepcast.train;

import io.stepcast.config.TopologySpec;
import io.stepcast.config.TopologySpec.MissingPolicy;
import io.stepcast.config.TopologySpec.SeriesIdSource;
import io.stepcast.features.Event;
import io.stepcast.features.EventParser;
import io.stepcast.features.FeaturePipeline;
import io.stepcast.features.ParseResult;
import io.stepcast.features.Rejection;
import io.stepcast.features.SeriesReplay;
import io.stepcast.kafka.Csv;
import io.stepcast.kafka.CsvReplay;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * History turned into training series exactly the way the server turns a stream into forecasts.
 *
 * <p>Every record, whether a CSV row or a record of the input topic, goes through the server's
 * {@link EventParser} as key and JSON value bytes (a CSV row becomes the JSON object {@code
 * stepcast replay} would send). The events of each series are put in time order; an event at the
 * same time as the series' previous one is dropped (the server dead-letters it as a duplicate) and
 * counted; an event that arrived after a later one is counted as late and sorted into place.
 * Missing input values are carried forward per the spec's policy with the server's own code, and an
 * event whose missing value has nothing to carry forward is dropped, as the server drops it.
 * Finally {@link SeriesReplay#rows} computes the feature rows and labels.
 *
 * <p>A CSV source fails on the first bad record with an error naming the file, the row and the
 * column: training on silently mangled history is worse than not training. The one exception is a
 * missing value (an empty cell) under {@code policies.missing: reject}: a running instance
 * dead-letters such an event and carries on, so the trainer drops the row, counts it ({@code
 * missing_field} in {@link Counts#rejected()}) and carries on too. A topic source counts every
 * rejected record by reason (the server has already dead-lettered them).
 */
public final class TrainingData {

  /** One record as it reached (or would reach) the input topic. */
  public record RawRecord(byte[] key, byte[] value) {}

  /**
   * One series, ready for the trainer.
   *
   * @param id the series id
   * @param events the kept events, time-ordered, missing inputs carried forward
   * @param records the raw records of the kept events, in the same order (what a replay sends)
   * @param rows the feature rows and labels ({@code events.size() - 1} of them)
   */
  public record Series(
      String id, List<Event> events, List<RawRecord> records, SeriesReplay.Rows rows) {

    /** Number of events. */
    public int length() {
      return events.size();
    }

    /** The trainer's view: rows and labels. */
    public SeriesData toSeriesData() {
      return new SeriesData(id, rows.x(), rows.y());
    }
  }

  /**
   * What happened to the records read.
   *
   * @param records records read
   * @param rejected records the parser rejected, by reason (from a CSV only {@code missing_field}:
   *     any other rejection fails the file)
   * @param skipped records skipped under the {@code skip} missing-value policy, or with a missing
   *     target under {@code carry_forward}
   * @param duplicates events dropped because their series already had an event at that time
   * @param late events that arrived after a later event of their series (kept, sorted into place;
   *     the server would dead-letter them)
   * @param unfillable events dropped because a missing input had no earlier value to carry forward
   * @param firstRejections the first few rejection messages, for the report
   */
  public record Counts(
      long records,
      Map<Rejection, Long> rejected,
      long skipped,
      long duplicates,
      long late,
      long unfillable,
      List<String> firstRejections) {

    /** Total rejected records. */
    public long rejectedTotal() {
      return rejected.values().stream().mapToLong(Long::longValue).sum();
    }
  }

  private static final Pattern QUOTED_FIELD = Pattern.compile("field '([^']*)'");
  private static final int MAX_REJECTION_SAMPLES = 5;

  private final String source;
  private final List<Series> series;
  private final Counts counts;

  private TrainingData(String source, List<Series> series, Counts counts) {
    this.source = source;
    this.series = List.copyOf(series);
    this.counts = counts;
  }

  /** Where the data came from (a file, or a topic). */
  public String source() {
    return source;
  }

  /** The series, in order of first appearance. */
  public List<Series> series() {
    return series;
  }

  /** What happened to the records read. */
  public Counts counts() {
    return counts;
  }

  /** Total number of kept events. */
  public long events() {
    return series.stream().mapToLong(Series::length).sum();
  }

  /** The trainer's view of every series. */
  public List<SeriesData> seriesData() {
    List<SeriesData> out = new ArrayList<>(series.size());
    for (Series s : series) {
      out.add(s.toSeriesData());
    }
    return out;
  }

  /**
   * The first {@code fraction} of every series' events (at least one), with rows recomputed: what a
   * model trained before the rest arrived would have seen. Counts are carried over unchanged.
   */
  public TrainingData head(double fraction, FeaturePipeline pipeline) {
    if (!(fraction > 0 && fraction <= 1)) {
      throw new IllegalArgumentException("fraction must be in (0, 1], got " + fraction);
    }
    int[] lengths = new int[series.size()];
    for (int i = 0; i < lengths.length; i++) {
      lengths[i] = Math.max(1, (int) Math.floor(series.get(i).length() * fraction));
    }
    return head(lengths, "first " + Math.round(fraction * 100) + "%", pipeline);
  }

  /**
   * The first {@code lengths[i]} events of series {@code i} (between 1 and its length), with rows
   * recomputed from those events only; {@code label} describes the cut in {@link #source()}. Counts
   * are carried over unchanged.
   */
  public TrainingData head(int[] lengths, String label, FeaturePipeline pipeline) {
    if (lengths.length != series.size()) {
      throw new IllegalArgumentException(
          lengths.length + " lengths for " + series.size() + " series");
    }
    List<Series> out = new ArrayList<>(series.size());
    for (int i = 0; i < lengths.length; i++) {
      Series s = series.get(i);
      int n = lengths[i];
      if (n < 1 || n > s.length()) {
        throw new IllegalArgumentException(
            "series '" + s.id() + "' has " + s.length() + " events, cannot keep " + n);
      }
      List<Event> events = s.events().subList(0, n);
      out.add(
          new Series(
              s.id(), events, s.records().subList(0, n), SeriesReplay.rows(pipeline, events)));
    }
    return new TrainingData(source + " (" + label + ")", out, counts);
  }

  /**
   * Reads a CSV file with a header row. Each row becomes the JSON event {@code stepcast replay}
   * sends (numbers as JSON numbers, other text as strings, empty cells left out), keyed by the
   * spec's {@code csv.keyColumn} or {@code csv.key} (or {@code seriesId.field}).
   *
   * @throws Csv.FormatException naming the file, row and column of the first bad record, or when
   *     the file is empty or lacks a column the spec needs
   */
  public static TrainingData fromCsv(TopologySpec spec, Path file) throws IOException {
    Csv csv = Csv.read(file);
    return fromCsv(spec, csv);
  }

  /** As {@link #fromCsv(TopologySpec, Path)} for CSV already read. */
  public static TrainingData fromCsv(TopologySpec spec, Csv csv) {
    String src = csv.source();
    List<String> header = csv.header();
    int keyIndex = keyColumnIndex(spec, csv);
    String constantKey = keyIndex < 0 ? spec.csv().key() : null;
    for (String needed : neededColumns(spec)) {
      if (!csv.hasColumn(needed)) {
        throw new Csv.FormatException(
            src,
            1,
            header.size() + 1,
            "no column '" + needed + "', which the topology spec reads; the header has " + header);
      }
    }
    if (csv.rows().isEmpty()) {
      throw new Csv.FormatException(src, 2, 1, "the file has a header but no data rows");
    }
    Collector collector = new Collector(spec);
    List<String> numeric = new ArrayList<>(FeaturePipeline.inputFields(spec));
    numeric.add(spec.target().field());
    for (Csv.Row row : csv.rows()) {
      // A text cell in a numeric column would be rejected by the parser too; naming the cell here
      // gives the person fixing the file its exact position and content.
      for (String column : numeric) {
        String cell = row.get(column);
        if (!cell.isBlank() && Csv.parseNumber(cell).isEmpty()) {
          throw row.error(csv.columnIndex(column), "'" + cell + "' is not a number");
        }
      }
      String key = keyIndex < 0 ? constantKey : row.get(keyIndex);
      if (key == null || key.isBlank()) {
        throw row.error(Math.max(keyIndex, 0), "the series id (key column) is empty");
      }
      RawRecord record = new RawRecord(key.getBytes(StandardCharsets.UTF_8), CsvReplay.toJson(row));
      ParseResult r = collector.offer(record);
      if (r.kind() == ParseResult.Kind.REJECTED && r.reason() != Rejection.MISSING_FIELD) {
        throw row.error(columnOf(spec, csv, r, keyIndex), r.message());
      }
    }
    return collector.finish(src);
  }

  /**
   * Builds training data from records as they sit on the input topic (key and value bytes, in
   * partition and offset order). Rejected records are counted, not fatal.
   */
  public static TrainingData fromRecords(
      TopologySpec spec, String source, Iterable<RawRecord> records) {
    Collector collector = new Collector(spec);
    for (RawRecord r : records) {
      collector.offer(r);
    }
    return collector.finish(source);
  }

  /**
   * The record key a CSV row gets, as {@code replay} keys it: the spec's {@code csv.keyColumn},
   * else the constant {@code csv.key}, else the {@code seriesId.field} column. Returns -1 for a
   * constant key.
   *
   * @throws Csv.FormatException when the spec names no key or the column is missing
   */
  public static int keyColumnIndex(TopologySpec spec, Csv csv) {
    String column = spec.csv().keyColumn();
    if (column == null
        && spec.csv().key() == null
        && spec.seriesId().from() == SeriesIdSource.FIELD) {
      column = spec.seriesId().field();
    }
    if (column == null) {
      if (spec.csv().key() == null || spec.csv().key().isBlank()) {
        throw new Csv.FormatException(
            csv.source(),
            1,
            1,
            "the topology spec's csv section names neither keyColumn nor key, so rows have no series"
                + " id; set csv.keyColumn (a column) or csv.key (one series)");
      }
      return -1;
    }
    if (!csv.hasColumn(column)) {
      throw new Csv.FormatException(
          csv.source(),
          1,
          csv.header().size() + 1,
          "no key column '" + column + "' (csv.keyColumn); the header has " + csv.header());
    }
    return csv.columnIndex(column);
  }

  private static List<String> neededColumns(TopologySpec spec) {
    List<String> out = new ArrayList<>();
    out.add(spec.timestamp().field());
    out.add(spec.target().field());
    if (spec.seriesId().from() == SeriesIdSource.FIELD) {
      out.add(spec.seriesId().field());
    }
    // A whole column missing is a wrong file, not a missing value: under carry_forward or skip it
    // would silently drop every row.
    out.addAll(FeaturePipeline.inputFields(spec));
    return out;
  }

  /** The 0-based column a rejection is about, from the field it names; the key column otherwise. */
  private static int columnOf(TopologySpec spec, Csv csv, ParseResult r, int keyIndex) {
    String field = null;
    if (r.reason() == Rejection.BAD_TIMESTAMP) {
      field = spec.timestamp().field();
    } else if (r.message() != null) {
      Matcher m = QUOTED_FIELD.matcher(r.message());
      if (m.find()) {
        field = m.group(1);
      }
    }
    if (field != null && csv.hasColumn(field)) {
      return csv.columnIndex(field);
    }
    return Math.max(keyIndex, 0);
  }

  /** Parses records into per-series event lists, then cleans and replays them. */
  private static final class Collector {
    private final TopologySpec spec;
    private final EventParser parser;
    private final FeaturePipeline pipeline;
    private final Map<String, List<Event>> events = new LinkedHashMap<>();
    private final Map<String, List<RawRecord>> raws = new LinkedHashMap<>();
    private final Map<Rejection, Long> rejected = new EnumMap<>(Rejection.class);
    private final List<String> rejectionSamples = new ArrayList<>();
    private long records;
    private long skipped;

    Collector(TopologySpec spec) {
      this.spec = spec;
      this.parser = new EventParser(spec);
      this.pipeline = new FeaturePipeline(spec);
    }

    ParseResult offer(RawRecord record) {
      records++;
      ParseResult r = parser.parse(record.key(), record.value());
      switch (r.kind()) {
        case EVENT:
          Event e = r.event().copy();
          events.computeIfAbsent(e.seriesId(), k -> new ArrayList<>()).add(e);
          raws.computeIfAbsent(e.seriesId(), k -> new ArrayList<>()).add(record);
          break;
        case SKIPPED:
          skipped++;
          break;
        case REJECTED:
        default:
          rejected.merge(r.reason(), 1L, Long::sum);
          if (rejectionSamples.size() < MAX_REJECTION_SAMPLES) {
            rejectionSamples.add(
                r.reason().id() + ": " + r.message() + " (record " + records + ")");
          }
          break;
      }
      return r;
    }

    TrainingData finish(String source) {
      long duplicates = 0;
      long late = 0;
      long unfillable = 0;
      boolean carry = spec.policies().missing() == MissingPolicy.CARRY_FORWARD;
      int fieldCount = FeaturePipeline.inputFields(spec).size();
      List<Series> out = new ArrayList<>();
      for (Map.Entry<String, List<Event>> entry : events.entrySet()) {
        List<Event> list = entry.getValue();
        List<RawRecord> raw = raws.get(entry.getKey());
        long maxSoFar = Long.MIN_VALUE;
        List<Integer> order = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) {
          long t = list.get(i).timeMillis();
          if (t < maxSoFar) {
            late++;
          }
          maxSoFar = Math.max(maxSoFar, t);
          order.add(i);
        }
        // Stable: among events at the same time the first to arrive stays, as on the server.
        order.sort((a, b) -> Long.compare(list.get(a).timeMillis(), list.get(b).timeMillis()));
        List<Event> kept = new ArrayList<>(list.size());
        List<RawRecord> keptRaw = new ArrayList<>(list.size());
        SeriesReplay.Memory memory = new SeriesReplay.Memory(fieldCount);
        long lastTime = Long.MIN_VALUE;
        for (int i : order) {
          Event e = list.get(i);
          if (!kept.isEmpty() && e.timeMillis() == lastTime) {
            duplicates++;
            continue;
          }
          if (carry && pipeline.carryForward(e, memory) >= 0) {
            unfillable++;
            continue;
          }
          pipeline.remember(e, memory);
          kept.add(e);
          keptRaw.add(raw.get(i));
          lastTime = e.timeMillis();
        }
        if (!kept.isEmpty()) {
          out.add(
              new Series(
                  entry.getKey(),
                  Collections.unmodifiableList(kept),
                  Collections.unmodifiableList(keptRaw),
                  SeriesReplay.rows(pipeline, kept)));
        }
      }
      Counts counts =
          new Counts(
              records,
              Collections.unmodifiableMap(new EnumMap<>(rejected)),
              skipped,
              duplicates,
              late,
              unfillable,
              List.copyOf(rejectionSamples));
      return new TrainingData(source, out, counts);
    }
  }
}
