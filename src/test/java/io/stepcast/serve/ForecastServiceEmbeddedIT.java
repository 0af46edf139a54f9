package io.stepcast.serve;

import io.stepcast.testsupport.EmbeddedKafkaSupport;

/** {@link ForecastServiceIT} on the embedded KRaft broker. */
class ForecastServiceEmbeddedIT extends ForecastServiceIT {
  @Override
  protected String bootstrapServers() {
    return EmbeddedKafkaSupport.cluster().bootstrapServers();
  }
}
