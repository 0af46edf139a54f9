package io.stepcast.cli;

import io.stepcast.config.TopologySpec;
import io.stepcast.features.FeaturePipeline;
import io.stepcast.kafka.Csv;
import io.stepcast.train.SeriesData;
import io.stepcast.train.TrainConfig;
import io.stepcast.train.TrainingData;
import io.stepcast.train.TrainingRun;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code stepcast features}: the exact feature rows and labels the trainer learns from, as CSV, so
 * a model can be trained elsewhere (PyTorch, Keras) on the same inputs stepcast will feed it.
 *
 * <p>The rows come from {@link TrainingData} and {@link TrainingData.Series#toSeriesData()}, the
 * objects {@code stepcast train} hands its trainer: same parsing, cleaning, carry-forward and
 * feature pipeline, no second implementation.
 */
@Command(
    name = "features",
    mixinStandardHelpOptions = true,
    description = {
      "Writes the feature matrix and labels the trainer uses for a CSV of history, one row per"
          + " training row (every event of a series but its last, whose label is unknown).",
      "Columns: series_id, time (ISO-8601 UTC), part (train, validation or test, as 'stepcast"
          + " train' splits each series), the model inputs x in order (their names are the"
          + " model spec's 'features'), the label y (the next event's transformed target; with"
          + " several targets or horizons one column per output in the model spec's 'outputs'"
          + " order, named y:TARGET@HORIZON, empty where the horizon runs past the series' end)"
          + " and target_value (this event's raw target, to turn y back into a forecast;"
          + " target_value:NAME for each further target). See docs/MODEL-CONTRACT.md."
    })
final class FeaturesCommand implements Callable<Integer> {
  @Mixin CommonOptions common;

  @Option(names = "--csv", required = true, description = "History as a CSV file with a header.")
  Path csv;

  @Option(names = "--out", description = "File to write (default: standard output).")
  Path out;

  /** The columns before the inputs. */
  static final List<String> LEADING = List.of("series_id", "time", "part");

  /** The column after the labels: the event's raw (first) target. */
  static final String TARGET_VALUE = "target_value";

  /** The label column of a single-output model. */
  static final String LABEL = "y";

  @Override
  public Integer call() throws Exception {
    TopologySpec spec = common.spec();
    TrainingData data;
    try {
      data = TrainingData.fromCsv(spec, csv);
    } catch (Csv.FormatException e) {
      throw new UserException(e.getMessage());
    } catch (NoSuchFileException e) {
      throw new UserException("no such file: " + e.getFile());
    }
    // Standard output carries the CSV when there is no --out: the summary goes to stderr then.
    PrintStream info = out == null ? System.err : System.out;
    TrainCommand.printCounts(info, data);
    FeaturePipeline pipeline = new FeaturePipeline(spec);
    List<String> header = header(pipeline);
    TrainConfig cfg = TrainingRun.config(spec, null, null);
    long rows;
    if (out == null) {
      Writer w = new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8));
      rows = write(w, header, data, cfg);
      w.flush();
    } else {
      Path parent = out.toAbsolutePath().getParent();
      Files.createDirectories(parent);
      Path tmp = Files.createTempFile(parent, ".stepcast-features-", ".tmp");
      try {
        try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
          rows = write(w, header, data, cfg);
        }
        Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } finally {
        Files.deleteIfExists(tmp);
      }
    }
    info.println(
        "wrote "
            + rows
            + " rows of "
            + pipeline.width()
            + " inputs and their labels for "
            + data.series().size()
            + " series"
            + (out == null ? "" : " to " + out));
    return 0;
  }

  /**
   * The header: {@link #LEADING}, the pipeline's columns, the label column(s) ({@link #LABEL} for
   * one output, else {@code y:} and each name of {@link FeaturePipeline#outputNames}), {@link
   * #TARGET_VALUE} and {@code target_value:NAME} for each further target.
   *
   * @throws UserException when a feature column has the name of one of the other columns
   */
  static List<String> header(FeaturePipeline pipeline) {
    List<String> h = new ArrayList<>(LEADING);
    h.addAll(pipeline.columns());
    List<String> outputs = pipeline.outputNames();
    if (outputs.size() == 1) {
      h.add(LABEL);
    } else {
      for (String o : outputs) {
        h.add(LABEL + ":" + o);
      }
    }
    h.add(TARGET_VALUE);
    List<String> targets = pipeline.targetNames();
    for (String t : targets.subList(1, targets.size())) {
      h.add(TARGET_VALUE + ":" + t);
    }
    Set<String> seen = new HashSet<>();
    for (String c : h) {
      if (!seen.add(c)) {
        throw new UserException(
            "the feature column '"
                + c
                + "' has the name of another column of the output "
                + h
                + "; rename the field in the topology spec");
      }
    }
    return h;
  }

  /** Writes the header and every row; returns the number of rows. */
  static long write(Writer w, List<String> header, TrainingData data, TrainConfig cfg)
      throws IOException {
    w.write(String.join(",", quoteAll(header)));
    w.write('\n');
    long rows = 0;
    StringBuilder line = new StringBuilder(256);
    for (TrainingData.Series s : data.series()) {
      SeriesData d = s.toSeriesData();
      String id = quote(s.id());
      int n = d.length();
      int validation = TrainingRun.validationStart(n, cfg);
      int test = TrainingRun.testStart(n, cfg);
      for (int t = 0; t < n; t++) {
        line.setLength(0);
        line.append(id)
            .append(',')
            .append(Instant.ofEpochMilli(s.rows().times()[t]))
            .append(',')
            .append(t < validation ? "train" : t < test ? "validation" : "test");
        for (float v : d.x()[t]) {
          line.append(',').append(v);
        }
        for (float v : d.y()[t]) {
          // A label past the series' end (a far horizon near it) is unknown: an empty cell, which
          // the trainer masks out and CSV readers read as missing.
          line.append(',');
          if (!Float.isNaN(v)) {
            line.append(v);
          }
        }
        double[][] targets = s.rows().allTargets();
        for (double[] target : targets) {
          line.append(',').append(target[t]);
        }
        line.append('\n');
        w.append(line);
        rows++;
      }
    }
    return rows;
  }

  private static List<String> quoteAll(List<String> cells) {
    List<String> out = new ArrayList<>(cells.size());
    for (String c : cells) {
      out.add(quote(c));
    }
    return out;
  }

  /** RFC 4180: a cell with a comma, quote or line break goes in quotes, quotes doubled. */
  static String quote(String cell) {
    if (cell.indexOf(',') < 0
        && cell.indexOf('"') < 0
        && cell.indexOf('\n') < 0
        && cell.indexOf('\r') < 0) {
      return cell;
    }
    return '"' + cell.replace("\"", "\"\"") + '"';
  }
}
