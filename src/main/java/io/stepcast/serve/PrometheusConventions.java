package io.stepcast.serve;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.config.MeterFilterReply;
import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Makes the meters that third-party binders register pass Prometheus' own linter ({@code promtool
 * check metrics}), so that the scrape is clean and dashboards can rely on conventional names.
 *
 * <p>Kafka's client metrics (through {@code KafkaStreamsMetrics}) and Micrometer's {@code
 * ProcessorMetrics} break three of its rules, and each is handled without changing what a value
 * means:
 *
 * <ul>
 *   <li><b>Abbreviated, non-base units</b> ({@code io-time-ns-avg}, {@code blocked-time-ns-total},
 *       {@code start-time-ms}, Micrometer's {@code process.cpu.time} in ns): a filter cannot scale
 *       a value, so these are dropped. The same ground is covered by Kafka's ratios ({@code
 *       io-ratio}, {@code io-wait-ratio}, the stream thread's {@code process-ratio}, {@code
 *       poll-ratio}, {@code commit-ratio}, {@code blocked-time} is the rest) and by {@code
 *       process_cpu_seconds_total}, which {@link #cpuSeconds()} registers in base units.
 *   <li><b>{@code _count} on a gauge</b>, which Prometheus reserves for histograms and summaries:
 *       {@code connection.count} becomes {@code connections}, {@code system.cpu.count} becomes
 *       {@code system.cpus}.
 *   <li><b>No help text</b> (Kafka's per-node request latency): a description naming the Kafka
 *       metric is added.
 * </ul>
 *
 * <p>The filters must be configured before any meter is registered.
 */
public final class PrometheusConventions {
  /** Name tokens that are abbreviated units. */
  private static final Set<String> ABBREVIATED_UNITS = Set.of("ns", "us", "ms");

  private static final Pattern DOT = Pattern.compile("\\.");

  private PrometheusConventions() {}

  /** Adds the filters to {@code registry}; call before binding any meter. */
  public static void configure(MeterRegistry registry) {
    registry
        .config()
        .meterFilter(dropAbbreviatedUnits())
        .meterFilter(renameCountGauges())
        .meterFilter(describeUndescribed());
  }

  /** Drops meters whose name carries an abbreviated unit, and Micrometer's CPU time in ns. */
  static MeterFilter dropAbbreviatedUnits() {
    return new MeterFilter() {
      @Override
      public MeterFilterReply accept(Meter.Id id) {
        if (id.getName().equals("process.cpu.time")) {
          return MeterFilterReply.DENY;
        }
        for (String token : DOT.split(id.getName())) {
          if (ABBREVIATED_UNITS.contains(token)) {
            return MeterFilterReply.DENY;
          }
        }
        return MeterFilterReply.NEUTRAL;
      }
    };
  }

  /** Renames gauges that end in {@code .count}, a suffix Prometheus reserves. */
  static MeterFilter renameCountGauges() {
    return new MeterFilter() {
      @Override
      public Meter.Id map(Meter.Id id) {
        String name = id.getName();
        if (id.getType() != Meter.Type.GAUGE || !name.endsWith(".count")) {
          return id;
        }
        String base = name.substring(0, name.length() - ".count".length());
        return id.withName(base.endsWith("s") ? base : base + "s");
      }
    };
  }

  /** Gives meters without a description one that names them (Prometheus wants HELP). */
  static MeterFilter describeUndescribed() {
    return new MeterFilter() {
      @Override
      public Meter.Id map(Meter.Id id) {
        String d = id.getDescription();
        if (d != null && !d.isBlank()) {
          return id;
        }
        String what =
            id.getName().startsWith("kafka.") ? "Kafka client metric " : "Micrometer meter ";
        return new Meter.Id(
            id.getName(),
            io.micrometer.core.instrument.Tags.of(id.getTagsAsIterable()),
            id.getBaseUnit(),
            what + id.getName() + " (no description given by its source)",
            id.getType());
      }
    };
  }

  /**
   * {@code process_cpu_seconds_total}: CPU time of the JVM process in seconds, the base-unit
   * replacement of Micrometer's {@code process_cpu_time_ns_total} (absent where the JVM does not
   * report process CPU time).
   */
  public static MeterBinder cpuSeconds() {
    return registry -> {
      OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
      if (os instanceof com.sun.management.OperatingSystemMXBean sun
          && sun.getProcessCpuTime() >= 0) {
        FunctionCounter.builder("process.cpu", sun, b -> b.getProcessCpuTime() / 1e9)
            .baseUnit("seconds")
            .description("CPU time used by the JVM process")
            .register(registry);
      }
    };
  }
}
