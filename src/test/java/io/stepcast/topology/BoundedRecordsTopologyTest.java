package io.stepcast.topology;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.stepcast.config.SpecFixtures;
import io.stepcast.config.TopologySpec;
import io.stepcast.model.ExecutionConfig;
import io.stepcast.model.ModelRegistry;
import io.stepcast.serve.ModelSources;
import io.stepcast.train.PipelineModels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What travels on from a hostile record: no forged {@code stepcast.*} header reaches an output, and
 * no dead letter or repartition record grows past {@code max.request.size}.
 */
class BoundedRecordsTopologyTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int LIMIT = 1024 * 1024;

  @TempDir Path stateDir;

  private TopologyTestDriver driver;
  private ModelRegistry registry;
  private TestInputTopic<byte[], byte[]> input;
  private TestOutputTopic<String, byte[]> output;
  private TestOutputTopic<byte[], byte[]> deadLetters;

  @AfterEach
  void close() {
    if (driver != null) {
      driver.close();
    }
    if (registry != null) {
      registry.close();
    }
  }

  private void start(TopologySpec spec) {
    registry = ModelSources.registry(spec, ExecutionConfig.cpu(), ModelRegistry.Listener.NONE);
    registry.offer(PipelineModels.fixed(spec, 3), "test");
    Properties p = ForecastTopology.streamsConfig(spec, "unused:9092", stateDir, Map.of());
    driver =
        new TopologyTestDriver(ForecastTopology.build(spec, registry, ForecastMetrics.NOOP), p);
    input =
        driver.createInputTopic(
            spec.topics().input(), new ByteArraySerializer(), new ByteArraySerializer());
    output =
        driver.createOutputTopic(
            spec.topics().output(), new StringDeserializer(), new ByteArrayDeserializer());
    deadLetters =
        driver.createOutputTopic(
            spec.topics().deadLetter(), new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static String weather(int hour) {
    return String.format(
        "{\"date\":\"2010-01-01T%02d:00:00\",\"pressure\":1016.5,\"temperature\":4,\"wind\":3.5}",
        hour);
  }

  private static Headers forged() {
    Headers h = new RecordHeaders();
    h.add(DeadLetters.REASON, b("forged"));
    h.add(DeadLetters.PIPELINE, b("other"));
    h.add("stepcast.anything", b("x"));
    h.add("trace-id", b("abc"));
    return h;
  }

  private static long size(TestRecord<?, byte[]> r, byte[] key) {
    long n = (key == null ? 0 : key.length) + (r.value() == null ? 0 : r.value().length);
    for (Header h : r.headers()) {
      n += h.key().length() + (h.value() == null ? 0 : h.value().length);
    }
    return n;
  }

  private static long count(Headers headers, String name) {
    return Arrays.stream(headers.toArray()).filter(h -> h.key().equals(name)).count();
  }

  @Test
  void shouldDropForgedStepcastHeadersFromForecastsAndDeadLettersButKeepOthers() {
    start(SpecFixtures.weather());
    input.pipeInput(new TestRecord<>(b("seattle"), b(weather(1)), forged()));
    input.pipeInput(new TestRecord<>(b("seattle"), b("not json"), forged()));

    TestRecord<String, byte[]> forecast = output.readRecord();
    assertThat(DeadLetters.names(forecast.headers())).containsExactly("trace-id");
    TestRecord<byte[], byte[]> dead = deadLetters.readRecord();
    assertThat(DeadLetters.read(dead.headers(), DeadLetters.REASON)).isEqualTo("malformed_json");
    assertThat(DeadLetters.read(dead.headers(), DeadLetters.PIPELINE)).isEqualTo("weather");
    assertThat(count(dead.headers(), DeadLetters.REASON)).isEqualTo(1);
    assertThat(DeadLetters.names(dead.headers()))
        .contains("trace-id")
        .doesNotContain("stepcast.anything", DeadLetters.TRUNCATED);
  }

  @Test
  void shouldCarryABoundedPrefixWhenTheDeadLetterCopyWouldNotFit() {
    start(SpecFixtures.weather());
    byte[] value = new byte[1_048_400];
    Arrays.fill(value, (byte) '{');
    Headers headers = new RecordHeaders();
    headers.add("big", new byte[30_000]);
    input.pipeInput(new TestRecord<>(b("seattle"), value, headers));

    TestRecord<byte[], byte[]> dead = deadLetters.readRecord();
    assertThat(DeadLetters.read(dead.headers(), DeadLetters.REASON)).isEqualTo("malformed_json");
    assertThat(DeadLetters.read(dead.headers(), DeadLetters.TRUNCATED)).isEqualTo("value");
    assertThat(DeadLetters.read(dead.headers(), DeadLetters.SOURCE_VALUE_SIZE))
        .isEqualTo("1048400");
    assertThat(DeadLetters.read(dead.headers(), DeadLetters.SOURCE_KEY_SIZE)).isEqualTo("7");
    assertThat(DeadLetters.read(dead.headers(), DeadLetters.SOURCE_HEADERS_SIZE))
        .isEqualTo("30003");
    assertThat(dead.value()).hasSize(DeadLetters.VALUE_PREFIX);
    assertThat(dead.key()).isEqualTo(b("seattle"));
    assertThat(size(dead, dead.key())).isLessThan(LIMIT - DeadLetters.RESERVE / 2);
  }

  @Test
  void shouldBoundTheMessageOfAHugeTimestampAndKeepTheWholeRecordWhenItFits() {
    start(SpecFixtures.weather());
    String json =
        "{\"date\":\"" + "2".repeat(600_000) + "\",\"pressure\":1016.5,\"temperature\":4}";
    input.pipeInput(b("seattle"), b(json));

    TestRecord<byte[], byte[]> dead = deadLetters.readRecord();
    assertThat(DeadLetters.read(dead.headers(), DeadLetters.REASON)).isEqualTo("bad_timestamp");
    assertThat(DeadLetters.read(dead.headers(), DeadLetters.MESSAGE).length())
        .isLessThanOrEqualTo(DeadLetters.MAX_MESSAGE + 40);
    assertThat(dead.value()).isEqualTo(b(json));
    assertThat(DeadLetters.read(dead.headers(), DeadLetters.TRUNCATED)).isNull();
  }

  @Test
  void shouldDropAnOversizedInputHeaderSetAndSaySo() {
    start(SpecFixtures.weather());
    Headers headers = new RecordHeaders();
    headers.add("huge", new byte[DeadLetters.MAX_INPUT_HEADERS + 1]);
    input.pipeInput(new TestRecord<>(b("seattle"), b(weather(1)), headers));
    input.pipeInput(new TestRecord<>(b("seattle"), b("[]"), headers));

    assertThat(DeadLetters.names(output.readRecord().headers())).isEmpty();
    TestRecord<byte[], byte[]> dead = deadLetters.readRecord();
    assertThat(DeadLetters.read(dead.headers(), DeadLetters.TRUNCATED)).isEqualTo("headers");
    assertThat(DeadLetters.names(dead.headers())).doesNotContain("huge");
    assertThat(dead.value()).isEqualTo(b("[]"));
  }

  @Test
  void shouldForecastANearOneMegabyteEventWhoseRepartitionCopyIsBounded() throws Exception {
    start(SpecFixtures.stocks());
    String pad = "x".repeat(1_040_000);
    String first = "{\"symbol\":\"MSFT\",\"date\":\"Jan 1 2000\",\"price\":39.81,\"pad\":\"" + pad;
    input.pipeInput(b("k"), b(first + "\"}"));
    // The same time again: a duplicate, dead-lettered after the repartition topic.
    input.pipeInput(b("k"), b(first + "y\"}"));
    input.pipeInput(b("k"), b("{\"symbol\":\"MSFT\",\"date\":\"Feb 1 2000\",\"price\":36.35}"));

    assertThat(output.readValuesToList())
        .extracting(v -> JSON.readTree(v).get("steps").asInt())
        .containsExactly(1, 2);
    TestRecord<byte[], byte[]> dup = deadLetters.readRecord();
    assertThat(DeadLetters.read(dup.headers(), DeadLetters.REASON)).isEqualTo("duplicate");
    assertThat(DeadLetters.read(dup.headers(), DeadLetters.STAGE)).isEqualTo("forecast");
    assertThat(DeadLetters.read(dup.headers(), DeadLetters.SOURCE_OFFSET)).isEqualTo("1");
    assertThat(DeadLetters.read(dup.headers(), DeadLetters.TRUNCATED)).isEqualTo("value");
    assertThat(DeadLetters.read(dup.headers(), DeadLetters.SOURCE_VALUE_SIZE))
        .isEqualTo(Integer.toString(first.length() + 3));
    assertThat(dup.value()).hasSize(DeadLetters.VALUE_PREFIX);
    assertThat(new String(dup.value(), StandardCharsets.UTF_8)).startsWith("{\"symbol\":\"MSFT\"");
  }

  @Test
  void shouldFollowASmallerMaxRequestSize() {
    TopologySpec spec = SpecFixtures.weather();
    registry = ModelSources.registry(spec, ExecutionConfig.cpu(), ModelRegistry.Listener.NONE);
    registry.offer(PipelineModels.fixed(spec, 3), "test");
    Properties p =
        ForecastTopology.streamsConfig(
            spec, "unused:9092", stateDir, Map.of("producer.max.request.size", "100000"));
    driver =
        new TopologyTestDriver(ForecastTopology.build(spec, registry, ForecastMetrics.NOOP), p);
    input =
        driver.createInputTopic(
            spec.topics().input(), new ByteArraySerializer(), new ByteArraySerializer());
    deadLetters =
        driver.createOutputTopic(
            spec.topics().deadLetter(), new ByteArrayDeserializer(), new ByteArrayDeserializer());
    input.pipeInput(b("seattle"), new byte[200_000]);

    TestRecord<byte[], byte[]> dead = deadLetters.readRecord();
    assertThat(DeadLetters.read(dead.headers(), DeadLetters.TRUNCATED)).isEqualTo("value");
    assertThat(size(dead, dead.key())).isLessThan(100_000 - DeadLetters.RESERVE / 2);
  }
}
