package io.stepcast.model;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Comparator;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Offers the newest {@code *.onnx} file of a directory to the registry, at start and whenever it
 * changes (polled: inotify does not see files written through a Kubernetes volume or NFS). Write
 * models atomically (to a temporary name, then rename), as {@code stepcast train --publish} does.
 */
public final class ModelDirectoryWatcher implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ModelDirectoryWatcher.class);

  private final Path dir;
  private final ModelRegistry registry;
  private final ScheduledExecutorService timer;
  private Path lastPath;
  private FileTime lastModified;

  public ModelDirectoryWatcher(Path dir, ModelRegistry registry, long pollIntervalMs) {
    this.dir = dir;
    this.registry = registry;
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

  /** The newest model file of a directory, if any. */
  public static Optional<Path> newest(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return Optional.empty();
    }
    try (Stream<Path> files = Files.list(dir)) {
      return files
          .filter(p -> p.getFileName().toString().endsWith(".onnx") && Files.isRegularFile(p))
          .max(Comparator.comparing(ModelDirectoryWatcher::modified).thenComparing(Path::toString));
    }
  }

  private static FileTime modified(Path p) {
    try {
      return Files.getLastModifiedTime(p);
    } catch (IOException e) {
      return FileTime.fromMillis(0);
    }
  }

  synchronized void scan() {
    try {
      Optional<Path> newest = newest(dir);
      if (newest.isEmpty()) {
        return;
      }
      Path p = newest.get();
      FileTime m = modified(p);
      if (p.equals(lastPath) && m.equals(lastModified)) {
        return;
      }
      lastPath = p;
      lastModified = m;
      registry.offer(Files.readAllBytes(p), p.toString());
    } catch (IOException | RuntimeException e) {
      LOG.warn("scanning model directory {} failed: {}", dir, e.toString());
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
