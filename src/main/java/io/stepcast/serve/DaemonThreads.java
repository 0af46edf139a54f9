package io.stepcast.serve;

import java.util.concurrent.ThreadFactory;

/** Named daemon threads for the serving side's small pools: they never keep the JVM alive. */
final class DaemonThreads {
  private DaemonThreads() {}

  /** A factory whose threads are daemons named {@code name}. */
  static ThreadFactory named(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }
}
