package io.stepcast.cli;

/**
 * The parts of stepcast that not every installation carries, and how to tell whether this one does.
 *
 * <p>The server image holds what {@code run}, {@code replay} and {@code model} need; the trainer
 * image adds DJL and PyTorch; the launcher ({@code ./stepcast}, {@code target/lib}) has everything,
 * the embedded Kafka broker and JMH included. The commands that need a missing part are still
 * listed, and say which installation has them, rather than failing with a {@code
 * NoClassDefFoundError} (see {@link Main}). Each part is recognised by one class of its jars,
 * looked up without initialising it.
 */
enum OptionalRuntime {
  /** DJL with the PyTorch engine: {@code train} and {@code demo}. */
  TRAINER("ai.djl.pytorch.engine.PtEngine", "DJL and PyTorch", "the trainer image"),
  /** The Kafka broker itself (kafka_2.13, Scala): {@code broker}, {@code demo}, {@code bench}. */
  BROKER("kafka.server.KafkaRaftServer", "the embedded Kafka broker", "the launcher ./stepcast"),
  /** JMH: {@code bench}. */
  BENCHMARK("org.openjdk.jmh.runner.Runner", "JMH", "the launcher ./stepcast");

  private final String probeClass;
  private final String what;
  private final String where;

  OptionalRuntime(String probeClass, String what, String where) {
    this.probeClass = probeClass;
    this.what = what;
    this.where = where;
  }

  /** Whether this installation carries the part. */
  boolean present() {
    try {
      Class.forName(probeClass, false, OptionalRuntime.class.getClassLoader());
      return true;
    } catch (ClassNotFoundException | LinkageError e) {
      return false;
    }
  }

  /** What the part is, for messages ("DJL and PyTorch"). */
  String what() {
    return what;
  }

  /**
   * Fails with a one-line {@link UserException} when the part is missing.
   *
   * @param needs what needs the part and how to do without it, e.g. "run without
   *     --bootstrap-servers starts an embedded broker: set --bootstrap-servers"
   */
  void require(String needs) {
    if (!present()) {
      throw new UserException(
          needs + " (not in this installation: " + what + "; " + where + " has it)");
    }
  }
}
