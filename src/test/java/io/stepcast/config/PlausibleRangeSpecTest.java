package io.stepcast.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The settings of what stepcast accepts: the event-time window and the value ranges. */
class PlausibleRangeSpecTest {
  private static final Path WEATHER = Path.of("topologies/weather.yaml");

  private static TopologySpec weather(String... env) {
    Map<String, String> m = new HashMap<>();
    for (int i = 0; i < env.length; i += 2) {
      m.put(env[i], env[i + 1]);
    }
    return SpecLoader.load(WEATHER, m);
  }

  @Test
  void shouldDefaultTheTimeWindowAndShipPhysicalRanges() {
    TopologySpec s = weather();
    assertThat(s.timestamp().earliestMillis()).isEqualTo(-2_208_988_800_000L);
    assertThat(s.timestamp().maxAheadMillis()).isEqualTo(86_400_000L);
    assertThat(s.target().min()).isEqualTo(-90.0);
    assertThat(s.target().max()).isEqualTo(70.0);
    assertThat(s.features().get(0).min()).isEqualTo(800.0);
    TopologySpec stocks = SpecLoader.load(Path.of("topologies/stocks.yaml"), Map.of());
    assertThat(stocks.target().max()).isEqualTo(1e7);
  }

  @Test
  void shouldTakeTheWindowFromTheEnvironment() {
    TopologySpec s =
        weather(
            "STEPCAST_TIMESTAMP_EARLIEST", "2000-01-01", "STEPCAST_TIMESTAMP_MAX_AHEAD", "PT6H");
    assertThat(s.timestamp().earliestMillis()).isEqualTo(946_684_800_000L);
    assertThat(s.timestamp().maxAheadMillis()).isEqualTo(6 * 3_600_000L);
  }

  @Test
  void shouldNameTheFieldAndTheFixOfABadWindowOrRange() {
    assertThatThrownBy(() -> weather("STEPCAST_TIMESTAMP_MAX_AHEAD", "one day"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("timestamp.maxAhead")
        .hasMessageContaining("P1D");
    assertThatThrownBy(() -> weather("STEPCAST_TIMESTAMP_MAX_AHEAD", "-P1D"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("timestamp.maxAhead");
    assertThatThrownBy(() -> weather("STEPCAST_TIMESTAMP_EARLIEST", "last year"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("timestamp.earliest");
    assertThatThrownBy(() -> weather("STEPCAST_TARGET_MIN", "100"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("target.min")
        .hasMessageContaining("min < max");
    assertThatThrownBy(
            () -> weather("STEPCAST_FEATURES", "[{calendar: hour_of_day, min: 0, max: 1}]"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("features[0]");
    assertThatThrownBy(() -> weather("STEPCAST_FEATURES", "[{field: wind, min: 5, max: 1}]"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("features[0].min");
  }
}
