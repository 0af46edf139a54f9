package io.stepcast.serve;

import io.stepcast.testsupport.EmbeddedKafkaSupport;

/** {@link MetricsEndpointIT} on the embedded KRaft broker. */
class MetricsEndpointEmbeddedIT extends MetricsEndpointIT {
  @Override
  protected String bootstrapServers() {
    return EmbeddedKafkaSupport.cluster().bootstrapServers();
  }
}
