package io.stepcast.topology;

import io.stepcast.config.SafeText;
import io.stepcast.features.Rejection;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.errors.RecordBatchTooLargeException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProcessingExceptionHandler;
import org.apache.kafka.streams.errors.ProductionExceptionHandler;
import org.apache.kafka.streams.processor.api.Record;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The three Kafka Streams exception handlers of a forecasting topology, and what each does with
 * every class of exception. The topology itself routes every bad record it can foresee (parsing,
 * validation, late and duplicate events, oversized copies) to the dead-letter topic; these handlers
 * are the last line, for what it cannot foresee.
 *
 * <ul>
 *   <li>{@link Deserialization}: only the internal repartition topic has a serde that can fail (the
 *       input is read as bytes). An unreadable record is dead-lettered as {@code internal_error}
 *       with its bytes, and processing resumes.
 *   <li>{@link Processing}: an exception in the {@code parse} stage (stateless, one record) is
 *       dead-lettered as {@code internal_error} with the input's bytes and logged at ERROR with the
 *       stack trace: a bug met by one record must not stop every instance of the pipeline. An
 *       exception anywhere after it (the forecast stage: no model, a runtime that cannot step, a
 *       state store failure) fails the instance: these are systemic, and dead-lettering them would
 *       drain the whole input into the dead-letter topic.
 *   <li>{@link Production}: a record the producer or broker refuses as too large ({@code
 *       RecordTooLargeException}, {@code RecordBatchTooLargeException}, {@code
 *       InvalidRecordException}) is replaced by a bounded dead letter ({@code too_large}) and
 *       processing resumes, except on a changelog topic (a lost state write fails the instance). A
 *       retriable error retries the task; anything else (authorization, unknown topic) fails. Under
 *       exactly-once a refused record also aborts the transaction, which is why the topology bounds
 *       every record it writes to {@code max.request.size} beforehand and this branch is only a
 *       safety net. A serialization error is a bug in stepcast's own serdes: fail.
 * </ul>
 *
 * <p>The handlers are configured through the Kafka Streams properties (see {@link
 * ForecastTopology#streamsConfig}): {@link #PIPELINE_CONFIG}, {@link #DEAD_LETTER_TOPIC_CONFIG} and
 * optionally {@link #METRICS_CONFIG} (a {@link ForecastMetrics} object).
 */
public final class RecordErrorHandlers {
  /** Property: the pipeline's name, written into dead-letter headers. */
  public static final String PIPELINE_CONFIG = "stepcast.pipeline";

  /** Property: the dead-letter topic. */
  public static final String DEAD_LETTER_TOPIC_CONFIG = "stepcast.dead.letter.topic";

  /** Property: the {@link ForecastMetrics} that counts what the handlers dead-letter. */
  public static final String METRICS_CONFIG = "stepcast.metrics";

  private static final Logger LOG = LoggerFactory.getLogger(RecordErrorHandlers.class);

  private RecordErrorHandlers() {}

  /** Settings shared by the three handlers. */
  private abstract static class Base {
    String pipeline = "";
    String deadLetterTopic;
    ForecastMetrics metrics = ForecastMetrics.NOOP;
    int maxRecordBytes;

    public void configure(Map<String, ?> configs) {
      @SuppressWarnings("unchecked")
      Map<String, Object> all = (Map<String, Object>) configs;
      Object p = configs.get(PIPELINE_CONFIG);
      pipeline = p == null ? "" : p.toString();
      Object t = configs.get(DEAD_LETTER_TOPIC_CONFIG);
      if (t == null) {
        throw new IllegalArgumentException(
            DEAD_LETTER_TOPIC_CONFIG + " is not set: build the configuration with streamsConfig");
      }
      deadLetterTopic = t.toString();
      if (configs.get(METRICS_CONFIG) instanceof ForecastMetrics m) {
        metrics = m;
      }
      maxRecordBytes = DeadLetters.maxRecordBytes(all);
    }

    ProducerRecord<byte[], byte[]> deadLetter(
        ErrorHandlerContext ctx,
        Rejection reason,
        String stage,
        Exception e,
        byte[] key,
        byte[] value) {
      metrics.deadLetter(reason);
      return DeadLetters.record(
          deadLetterTopic,
          pipeline,
          reason,
          e.getClass().getSimpleName() + ": " + e.getMessage(),
          stage,
          ctx.topic(),
          ctx.partition(),
          ctx.offset(),
          key,
          value,
          maxRecordBytes);
    }
  }

  /** Source coordinates and processor of a failed record, safe to log. */
  private static String where(ErrorHandlerContext ctx) {
    return SafeText.of(ctx.topic())
        + "-"
        + ctx.partition()
        + "@"
        + ctx.offset()
        + " (processor "
        + SafeText.of(ctx.processorNodeId())
        + ", task "
        + ctx.taskId()
        + ")";
  }

  /** See {@link RecordErrorHandlers}: an unreadable repartition record is dead-lettered. */
  public static final class Deserialization extends Base
      implements DeserializationExceptionHandler {
    @Override
    public Response handleError(
        ErrorHandlerContext ctx, ConsumerRecord<byte[], byte[]> record, Exception e) {
      LOG.error(
          "cannot read record {}: {}; dead-lettered as internal_error",
          where(ctx),
          SafeText.of(e.toString(), DeadLetters.MAX_MESSAGE),
          e);
      return Response.resume(
          List.of(
              deadLetter(ctx, Rejection.INTERNAL_ERROR, "read", e, record.key(), record.value())));
    }
  }

  /**
   * See {@link RecordErrorHandlers}: a parse-stage exception is dead-lettered, any later one fails.
   */
  public static final class Processing extends Base implements ProcessingExceptionHandler {
    @Override
    public Response handleError(ErrorHandlerContext ctx, Record<?, ?> record, Exception e) {
      String node = ctx.processorNodeId() == null ? "" : ctx.processorNodeId();
      if (!node.startsWith("parse")) {
        LOG.error(
            "processor failed on record {}; stopping: this is not a fault of one record",
            where(ctx));
        return Response.fail();
      }
      LOG.error(
          "processor failed on record {}: {}; dead-lettered as internal_error",
          where(ctx),
          SafeText.of(e.toString(), DeadLetters.MAX_MESSAGE),
          e);
      return Response.resume(
          List.of(
              deadLetter(
                  ctx,
                  Rejection.INTERNAL_ERROR,
                  "parse",
                  e,
                  ctx.sourceRawKey(),
                  ctx.sourceRawValue())));
    }
  }

  /** See {@link RecordErrorHandlers}: a too-large record becomes a bounded dead letter. */
  public static final class Production extends Base implements ProductionExceptionHandler {
    @Override
    public Response handleError(
        ErrorHandlerContext ctx, ProducerRecord<byte[], byte[]> record, Exception e) {
      boolean tooLarge =
          e instanceof RecordTooLargeException
              || e instanceof RecordBatchTooLargeException
              || e instanceof InvalidRecordException;
      if (tooLarge && !record.topic().endsWith("-changelog")) {
        if (record.topic().equals(deadLetterTopic)
            && record.headers().lastHeader(DeadLetters.TRUNCATED) != null) {
          // Already a bounded copy and still refused: nothing smaller is worth sending.
          LOG.error(
              "dead letter for {} refused by the broker ({}); dropped",
              where(ctx),
              SafeText.of(e.getMessage(), DeadLetters.MAX_MESSAGE));
          return Response.resume();
        }
        LOG.warn(
            "record to topic {} for {} refused ({}); a bounded copy goes to the dead-letter topic",
            SafeText.of(record.topic()),
            where(ctx),
            SafeText.of(e.getMessage(), DeadLetters.MAX_MESSAGE));
        return Response.resume(
            List.of(
                deadLetter(ctx, Rejection.TOO_LARGE, "produce", e, record.key(), record.value())));
      }
      if (e instanceof RetriableException) {
        return Response.retry();
      }
      LOG.error(
          "cannot write to topic {} for {}; stopping", SafeText.of(record.topic()), where(ctx));
      return Response.fail();
    }

    @Override
    @SuppressWarnings("rawtypes") // the interface declares a raw ProducerRecord
    public Response handleSerializationError(
        ErrorHandlerContext ctx,
        ProducerRecord record,
        Exception e,
        SerializationExceptionOrigin origin) {
      LOG.error(
          "cannot serialize the {} of a record to topic {} for {}; stopping: a bug in a serde",
          origin,
          SafeText.of(record.topic()),
          where(ctx));
      return Response.fail();
    }
  }
}
