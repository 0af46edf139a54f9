package io.stepcast.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.stepcast.testsupport.EmbeddedKafkaSupport;
import io.stepcast.testsupport.TestRecords;
import io.stepcast.testsupport.TestTopics;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A CSV replayed to the embedded broker arrives as keyed JSON events, each series in order. */
class CsvReplayEmbeddedIT {

  private static final ObjectMapper MAPPER = new ObjectMapper();

  @Test
  void shouldReplayRowsAsKeyedJsonEventsInOrderPerSeries(@TempDir Path dir) throws Exception {
    String bootstrap = EmbeddedKafkaSupport.cluster().bootstrapServers();
    String topic = TestTopics.unique("replay");
    try (Admin admin = EmbeddedKafkaSupport.cluster().admin()) {
      Topics.ensure(admin, topic, 3, Map.of());
    }
    StringBuilder text = new StringBuilder("symbol,date,price\n");
    String[] symbols = {"MSFT", "AMZN", "IBM", "GOOG", "AAPL"};
    for (int month = 0; month < 12; month++) {
      for (String s : symbols) {
        text.append(s).append(",2000-").append(month + 1).append("-01,").append(month).append('\n');
      }
    }
    Path csv = dir.resolve("stocks.csv");
    Files.writeString(csv, text.toString(), StandardCharsets.UTF_8);
    List<Long> progress = new ArrayList<>();

    long sent =
        CsvReplay.builder(bootstrap, topic, csv)
            .keyColumn("symbol")
            .progress((done, total) -> progress.add(total))
            .build()
            .run();

    assertThat(sent).isEqualTo(60);
    assertThat(progress).containsOnly(60L);
    List<ConsumerRecord<String, String>> received =
        TestRecords.consume(bootstrap, topic, 60, Duration.ofSeconds(60));
    assertThat(received).hasSize(60);
    for (String s : symbols) {
      List<ConsumerRecord<String, String>> series =
          received.stream().filter(r -> r.key().equals(s)).toList();
      assertThat(series).hasSize(12);
      // One series, one partition, file order.
      assertThat(series)
          .extracting(ConsumerRecord::partition)
          .containsOnly(series.get(0).partition());
      assertThat(series)
          .extracting(r -> MAPPER.readTree(r.value()).get("price").asInt())
          .containsExactly(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11);
    }
  }
}
