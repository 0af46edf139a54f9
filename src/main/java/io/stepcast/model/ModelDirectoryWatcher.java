package io.stepcast.model;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Offers every {@code *.onnx} file of a directory to the registry as a candidate, at start and
 * whenever the directory changes (polled: inotify does not see files written through a Kubernetes
 * volume or NFS). The registry serves the highest-ranked valid one. Write models atomically (to a
 * temporary name, then rename), as {@code stepcast train --publish} does.
 *
 * <p>It cannot die: a file larger than {@link ModelCandidate#MAX_MODEL_BYTES} is refused by its
 * size without being read, reads are bounded, and any failure of a scan is counted in its {@link
 * SourceHealth}, logged once per distinct reason and retried on the next poll.
 */
public final class ModelDirectoryWatcher implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ModelDirectoryWatcher.class);

  private final Path dir;
  private final ModelRegistry registry;
  private final SourceHealth health;
  private final ScheduledExecutorService timer;
  // Ranked candidates by identity (path, size, modification time): a file is read once per change.
  private Map<String, ModelCandidate> known = new HashMap<>();
  private boolean offered;
  private boolean missingLogged;

  public ModelDirectoryWatcher(Path dir, ModelRegistry registry, long pollIntervalMs) {
    this.dir = dir;
    this.registry = registry;
    this.health =
        registry.source(ModelCandidate.Origin.DIRECTORY, Math.max(60_000, 10 * pollIntervalMs));
    this.timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "stepcast-model-dir");
              t.setDaemon(true);
              return t;
            });
    scan();
    timer.scheduleWithFixedDelay(this::scan, pollIntervalMs, pollIntervalMs, TimeUnit.MILLISECONDS);
  }

  /**
   * The highest-ranked model file of a directory whose spec can be read (the one a running instance
   * tries first), if any.
   */
  public static Optional<Path> newest(Path dir) throws IOException {
    ModelCandidate best = null;
    for (ModelCandidate c : list(dir, Map.of()).values()) {
      if (c.problem() == null && c.newerThan(best)) {
        best = c;
      }
    }
    return best == null ? Optional.empty() : Optional.of(Path.of(best.source()));
  }

  /** The candidates of a directory by identity, reusing those already ranked in {@code known}. */
  private static Map<String, ModelCandidate> list(Path dir, Map<String, ModelCandidate> known)
      throws IOException {
    Map<String, ModelCandidate> out = new HashMap<>();
    if (!Files.isDirectory(dir)) {
      return out;
    }
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*.onnx")) {
      for (Path p : files) {
        BasicFileAttributes a;
        try {
          a = Files.readAttributes(p, BasicFileAttributes.class);
        } catch (IOException e) {
          continue; // gone between listing and reading: the next scan sees the directory as it is
        }
        if (!a.isRegularFile()) {
          continue;
        }
        String identity = p + "|" + a.size() + "|" + a.lastModifiedTime().toMillis();
        ModelCandidate c = known.get(identity);
        out.put(identity, c != null ? c : rank(p, identity, a.size()));
      }
    }
    return out;
  }

  private static ModelCandidate rank(Path p, String identity, long size) {
    ModelCandidate.Origin o = ModelCandidate.Origin.DIRECTORY;
    if (size > ModelCandidate.MAX_MODEL_BYTES) {
      return ModelCandidate.refused(
          o,
          p.toString(),
          identity,
          "the file is "
              + size
              + " bytes, more than the limit of "
              + ModelCandidate.MAX_MODEL_BYTES
              + " bytes for a model: not read");
    }
    try {
      return ModelCandidate.of(o, p.toString(), identity, read(p), () -> read(p));
    } catch (IOException e) {
      return ModelCandidate.refused(o, p.toString(), identity, "cannot read it: " + e);
    }
  }

  /** Reads a model file, never more than the limit (the file may grow after its size was read). */
  static byte[] read(Path p) throws IOException {
    try (InputStream in = Files.newInputStream(p)) {
      byte[] b = in.readNBytes(ModelCandidate.MAX_MODEL_BYTES + 1);
      if (b.length > ModelCandidate.MAX_MODEL_BYTES) {
        throw new IOException(
            "more than the limit of " + ModelCandidate.MAX_MODEL_BYTES + " bytes for a model");
      }
      return b;
    }
  }

  synchronized void scan() {
    try {
      if (!Files.isDirectory(dir)) {
        if (!missingLogged) {
          LOG.warn("model directory {} does not exist (yet): no models from it", dir);
          missingLogged = true;
        }
      } else {
        missingLogged = false;
      }
      Map<String, ModelCandidate> now = list(dir, known);
      boolean changed = !now.keySet().equals(known.keySet());
      known = now;
      if (changed || !offered || registry.waitingForSources()) {
        offered = false; // until the registry has taken the list without throwing
        registry.candidates(ModelCandidate.Origin.DIRECTORY, new ArrayList<>(now.values()));
        offered = true;
      }
      health.success();
    } catch (Throwable t) { // NOPMD: a scheduled task that throws is cancelled for good
      if (health.failure(t)) {
        LOG.warn("scanning model directory {} failed (retrying every poll): {}", dir, t.toString());
      }
    }
  }

  /** The health of this source. */
  public SourceHealth health() {
    return health;
  }

  @Override
  public void close() {
    timer.shutdownNow();
    health.close();
  }
}
