package io.stepcast.kafka;

import io.stepcast.testsupport.EmbeddedKafkaSupport;

/** {@link ExactlyOnceStreamsIT} on the shared embedded broker. */
class ExactlyOnceStreamsEmbeddedIT extends ExactlyOnceStreamsIT {

  @Override
  protected String bootstrapServers() {
    return EmbeddedKafkaSupport.cluster().bootstrapServers();
  }
}
