package io.stepcast.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.stepcast.config.ConfigException;
import io.stepcast.config.SpecFixtures;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** An unreachable cluster is one line within 15 s, without a broker. */
class ClusterPreflightTest {

  @Test
  void shouldSayAtOnceThatNothingListensAtTheBootstrapServers() throws IOException {
    int port;
    try (ServerSocket s = new ServerSocket()) {
      s.bind(new InetSocketAddress("127.0.0.1", 0));
      port = s.getLocalPort();
    }
    String bootstrap = "127.0.0.1:" + port;
    long start = System.nanoTime();
    assertThatThrownBy(() -> ClusterPreflight.check(SpecFixtures.weather(), bootstrap, Map.of()))
        .isInstanceOf(ConfigException.class)
        .satisfies(
            e ->
                assertThat(e.getMessage())
                    .doesNotContain("\n")
                    .startsWith(
                        "--bootstrap-servers / STEPCAST_BOOTSTRAP_SERVERS: cannot reach"
                            + " Kafka at "
                            + bootstrap)
                    .contains("Fix: check that a broker runs there")
                    .contains("kafka-broker-api-versions.sh --bootstrap-server " + bootstrap));
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(15));
  }

  @Test
  void shouldSayThatABootstrapHostIsUnknown() {
    assertThatThrownBy(
            () ->
                ClusterPreflight.check(
                    SpecFixtures.weather(), "no-such-host.invalid:9092", Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageNotContaining("\n")
        .hasMessageContaining("cannot reach Kafka at no-such-host.invalid:9092")
        .hasMessageContaining("no-such-host.invalid:9092: unknown host");
  }

  @Test
  void shouldSayWithin15SecondsThatAListenerDoesNotSpeakKafka() throws Exception {
    // Accepts connections and never answers: a wrong port, TLS mismatch or a black-holed proxy.
    List<Socket> accepted = Collections.synchronizedList(new ArrayList<>());
    try (ServerSocket silent = new ServerSocket()) {
      silent.bind(new InetSocketAddress("127.0.0.1", 0));
      Thread acceptor =
          new Thread(
              () -> {
                try {
                  while (true) {
                    accepted.add(silent.accept());
                  }
                } catch (IOException closed) {
                  // the test is over
                }
              },
              "silent-acceptor");
      acceptor.setDaemon(true);
      acceptor.start();
      String bootstrap = "127.0.0.1:" + silent.getLocalPort();
      long start = System.nanoTime();
      assertThatThrownBy(() -> ClusterPreflight.check(SpecFixtures.weather(), bootstrap, Map.of()))
          .isInstanceOf(ConfigException.class)
          .satisfies(
              e ->
                  assertThat(e.getMessage())
                      .doesNotContain("\n")
                      .contains("cannot reach Kafka at " + bootstrap + " within 15 s")
                      .contains("advertised.listeners"));
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(15));
    } finally {
      synchronized (accepted) {
        for (Socket s : accepted) {
          s.close();
        }
      }
    }
  }
}
