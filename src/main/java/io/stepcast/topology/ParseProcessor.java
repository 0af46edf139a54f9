package io.stepcast.topology;

import io.stepcast.config.TopologySpec;
import io.stepcast.features.EventParser;
import io.stepcast.features.ParseResult;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;

/**
 * First stage: parses and validates each raw record without touching state. A valid event goes on
 * keyed by its series id; an invalid one goes on as a dead letter with the original bytes, the
 * reason and where it came from; a skipped one (missing value under the skip policy) is counted.
 */
final class ParseProcessor implements Processor<byte[], byte[], String, Envelope> {
  private final TopologySpec spec;
  private final ForecastMetrics metrics;
  private final Envelope envelope = new Envelope();
  private EventParser parser;
  private ProcessorContext<String, Envelope> context;

  ParseProcessor(TopologySpec spec, ForecastMetrics metrics) {
    this.spec = spec;
    this.metrics = metrics;
  }

  @Override
  public void init(ProcessorContext<String, Envelope> context) {
    this.context = context;
    this.parser = new EventParser(spec);
  }

  @Override
  public void process(Record<byte[], byte[]> record) {
    ParseResult r = parser.parse(record.key(), record.value());
    Envelope e = envelope.clear();
    e.rawKey = record.key();
    e.rawValue = record.value();
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
        DeadLetters.write(record.headers(), spec.name(), e);
        context.forward(record.withKey((String) null).withValue(e));
        break;
    }
  }
}
