package io.stepcast.train;

import io.stepcast.model.CellType;
import io.stepcast.model.RnnWeights;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * A small seeded training whose weights' SHA-256 a test compares between two JVMs: run as a main
 * class, it prints the fingerprint of one training.
 */
final class TrainerFingerprint {

  private static final String PREFIX = "fingerprint ";

  private TrainerFingerprint() {}

  /** Heavy-tailed returns, one series: what once diverged (GRU 8, huber, chunk 128). */
  static List<SeriesData> series() {
    Random r = new Random(1);
    int n = 600;
    double[] v = new double[n + 1];
    double vol = 0.01;
    double prev = 0;
    for (int t = 0; t <= n; t++) {
      vol = Math.sqrt(0.000002 + 0.9 * vol * vol + 0.08 * prev * prev);
      double e = r.nextGaussian();
      prev = vol * (r.nextDouble() < 0.01 ? 8 * e : e);
      v[t] = prev;
    }
    float[][] x = new float[n][];
    float[][] y = new float[n][];
    for (int t = 0; t < n; t++) {
      x[t] = new float[] {(float) v[t]};
      y[t] = new float[] {(float) v[t + 1]};
    }
    List<SeriesData> out = new ArrayList<>();
    out.add(new SeriesData("returns", x, y));
    return out;
  }

  static TrainConfig config() {
    return TrainConfig.defaults()
        .withCell(CellType.GRU)
        .withHiddenSize(8)
        .withLoss(TrainConfig.Loss.HUBER)
        .withChunkLength(128)
        .withLearningRate(0.01)
        .withMaxEpochs(4)
        .withSeed(42);
  }

  /** SHA-256 of every weight's bits, in order. */
  static String of(RnnWeights w) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      List<float[]> all = new ArrayList<>();
      for (float[][] group : List.of(w.wIh(), w.wHh(), w.bIh(), w.bHh())) {
        all.addAll(List.of(group));
      }
      all.add(w.wOut());
      all.add(w.bOut());
      all.add(w.xMean());
      all.add(w.xStd());
      for (float[] a : all) {
        ByteBuffer b = ByteBuffer.allocate(4 * a.length);
        for (float f : a) {
          b.putInt(Float.floatToRawIntBits(f));
        }
        md.update(b.array());
      }
      return HexFormat.of().formatHex(md.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Runs {@link #main} in a new JVM on this JVM's class path; returns what it printed last. */
  static String inChildJvm() throws IOException, InterruptedException {
    String classPath =
        System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    Process p =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m",
                "-Dai.djl.pytorch.num_threads=1",
                "-Dai.djl.pytorch.num_interop_threads=1",
                "-cp",
                classPath,
                TrainerFingerprint.class.getName())
            .redirectErrorStream(true)
            .start();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(5, TimeUnit.MINUTES) || p.exitValue() != 0) {
      throw new IllegalStateException(
          "the child JVM failed: " + new String(out, StandardCharsets.UTF_8));
    }
    return new String(out, StandardCharsets.UTF_8)
        .lines()
        .filter(l -> l.startsWith(PREFIX))
        .map(l -> l.substring(PREFIX.length()).strip())
        .reduce((a, b) -> b)
        .orElseThrow(
            () ->
                new IllegalStateException(
                    "no fingerprint in: " + new String(out, StandardCharsets.UTF_8)));
  }

  public static void main(String[] args) {
    RnnWeights w = new RnnTrainer().train(series(), config(), TrainingListener.NONE).weights();
    System.out.println(PREFIX + of(w));
  }
}
