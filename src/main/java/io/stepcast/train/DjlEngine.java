package io.stepcast.train;

import ai.djl.engine.Engine;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts DJL's PyTorch engine once per JVM with the settings this project relies on.
 *
 * <p>The native libraries come from the {@code pytorch-native-cpu} jar on the class path and are
 * unpacked into {@code DJL_CACHE_DIR} (default {@code ~/.djl.ai}) on the first start; nothing is
 * downloaded. Offline mode is switched on unless the caller decided otherwise, which also stops
 * DJL's telemetry call.
 */
final class DjlEngine {

  private static final Logger LOG = LoggerFactory.getLogger(DjlEngine.class);

  private static Engine engine;

  private DjlEngine() {}

  /** The PyTorch engine, started on the first call. */
  static synchronized Engine get() {
    if (engine == null) {
      // PyTorch's default of one intra-op thread per core made these small recurrent nets 20-60
      // times slower on a 2-core machine: the per-op fork/join costs more than the math.
      defaultProperty("ai.djl.pytorch.num_threads", "1");
      defaultProperty("ai.djl.pytorch.num_interop_threads", "1");
      if (System.getenv("DJL_OFFLINE") == null) {
        defaultProperty("ai.djl.offline", "true");
      }
      if (System.getenv("OPT_OUT_TRACKING") == null) {
        defaultProperty("OPT_OUT_TRACKING", "true");
      }
      long start = System.nanoTime();
      engine = Engine.getEngine("PyTorch");
      LOG.info(
          "PyTorch {} engine started in {} ms",
          engine.getVersion(),
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
    }
    return engine;
  }

  private static void defaultProperty(String key, String value) {
    if (System.getProperty(key) == null) {
      System.setProperty(key, value);
    }
  }
}
