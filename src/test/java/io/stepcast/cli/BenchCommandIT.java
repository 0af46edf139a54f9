package io.stepcast.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The benchmark command end to end with tiny sizes: an embedded broker, every topology, two
 * interleaved rounds and the latency mode. Not timed: it checks that each run completes and that
 * the figures and ratios are printed, not what they are.
 */
class BenchCommandIT {

  @Test
  void shouldRunEveryTopologyTwiceAndPrintRangesRatiosLatencyAndLoad() {
    CliRun.Result r =
        CliRun.run(
            "bench",
            "--events",
            "400",
            "--series",
            "20",
            "--hidden",
            "8",
            "--layers",
            "2",
            "--windows",
            "3,5",
            "--repeat",
            "2",
            "--latency",
            "--latency-fractions",
            "0.05",
            "--latency-seconds",
            "2",
            "--batch-size",
            "4");

    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out())
        .contains("lstm 2x8, 400 events, 20 series")
        .contains("processing.batchSize=4")
        .contains("load before:")
        .contains("load after:")
        .contains("state bytes written per event: stepcast ")
        .contains("min / median / max");
    for (String t :
        new String[] {
          "pass-through", "stateful identity", "stepcast", "window W=3", "window W=5"
        }) {
      Pattern row = Pattern.compile("^" + Pattern.quote(t) + " +\\d.*");
      assertThat(r.out().lines().filter(l -> row.matcher(l).matches()).count())
          .as(t + " rows: two rounds and the summary")
          .isEqualTo(3);
    }
    assertThat(r.out())
        .contains("stepcast / stateful identity")
        .contains("stepcast / window W=3")
        .contains("stepcast / window W=5")
        .containsPattern("latency stepcast +at +5% of stepcast's max .*p50 \\d+ ms, p99 \\d+ ms")
        .containsPattern("latency window W=3 +at +5% of stepcast's max");
  }

  @Test
  void shouldRefuseAnInvalidNetworkSizeWithTheSettingNamed() {
    CliRun.Result r = CliRun.run("bench", "--hidden", "0", "--events", "10");

    assertThat(r.code()).isNotZero();
    assertThat(r.err()).contains("training.hiddenSize").doesNotContain("at io.stepcast");
  }
}
