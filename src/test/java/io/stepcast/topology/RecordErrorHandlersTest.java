package io.stepcast.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.stepcast.features.Rejection;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.errors.NotEnoughReplicasException;
import org.apache.kafka.common.errors.RecordBatchTooLargeException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProcessingExceptionHandler;
import org.apache.kafka.streams.errors.ProductionExceptionHandler;
import org.apache.kafka.streams.errors.ProductionExceptionHandler.SerializationExceptionOrigin;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.api.Record;
import org.junit.jupiter.api.Test;

/** Every exception class each handler can meet, and what it does with it. */
class RecordErrorHandlersTest {
  private static final String DLQ = "weather-dead-letters";

  private final ForecastTopologyTest.CountingMetrics metrics =
      new ForecastTopologyTest.CountingMetrics();
  private final List<Rejection> counted = metrics.deadLetters;

  /** The context Kafka Streams gives a handler: where the failing record came from. */
  private record Context(String processorNodeId, byte[] sourceRawKey, byte[] sourceRawValue)
      implements ErrorHandlerContext {
    @Override
    public String topic() {
      return "weather-events";
    }

    @Override
    public int partition() {
      return 2;
    }

    @Override
    public long offset() {
      return 17;
    }

    @Override
    public Headers headers() {
      return new RecordHeaders();
    }

    @Override
    public TaskId taskId() {
      return new TaskId(0, 2);
    }

    @Override
    public long timestamp() {
      return 0;
    }
  }

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private Map<String, Object> configs() {
    Map<String, Object> c = new HashMap<>();
    c.put(RecordErrorHandlers.PIPELINE_CONFIG, "weather");
    c.put(RecordErrorHandlers.DEAD_LETTER_TOPIC_CONFIG, DLQ);
    c.put(RecordErrorHandlers.METRICS_CONFIG, metrics);
    return c;
  }

  private RecordErrorHandlers.Processing processing() {
    RecordErrorHandlers.Processing h = new RecordErrorHandlers.Processing();
    h.configure(configs());
    return h;
  }

  private RecordErrorHandlers.Production production() {
    RecordErrorHandlers.Production h = new RecordErrorHandlers.Production();
    h.configure(configs());
    return h;
  }

  private static void assertDeadLetter(
      ProducerRecord<byte[], byte[]> r, String reason, String stage) {
    assertThat(r.topic()).isEqualTo(DLQ);
    assertThat(DeadLetters.read(r.headers(), DeadLetters.REASON)).isEqualTo(reason);
    assertThat(DeadLetters.read(r.headers(), DeadLetters.STAGE)).isEqualTo(stage);
    assertThat(DeadLetters.read(r.headers(), DeadLetters.PIPELINE)).isEqualTo("weather");
    assertThat(DeadLetters.read(r.headers(), DeadLetters.SOURCE_TOPIC)).isEqualTo("weather-events");
    assertThat(DeadLetters.read(r.headers(), DeadLetters.SOURCE_PARTITION)).isEqualTo("2");
    assertThat(DeadLetters.read(r.headers(), DeadLetters.SOURCE_OFFSET)).isEqualTo("17");
  }

  @Test
  void shouldDeadLetterAnyExceptionInTheParseStageWithTheInputBytes() {
    for (Exception e :
        List.of(
            new IllegalStateException("bug\nINFO forged"),
            new ArithmeticException("long overflow"),
            new NullPointerException(),
            new IndexOutOfBoundsException(3))) {
      ProcessingExceptionHandler.Response r =
          processing()
              .handleError(
                  new Context("parse", b("seattle"), b("{\"date\":1}")),
                  new Record<>(b("seattle"), b("{}"), 0L),
                  e);
      assertThat(r.result()).as(e.toString()).isEqualTo(ProcessingExceptionHandler.Result.RESUME);
      assertThat(r.deadLetterQueueRecords()).hasSize(1);
      ProducerRecord<byte[], byte[]> dead = r.deadLetterQueueRecords().get(0);
      assertDeadLetter(dead, "internal_error", "parse");
      assertThat(dead.key()).isEqualTo(b("seattle"));
      assertThat(dead.value()).isEqualTo(b("{\"date\":1}"));
      assertThat(DeadLetters.read(dead.headers(), DeadLetters.MESSAGE))
          .contains(e.getClass().getSimpleName())
          .doesNotContain("\n");
    }
    assertThat(counted).hasSize(4).containsOnly(Rejection.INTERNAL_ERROR);
  }

  @Test
  void shouldFailOnAnExceptionAfterTheParseStage() {
    for (String node : List.of("forecast", "forecast-json", "forecast-dead-letters-original")) {
      ProcessingExceptionHandler.Response r =
          processing()
              .handleError(
                  new Context(node, b("k"), b("v")),
                  new Record<>("k", "v", 0L),
                  new IllegalStateException("no model is serving pipeline weather"));
      assertThat(r.result()).as(node).isEqualTo(ProcessingExceptionHandler.Result.FAIL);
      assertThat(r.deadLetterQueueRecords()).isEmpty();
    }
    assertThat(counted).isEmpty();
  }

  @Test
  void shouldReplaceARecordTheBrokerRefusesAsTooLargeByABoundedDeadLetter() {
    byte[] big = new byte[2 * 1024 * 1024];
    for (Exception e :
        List.of(
            new RecordTooLargeException("too large"),
            new RecordBatchTooLargeException("batch too large"),
            new InvalidRecordException("invalid"))) {
      ProductionExceptionHandler.Response r =
          production()
              .handleError(
                  new Context("forecasts", null, null),
                  new ProducerRecord<>("weather-forecasts", b("seattle"), big),
                  e);
      assertThat(r.result()).as(e.toString()).isEqualTo(ProductionExceptionHandler.Result.RESUME);
      ProducerRecord<byte[], byte[]> dead = r.deadLetterQueueRecords().get(0);
      assertDeadLetter(dead, "too_large", "produce");
      assertThat(dead.value()).hasSize(DeadLetters.VALUE_PREFIX);
      assertThat(DeadLetters.read(dead.headers(), DeadLetters.TRUNCATED)).isEqualTo("value");
      assertThat(DeadLetters.read(dead.headers(), DeadLetters.SOURCE_VALUE_SIZE))
          .isEqualTo(Integer.toString(big.length));
    }
    assertThat(counted).hasSize(3).containsOnly(Rejection.TOO_LARGE);
  }

  @Test
  void shouldDropARefusedDeadLetterThatIsAlreadyABoundedCopy() {
    ProducerRecord<byte[], byte[]> truncated = new ProducerRecord<>(DLQ, b("k"), new byte[10]);
    truncated.headers().add(DeadLetters.TRUNCATED, b("value"));
    ProductionExceptionHandler.Response r =
        production()
            .handleError(
                new Context("parse-dead-letters", null, null),
                truncated,
                new RecordTooLargeException("still too large"));
    assertThat(r.result()).isEqualTo(ProductionExceptionHandler.Result.RESUME);
    assertThat(r.deadLetterQueueRecords()).isEmpty();
  }

  @Test
  void shouldNeverDropAStateWriteAndRetryOrFailEverythingElse() {
    ProducerRecord<byte[], byte[]> changelog =
        new ProducerRecord<>("stepcast-weather-series-state-changelog", b("k"), b("v"));
    ProducerRecord<byte[], byte[]> forecast =
        new ProducerRecord<>("weather-forecasts", b("k"), b("v"));
    Context ctx = new Context("forecasts", null, null);
    assertThat(production().handleError(ctx, changelog, new RecordTooLargeException("x")).result())
        .isEqualTo(ProductionExceptionHandler.Result.FAIL);
    assertThat(production().handleError(ctx, forecast, new TimeoutException("x")).result())
        .isEqualTo(ProductionExceptionHandler.Result.RETRY);
    assertThat(
            production().handleError(ctx, forecast, new NotEnoughReplicasException("x")).result())
        .isEqualTo(ProductionExceptionHandler.Result.RETRY);
    assertThat(
            production()
                .handleError(ctx, forecast, new TopicAuthorizationException("denied"))
                .result())
        .isEqualTo(ProductionExceptionHandler.Result.FAIL);
    assertThat(
            production()
                .handleSerializationError(
                    ctx,
                    new ProducerRecord<>("weather-forecasts", "k", "v"),
                    new SerializationException("bug"),
                    SerializationExceptionOrigin.VALUE)
                .result())
        .isEqualTo(ProductionExceptionHandler.Result.FAIL);
    assertThat(counted).isEmpty();
  }

  @Test
  void shouldDeadLetterAnUnreadableRepartitionRecord() {
    RecordErrorHandlers.Deserialization h = new RecordErrorHandlers.Deserialization();
    h.configure(configs());
    var r =
        h.handleError(
            new Context("by-series-source", null, null),
            new ConsumerRecord<>("stepcast-weather-by-series-repartition", 2, 17, b("k"), b("v")),
            new SerializationException("unknown repartition record version 9"));
    assertThat(r.result())
        .isEqualTo(org.apache.kafka.streams.errors.DeserializationExceptionHandler.Result.RESUME);
    ProducerRecord<byte[], byte[]> dead = r.deadLetterQueueRecords().get(0);
    assertDeadLetter(dead, "internal_error", "read");
    assertThat(dead.value()).isEqualTo(b("v"));
    assertThat(counted).containsExactly(Rejection.INTERNAL_ERROR);
  }

  @Test
  void shouldRefuseToStartWithoutADeadLetterTopic() {
    assertThatThrownBy(() -> new RecordErrorHandlers.Production().configure(Map.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(RecordErrorHandlers.DEAD_LETTER_TOPIC_CONFIG);
  }
}
