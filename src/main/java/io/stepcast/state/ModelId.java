package io.stepcast.state;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The compact id a series state records for the model that made it: the first 32 bits of the
 * SHA-256 of the model's version string. A pure function of the version, so it is the same on every
 * instance and after every restart, with nothing to coordinate; four bytes instead of the version
 * string in every state written.
 *
 * <p>Two versions sharing an id (a chance of about 1 in 4 billion per pair) would make a series
 * skip the burn-in for a new model; the registry serves one model at a time, so only consecutive
 * models could ever meet.
 */
public final class ModelId {
  private ModelId() {}

  /** The id of a model version. */
  public static int of(String version) {
    try {
      byte[] h =
          MessageDigest.getInstance("SHA-256").digest(version.getBytes(StandardCharsets.UTF_8));
      return (h[0] & 0xff) << 24 | (h[1] & 0xff) << 16 | (h[2] & 0xff) << 8 | (h[3] & 0xff);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JVM has no SHA-256", e);
    }
  }

  /** The id as 8 hex digits, as the state API shows it. */
  public static String hex(int id) {
    return String.format("%08x", id);
  }
}
