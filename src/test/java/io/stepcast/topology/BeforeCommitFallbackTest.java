package io.stepcast.topology;

import static org.assertj.core.api.Assertions.assertThat;

import io.stepcast.config.SpecLoader;
import io.stepcast.config.TopologySpec;
import io.stepcast.features.EventParser;
import io.stepcast.model.ExecutionConfig;
import io.stepcast.model.ModelRegistry;
import io.stepcast.serve.ModelSources;
import io.stepcast.state.SeriesStateSerde;
import io.stepcast.train.PipelineModels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;
import org.junit.jupiter.api.Test;

/**
 * Batching is on by default, but it needs {@link BeforeCommit}'s hook into Kafka Streams' commit.
 * Where the hook is unavailable (here: a processor context that is not Kafka Streams' internal one,
 * as a future Kafka could give), the processor must step and forward every event at once instead of
 * holding events back for a commit that would never step them.
 */
class BeforeCommitFallbackTest {

  @Test
  void shouldStepEveryEventAtOnceWhenTheCommitHookIsUnavailable() {
    TopologySpec spec = SpecLoader.load(Path.of("topologies/weather.yaml"), Map.of());
    assertThat(spec.processing().batchSize()).as("batching on by default").isGreaterThan(1);
    assertThat(BeforeCommit.install(new MockProcessorContext<>(), () -> {})).isNull();

    MockProcessorContext<String, Envelope> context = new MockProcessorContext<>();
    add(
        context,
        Stores.keyValueStoreBuilder(
            Stores.inMemoryKeyValueStore(ForecastTopology.STATE_STORE),
            Serdes.String(),
            new SeriesStateSerde()));
    add(
        context,
        Stores.keyValueStoreBuilder(
            Stores.inMemoryKeyValueStore(ForecastTopology.RECENT_STORE),
            Serdes.Bytes(),
            Serdes.ByteArray()));
    add(
        context,
        Stores.keyValueStoreBuilder(
            Stores.inMemoryKeyValueStore(ForecastTopology.COUNT_STORE),
            Serdes.String(),
            Serdes.Long()));
    add(
        context,
        Stores.keyValueStoreBuilder(
            Stores.inMemoryKeyValueStore(BeforeCommit.STORE), Serdes.String(), Serdes.Integer()));

    BeforeCommitEmbeddedIT.Batches steps = new BeforeCommitEmbeddedIT.Batches();
    EventParser parser = new EventParser(spec);
    try (ModelRegistry registry =
        ModelSources.registry(spec, ExecutionConfig.cpu(), ModelRegistry.Listener.NONE)) {
      registry.offer(PipelineModels.fixed(spec, 3), "test");
      ForecastProcessor processor = new ForecastProcessor(spec, registry, steps);
      processor.init(context);
      int sent = 0;
      for (int h = 1; h <= 4; h++) {
        for (String id : List.of("a", "b", "c")) {
          Envelope e = new Envelope();
          e.event =
              parser
                  .parse(
                      id.getBytes(StandardCharsets.UTF_8),
                      String.format(
                              Locale.ROOT,
                              "{\"date\":\"2010-01-01T%02d:00:00\",\"pressure\":1016.5,"
                                  + "\"temperature\":%.1f,\"wind\":3.5}",
                              h,
                              3.0 + h + id.charAt(0) % 5)
                          .getBytes(StandardCharsets.UTF_8))
                  .event()
                  .copy();
          processor.process(new Record<>(id, e, 0L));
          sent++;
          assertThat(context.forwarded())
              .as("forecasts forwarded after %s@%d", id, h)
              .hasSize(sent);
          assertThat(context.forwarded().get(sent - 1).record().value().forecast).isNotNull();
        }
      }
      processor.close();
    }
    assertThat(steps.sizes).hasSize(12).containsOnly(1);
  }

  private static void add(
      MockProcessorContext<String, Envelope> context, StoreBuilder<? extends StateStore> builder) {
    StateStore store = builder.withLoggingDisabled().build();
    store.init(context.getStateStoreContext(), store);
    context.addStateStore(store);
  }
}
