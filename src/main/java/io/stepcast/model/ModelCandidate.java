package io.stepcast.model;

import java.io.IOException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Comparator;
import java.util.Map;

/**
 * One model a source offers the registry: a file of the model directory or a record of the model
 * topic, with what ranks it (the version and creation time of its spec, read without ONNX Runtime)
 * or, when even that cannot be read, the problem.
 *
 * <p>The precedence, the same on every instance: the newer {@link #createdAt} wins, then the
 * greater version string. A spec without a (parsable) {@code createdAt} ranks as created at the
 * epoch.
 *
 * @param origin which source offers it
 * @param source where it is, for logs and refusals (a path, or topic/partition@offset)
 * @param identity what makes it this candidate and no other (a refusal is remembered by it)
 * @param version the spec's version, null when {@code problem} is set
 * @param createdAt the spec's creation time, the epoch when missing
 * @param problem why it cannot be a model at all, or null
 * @param loader reads its bytes when the registry tries it
 */
public record ModelCandidate(
    Origin origin,
    String source,
    String identity,
    String version,
    Instant createdAt,
    String problem,
    Loader loader) {

  /**
   * Largest model a source reads (a file's size is checked before reading it): the model topic's
   * {@code max.message.bytes} and the model producer's {@code max.request.size} derive from it.
   */
  public static final int MAX_MODEL_BYTES = 32 * 1024 * 1024;

  /** Where a candidate comes from. */
  public enum Origin {
    DIRECTORY,
    TOPIC;

    /** The lowercase name used in metrics and health. */
    public String id() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /** Reads a candidate's bytes (again) when it is tried. */
  @FunctionalInterface
  public interface Loader {
    /** The model's bytes. */
    byte[] bytes() throws IOException;
  }

  /** Oldest first: creation time, then version. Problem candidates are not ranked. */
  public static final Comparator<ModelCandidate> PRECEDENCE =
      Comparator.<ModelCandidate, Instant>comparing(ModelCandidate::createdAt)
          .thenComparing(
              ModelCandidate::version, Comparator.<String>nullsFirst(Comparator.naturalOrder()));

  /** A candidate ranked from its bytes; one whose spec cannot be read carries the problem. */
  public static ModelCandidate of(
      Origin origin, String source, String identity, byte[] onnx, Loader loader) {
    try {
      Map<String, String> meta = OnnxMetadata.read(onnx);
      String json = meta.get(ModelSpec.METADATA_KEY);
      if (json == null || json.isBlank()) {
        return refused(
            origin,
            source,
            identity,
            "model metadata has no '"
                + ModelSpec.METADATA_KEY
                + "' entry: not a stepcast step model (export it with its spec in metadata_props)");
      }
      ModelSpec spec = ModelSpec.fromJson(json);
      return new ModelCandidate(
          origin, source, identity, spec.version(), createdAt(spec.createdAt()), null, loader);
    } catch (ModelException | IllegalArgumentException e) {
      return refused(origin, source, identity, e.getMessage());
    }
  }

  /** A candidate that cannot be served, with the reason. */
  public static ModelCandidate refused(
      Origin origin, String source, String identity, String problem) {
    return new ModelCandidate(origin, source, identity, null, Instant.EPOCH, problem, null);
  }

  /** A spec's creation time; the epoch when missing or not ISO-8601. */
  public static Instant createdAt(String iso) {
    if (iso == null || iso.isBlank()) {
      return Instant.EPOCH;
    }
    try {
      return Instant.parse(iso);
    } catch (DateTimeParseException e) {
      try {
        return OffsetDateTime.parse(iso).toInstant();
      } catch (DateTimeParseException e2) {
        return Instant.EPOCH;
      }
    }
  }

  /** Whether this candidate ranks above {@code other} (null ranks below everything). */
  public boolean newerThan(ModelCandidate other) {
    return other == null || PRECEDENCE.compare(this, other) > 0;
  }
}
