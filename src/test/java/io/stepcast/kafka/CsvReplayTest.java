package io.stepcast.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CsvReplayTest {

  private static final ObjectMapper MAPPER = new ObjectMapper();

  @TempDir Path dir;
  private MockProducer<String, byte[]> producer;

  @BeforeEach
  void newProducer() {
    producer = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
  }

  @Test
  void shouldSendOneJsonEventPerRowKeyedByColumn() throws IOException {
    Path csv =
        write(
            "symbol,date,price,volume,note\n"
                + "MSFT,Jan 1 2000,39.81,1200,\"up, a lot\"\n"
                + "IBM,Feb 1 2000,-1.5e2,,\n");

    long sent =
        CsvReplay.builder("unused:9092", "prices", csv).keyColumn("symbol").build().run(producer);

    assertThat(sent).isEqualTo(2);
    assertThat(producer.flushed()).isTrue();
    List<ProducerRecord<String, byte[]>> history = producer.history();
    assertThat(history).extracting(ProducerRecord::topic).containsOnly("prices");
    assertThat(history).extracting(ProducerRecord::key).containsExactly("MSFT", "IBM");
    JsonNode first = json(history.get(0));
    assertThat(first.get("symbol").isTextual()).isTrue();
    assertThat(first.get("date").asText()).isEqualTo("Jan 1 2000");
    assertThat(first.get("price").isDouble()).isTrue();
    assertThat(first.get("price").doubleValue()).isEqualTo(39.81);
    assertThat(first.get("volume").isIntegralNumber()).isTrue();
    assertThat(first.get("volume").longValue()).isEqualTo(1200L);
    assertThat(first.get("note").asText()).isEqualTo("up, a lot");
    JsonNode second = json(history.get(1));
    assertThat(second.get("price").doubleValue()).isEqualTo(-150.0);
    // Empty cells are left out, not sent as "" or null.
    assertThat(second.has("volume")).isFalse();
    assertThat(second.has("note")).isFalse();
    assertThat(second.size()).isEqualTo(3);
  }

  @Test
  void shouldKeepNonFiniteAndNonDecimalCellsAsStrings() throws IOException {
    Path csv = write("id,a,b,c\nx,NaN,0x10,Infinity\n");

    CsvReplay.builder("unused:9092", "t", csv).keyColumn("id").build().run(producer);

    JsonNode event = json(producer.history().get(0));
    assertThat(event.get("a").isTextual()).isTrue();
    assertThat(event.get("b").asText()).isEqualTo("0x10");
    assertThat(event.get("c").isTextual()).isTrue();
  }

  @Test
  void shouldUseConstantKeyWithoutKeyColumn() throws IOException {
    Path csv = write("date,co2\n1958-03-01,315.70\n1958-04-01,317.46\n");

    CsvReplay.builder("unused:9092", "co2", csv).constantKey("mauna-loa").build().run(producer);

    assertThat(producer.history()).extracting(ProducerRecord::key).containsOnly("mauna-loa");
    assertThat(json(producer.history().get(1)).get("co2").doubleValue()).isEqualTo(317.46);
  }

  @Test
  void shouldSkipThenLimitRowsAndReportProgressAgainstTheSelectedTotal() throws IOException {
    StringBuilder text = new StringBuilder("k,v\n");
    for (int i = 0; i < 10; i++) {
      text.append("k").append(i).append(',').append(i).append('\n');
    }
    Path csv = write(text.toString());
    List<long[]> updates = new ArrayList<>();

    long sent =
        CsvReplay.builder("unused:9092", "t", csv)
            .keyColumn("k")
            .skip(3)
            .limit(4)
            .progress((done, total) -> updates.add(new long[] {done, total}))
            .build()
            .run(producer);

    assertThat(sent).isEqualTo(4);
    assertThat(producer.history())
        .extracting(ProducerRecord::key)
        .containsExactly("k3", "k4", "k5", "k6");
    assertThat(updates).isNotEmpty();
    assertThat(updates.get(updates.size() - 1)).containsExactly(4L, 4L);
  }

  @Test
  void shouldPaceEventsAtTheGivenRate() throws IOException {
    StringBuilder text = new StringBuilder("k,v\n");
    for (int i = 0; i < 21; i++) {
      text.append("k,").append(i).append('\n');
    }
    Path csv = write(text.toString());

    long start = System.nanoTime();
    CsvReplay.builder("unused:9092", "t", csv)
        .keyColumn("k")
        .ratePerSecond(200)
        .build()
        .run(producer);
    long elapsedMillis = (System.nanoTime() - start) / 1_000_000;

    // 21 events at 200/s: the last is due 20 intervals of 5 ms after the first.
    assertThat(elapsedMillis).isGreaterThanOrEqualTo(100);
    assertThat(producer.history()).hasSize(21);
  }

  @Test
  void shouldNameRowAndColumnWhenTheKeyCellIsEmpty() throws IOException {
    Path csv = write("symbol,price\nMSFT,1\n,2\n");

    assertThatThrownBy(
            () ->
                CsvReplay.builder("unused:9092", "t", csv)
                    .keyColumn("symbol")
                    .build()
                    .run(producer))
        .isInstanceOf(Csv.FormatException.class)
        .hasMessageEndingWith("row 3, column 1: (symbol) the key column is empty");
    assertThat(producer.history()).hasSize(1);
  }

  @Test
  void shouldRejectUnknownKeyColumnAndMissingKey() throws IOException {
    Path csv = write("symbol,price\nMSFT,1\n");

    assertThatThrownBy(
            () ->
                CsvReplay.builder("unused:9092", "t", csv)
                    .keyColumn("ticker")
                    .build()
                    .run(producer))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no key column 'ticker'");
    assertThatThrownBy(() -> CsvReplay.builder("unused:9092", "t", csv).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("set a key column or a non-empty constant key");
  }

  private Path write(String text) throws IOException {
    Path file = Files.createTempFile(dir, "replay", ".csv");
    Files.writeString(file, text, StandardCharsets.UTF_8);
    return file;
  }

  private static JsonNode json(ProducerRecord<String, byte[]> record) throws IOException {
    return MAPPER.readTree(record.value());
  }
}
