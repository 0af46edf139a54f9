package io.stepcast.topology;

import io.stepcast.config.TopologySpec;
import io.stepcast.features.EventParser;
import io.stepcast.features.ParseResult;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;

/**
 * First stage: parses and validates each raw record without touching state. A valid event goes on
 * keyed by its series id; an invalid one goes on as a dead letter with the original bytes, the
 * reason and where it came from; a skipped one (missing value under the skip policy) is counted.
 *
 * <p>It also decides, once per record, what travels on (see {@link DeadLetters}): input headers
 * named {@code stepcast.*} are dropped, an oversized header set is dropped, and a record too large
 * to be copied whole into a dead letter or the repartition topic travels as bounded prefixes.
 */
final class ParseProcessor implements Processor<byte[], byte[], String, Envelope> {
  private final TopologySpec spec;
  private final ForecastMetrics metrics;
  private final Envelope envelope = new Envelope();
  private EventParser parser;
  private ProcessorContext<String, Envelope> context;
  private int maxRecordBytes;

  ParseProcessor(TopologySpec spec, ForecastMetrics metrics) {
    this.spec = spec;
    this.metrics = metrics;
  }

  @Override
  public void init(ProcessorContext<String, Envelope> context) {
    this.context = context;
    this.parser = new EventParser(spec);
    this.maxRecordBytes = DeadLetters.maxRecordBytes(context.appConfigs());
  }

  @Override
  public void process(Record<byte[], byte[]> record) {
    Headers headers = record.headers();
    int headersSize = DeadLetters.cleanInputHeaders(headers);
    ParseResult r = parser.parse(record.key(), record.value());
    Envelope e = envelope.clear();
    DeadLetters.carry(
        e,
        record.key(),
        record.value(),
        headersSize,
        headersSize == 0 ? 0 : DeadLetters.sizeOf(headers),
        maxRecordBytes);
    if (DeadLetters.headersCut(e)) {
      DeadLetters.dropInputHeaders(headers);
    }
    RecordMetadata meta = context.recordMetadata().orElse(null);
    if (meta != null) {
      e.sourceTopic = meta.topic();
      e.sourcePartition = meta.partition();
      e.sourceOffset = meta.offset();
    }
    switch (r.kind()) {
      case EVENT:
        e.event = r.event();
        context.forward(record.withKey(r.event().seriesId()).withValue(e));
        break;
      case SKIPPED:
        metrics.skipped(r.reason());
        break;
      case REJECTED:
      default:
        e.reason = r.reason();
        e.message = r.message();
        e.stage = "parse";
        metrics.deadLetter(r.reason());
        DeadLetters.write(headers, spec.name(), e);
        context.forward(record.withKey((String) null).withValue(e));
        break;
    }
  }
}
