package io.stepcast.cli;

import io.stepcast.config.TopologySpec;
import io.stepcast.kafka.CsvReplay;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code stepcast replay}: a CSV file's rows as events on the pipeline's input topic. */
@Command(
    name = "replay",
    mixinStandardHelpOptions = true,
    description =
        "Sends a CSV file's rows as JSON events to the pipeline's input topic, keyed as the spec's csv section says, at a given rate.")
final class ReplayCommand implements Callable<Integer> {
  @Mixin CommonOptions common;

  @Option(names = "--csv", required = true, description = "CSV file with a header row.")
  Path csv;

  @Option(
      names = "--rate",
      defaultValue = "0",
      description = "Events per second; 0 = as fast as possible. Default: ${DEFAULT-VALUE}")
  double rate;

  @Option(
      names = "--skip",
      defaultValue = "0",
      description = "Rows to skip first. Default: ${DEFAULT-VALUE}")
  long skip;

  @Option(names = "--limit", defaultValue = "-1", description = "Rows to send at most (-1: all).")
  long limit;

  @Option(names = "--topic", description = "Send to this topic instead of the spec's input topic.")
  String topic;

  @Override
  public Integer call() throws Exception {
    TopologySpec spec = common.spec();
    String bootstrap = common.requireBootstrap("replay");
    ProgressBar bar = new ProgressBar(System.err, "replay");
    CsvReplay.Builder b =
        CsvReplay.builder(bootstrap, topic == null ? spec.topics().input() : topic, csv)
            .producerProperties(CommonOptions.clientProperties())
            .ratePerSecond(rate)
            .skip(skip)
            .progress((done, total) -> bar.update(done, total, ""));
    if (limit >= 0) {
      b.limit(limit);
    }
    if (spec.csv().keyColumn() != null) {
      b.keyColumn(spec.csv().keyColumn());
    } else if (spec.csv().key() != null) {
      b.constantKey(spec.csv().key());
    } else if (spec.seriesId().field() != null) {
      b.keyColumn(spec.seriesId().field());
    } else {
      throw new UserException(
          common.topology
              + ": field 'csv': says neither keyColumn nor key. Fix: set csv.keyColumn (a CSV column) or csv.key (one series)");
    }
    long sent = b.build().run();
    bar.done();
    System.out.println(
        "sent " + sent + " events to " + (topic == null ? spec.topics().input() : topic));
    return 0;
  }
}
