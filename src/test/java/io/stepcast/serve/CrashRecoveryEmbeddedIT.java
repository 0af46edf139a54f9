package io.stepcast.serve;

import io.stepcast.testsupport.EmbeddedKafkaSupport;

/** {@link CrashRecoveryIT} on the embedded KRaft broker (the killed process is a separate JVM). */
class CrashRecoveryEmbeddedIT extends CrashRecoveryIT {
  @Override
  protected String bootstrapServers() {
    return EmbeddedKafkaSupport.cluster().bootstrapServers();
  }
}
