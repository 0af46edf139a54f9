package io.stepcast.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Choosing the connections to evict while their idle times keep changing. */
class EvictMostIdleTest {

  @Test
  void shouldReadEachIdleTimeOnceEvenWhileTheyChange() {
    // Idle times that move on every read, as live connections' do: a sort that read them again
    // saw an inconsistent order and threw on the acceptor thread.
    List<Integer> connections = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      connections.add(i);
    }
    Random random = new Random(3);
    Map<Integer, Integer> reads = new HashMap<>();
    Map<Integer, Long> firstRead = new HashMap<>();

    AtomicReference<List<Integer>> victims = new AtomicReference<>();
    assertThatCode(
            () ->
                victims.set(
                    HttpServer.EvictMostIdle.mostIdle(
                        connections,
                        c -> {
                          reads.merge(c, 1, Integer::sum);
                          long idle = random.nextInt(10_000);
                          firstRead.putIfAbsent(c, idle);
                          return idle;
                        },
                        20)))
        .doesNotThrowAnyException();

    assertThat(reads.values()).hasSize(300).containsOnly(1);
    assertThat(victims.get()).hasSize(20).doesNotHaveDuplicates();
    long leastEvicted = victims.get().stream().mapToLong(firstRead::get).min().orElseThrow();
    long mostKept =
        connections.stream()
            .filter(c -> !victims.get().contains(c))
            .mapToLong(firstRead::get)
            .max()
            .orElseThrow();
    assertThat(leastEvicted).isGreaterThanOrEqualTo(mostKept);
    for (int i = 1; i < victims.get().size(); i++) {
      assertThat(firstRead.get(victims.get().get(i - 1)))
          .isGreaterThanOrEqualTo(firstRead.get(victims.get().get(i)));
    }
  }

  @Test
  void shouldEvictNothingOrEverythingAtTheEdges() {
    List<String> three = List.of("a", "b", "c");

    assertThat(HttpServer.EvictMostIdle.mostIdle(three, s -> 1L, 0)).isEmpty();
    assertThat(HttpServer.EvictMostIdle.mostIdle(three, s -> s.charAt(0), 5))
        .containsExactly("c", "b", "a");
  }
}
