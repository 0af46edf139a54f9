package io.stepcast.serve;

import io.stepcast.testsupport.EmbeddedKafkaSupport;

/** {@link HostileInputIT} on the embedded KRaft broker. */
class HostileInputEmbeddedIT extends HostileInputIT {
  @Override
  protected String bootstrapServers() {
    return EmbeddedKafkaSupport.cluster().bootstrapServers();
  }
}
