package io.stepcast.features;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import io.stepcast.config.SafeText;
import io.stepcast.config.TopologySpec;
import io.stepcast.config.TopologySpec.MissingPolicy;
import io.stepcast.config.TopologySpec.SeriesIdSource;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.text.Normalizer;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Parses and validates one JSON event against a topology spec, with a streaming parser that reads
 * only the fields the pipeline uses. Not thread-safe: each stream task owns one, and the returned
 * {@link ParseResult} is reused by the next call.
 *
 * <p>Rules: the value must be a JSON object without repeated field names (at any depth, nested at
 * most {@value #MAX_DEPTH} levels); the timestamp, the target and (when the series id comes from a
 * field) the id must be present; numeric fields must be JSON numbers, finite and within float32
 * range (the model's input type), and within their spec's {@code min}/{@code max}; the event time
 * must lie between {@code timestamp.earliest} and {@code timestamp.maxAhead} past the clock. The
 * series id follows {@link #isValidId}. A missing input field or target follows the spec's
 * missing-value policy: {@code reject} rejects, {@code skip} skips the event, {@code carry_forward}
 * leaves the input NaN for the caller to fill from the series' last value (a missing target is
 * skipped: a target cannot be carried forward honestly).
 */
public final class EventParser {
  /** Longest accepted series id, in UTF-8 bytes. */
  public static final int MAX_ID_BYTES = 256;

  private static final int SLOT_ID = -1;
  private static final int SLOT_TIME = -2;
  private static final int SLOT_TARGET = -3;

  /** Deepest JSON nesting read; deeper is malformed (and cannot exhaust the stack). */
  public static final int MAX_DEPTH = 64;

  // The fast double parser (FastDoubleParser) reads the same value as Double.parseDouble.
  private static final JsonFactory JSON =
      JsonFactory.builder()
          .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
          .enable(StreamReadFeature.USE_FAST_DOUBLE_PARSER)
          // A repeated field name is ambiguous (which "date" counts?): the record is malformed.
          .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
          .streamReadConstraints(
              StreamReadConstraints.builder()
                  .maxNestingDepth(MAX_DEPTH)
                  .maxNumberLength(1000)
                  .build())
          .build();

  private final TopologySpec spec;
  private final TimeParser time;
  private final List<String> inputFields;
  private final Map<String, Integer> slots = new HashMap<>();
  private final boolean idFromField;
  private final MissingPolicy missing;
  private final boolean positiveTarget;
  private final CharsetDecoder utf8 =
      StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT);
  private final ParseResult result;
  private final Event event;
  private final boolean[] seen;
  private final double[] min;
  private final double[] max;
  private final double targetMin;
  private final double targetMax;
  private final int alsoFrom;
  private final boolean[] positive;
  private final long earliest;
  private final long maxAhead;
  private final LongSupplier clock;
  private final FlatEventScanner flat;
  private final boolean fastPath;
  private String idRead;
  private boolean timeSeen;
  private boolean targetSeen;

  /** A parser whose time window follows the system clock. */
  public EventParser(TopologySpec spec) {
    this(spec, System::currentTimeMillis);
  }

  /**
   * A parser whose time window ({@code timestamp.maxAhead}) follows {@code clock}, in epoch
   * milliseconds.
   */
  public EventParser(TopologySpec spec, LongSupplier clock) {
    this(spec, clock, true);
  }

  /** The field slot that carries the target's level as a feature, or -1. */
  private final int targetLevelSlot;

  /** With {@code fastPath} false, every value goes through the full parser (tests compare). */
  EventParser(TopologySpec spec, LongSupplier clock, boolean fastPath) {
    this.fastPath = fastPath;
    this.spec = spec;
    this.clock = clock;
    this.time = new TimeParser(spec.timestamp());
    this.earliest = spec.timestamp().earliestMillis();
    this.maxAhead = spec.timestamp().maxAheadMillis();
    this.targetMin = bound(spec.target().min(), Double.NEGATIVE_INFINITY);
    this.targetMax = bound(spec.target().max(), Double.POSITIVE_INFINITY);
    this.inputFields = FeaturePipeline.inputFields(spec);
    this.idFromField = spec.seriesId().from() == SeriesIdSource.FIELD;
    this.missing = spec.policies().missing();
    this.positiveTarget = spec.target().transform() == TopologySpec.TargetTransform.LOG_RETURN;
    for (int i = 0; i < inputFields.size(); i++) {
      slots.put(inputFields.get(i), i);
    }
    // A differenced target may also be a feature (its level): that slot copies the target.
    Integer level = slots.get(spec.target().field());
    this.targetLevelSlot = level == null ? -1 : level;
    slots.put(spec.target().field(), SLOT_TARGET);
    slots.put(spec.timestamp().field(), SLOT_TIME);
    if (idFromField) {
      slots.put(spec.seriesId().field(), SLOT_ID);
    }
    this.event = new Event(inputFields.size());
    this.result = new ParseResult(event);
    this.seen = new boolean[inputFields.size()];
    String[] names = slots.keySet().toArray(new String[0]);
    int[] slotOfName = new int[names.length];
    for (int i = 0; i < names.length; i++) {
      slotOfName[i] = slots.get(names[i]);
    }
    this.flat =
        new FlatEventScanner(names, slotOfName, SLOT_ID, SLOT_TIME, SLOT_TARGET, time, event, seen);
    this.min = new double[inputFields.size()];
    this.max = new double[inputFields.size()];
    Arrays.fill(min, Double.NEGATIVE_INFINITY);
    Arrays.fill(max, Double.POSITIVE_INFINITY);
    if (spec.features() != null) {
      for (TopologySpec.Feature f : spec.features()) {
        Integer slot = f.field() == null ? null : slots.get(f.field());
        if (slot != null && slot >= 0) {
          min[slot] = bound(f.min(), Double.NEGATIVE_INFINITY);
          max[slot] = bound(f.max(), Double.POSITIVE_INFINITY);
        }
      }
    }
    // Further targets (target.also) are the last fields: missing, they are treated as the target
    // is (never carried forward), and log_return needs them positive.
    List<TopologySpec.AlsoTarget> also = spec.target().also();
    this.alsoFrom = inputFields.size() - also.size();
    this.positive = new boolean[inputFields.size()];
    for (int j = 0; j < also.size(); j++) {
      TopologySpec.AlsoTarget a = also.get(j);
      min[alsoFrom + j] = bound(a.min(), Double.NEGATIVE_INFINITY);
      max[alsoFrom + j] = bound(a.max(), Double.POSITIVE_INFINITY);
      positive[alsoFrom + j] = a.transformOrNone() == TopologySpec.TargetTransform.LOG_RETURN;
    }
  }

  private static double bound(Double v, double absent) {
    return v == null ? absent : v;
  }

  /** The numeric input fields this parser reads (besides the target), in feature order. */
  public List<String> inputFields() {
    return inputFields;
  }

  /** Parses a record's key and value bytes. */
  public ParseResult parse(byte[] key, byte[] value) {
    String id = null;
    if (!idFromField) {
      id = keyToId(key);
      if (id == null) {
        return result.reject(Rejection.BAD_KEY, keyProblem(key));
      }
    }
    if (value == null || value.length == 0) {
      return result.reject(Rejection.MALFORMED_JSON, "the record value is empty (a tombstone?)");
    }
    reset();
    if (fastPath && flat.scan(value)) {
      if (idFromField) {
        id = flat.id;
      }
      timeSeen = flat.timeSeen;
      targetSeen = flat.targetSeen;
    } else {
      // Anything the fast path declines (nesting, escapes, errors, ...): the full parser decides.
      reset();
      ParseResult rejected = readJson(value);
      if (rejected != null) {
        return rejected;
      }
      if (idFromField) {
        id = idRead;
      }
    }
    if (id == null) {
      return result.reject(
          Rejection.MISSING_FIELD, "series id field '" + spec.seriesId().field() + "' is missing");
    }
    if (!timeSeen) {
      return result.reject(
          Rejection.MISSING_FIELD, "timestamp field '" + spec.timestamp().field() + "' is missing");
    }
    long now = clock.getAsLong();
    long latest = now > Long.MAX_VALUE - maxAhead ? Long.MAX_VALUE : now + maxAhead;
    if (event.timeMillis < earliest || event.timeMillis > latest) {
      return result.reject(
          Rejection.OUT_OF_RANGE,
          "event time "
              + Instant.ofEpochMilli(event.timeMillis)
              + (event.timeMillis < earliest
                  ? " is before timestamp.earliest " + spec.timestamp().earliest()
                  : " is more than timestamp.maxAhead "
                      + spec.timestamp().maxAhead()
                      + " ahead of this instance's clock "
                      + Instant.ofEpochMilli(now)));
    }
    event.seriesId = id;
    if (!targetSeen) {
      String msg = "target field '" + spec.target().field() + "' is missing";
      return missing == MissingPolicy.REJECT
          ? result.reject(Rejection.MISSING_FIELD, msg)
          : result.skip(Rejection.MISSING_FIELD, msg);
    }
    if (targetLevelSlot >= 0) {
      event.fields[targetLevelSlot] = event.target;
      seen[targetLevelSlot] = true;
    }
    for (int i = alsoFrom; i < seen.length; i++) {
      if (!seen[i]) {
        String msg = "target field '" + inputFields.get(i) + "' is missing";
        return missing == MissingPolicy.REJECT
            ? result.reject(Rejection.MISSING_FIELD, msg)
            : result.skip(Rejection.MISSING_FIELD, msg);
      }
    }
    // Ranges after the types: a record with a string where a number belongs is non_numeric,
    // whatever its other values.
    if (event.target < targetMin || event.target > targetMax) {
      return outOfRange(spec.target().field(), event.target, targetMin, targetMax);
    }
    for (int i = 0; i < seen.length; i++) {
      double d = event.fields[i];
      if (seen[i] && (d < min[i] || d > max[i])) {
        return outOfRange(inputFields.get(i), d, min[i], max[i]);
      }
    }
    if (positiveTarget && event.target <= 0) {
      return result.reject(
          Rejection.NOT_POSITIVE,
          "target field '"
              + spec.target().field()
              + "' is "
              + event.target
              + ", but log_return needs positive values");
    }
    for (int i = alsoFrom; i < seen.length; i++) {
      if (positive[i] && event.fields[i] <= 0) {
        return result.reject(
            Rejection.NOT_POSITIVE,
            "target field '"
                + inputFields.get(i)
                + "' is "
                + event.fields[i]
                + ", but log_return needs positive values");
      }
    }
    if (missing != MissingPolicy.CARRY_FORWARD) {
      for (int i = 0; i < seen.length; i++) {
        if (!seen[i]) {
          String msg = "field '" + inputFields.get(i) + "' is missing";
          return missing == MissingPolicy.REJECT
              ? result.reject(Rejection.MISSING_FIELD, msg)
              : result.skip(Rejection.MISSING_FIELD, msg);
        }
      }
    }
    return result.ok();
  }

  private void reset() {
    Arrays.fill(event.fields, Double.NaN);
    Arrays.fill(seen, false);
    event.target = Double.NaN;
    idRead = null;
    timeSeen = false;
    targetSeen = false;
  }

  /**
   * The full parser (Jackson's streaming parser): reads any JSON and gives every rejection its
   * reason. Returns null when the value was read into the event, {@link #idRead}, {@link #timeSeen}
   * and {@link #targetSeen}, else the rejection.
   */
  private ParseResult readJson(byte[] value) {
    try (JsonParser p = JSON.createParser(value)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        return result.reject(Rejection.MALFORMED_JSON, "the value is not a JSON object");
      }
      JsonToken tok;
      while ((tok = p.nextToken()) == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        JsonToken v = p.nextToken();
        Integer slot = slots.get(name);
        if (slot == null) {
          p.skipChildren();
          continue;
        }
        int s = slot;
        if (s == SLOT_ID) {
          if (v == JsonToken.VALUE_STRING || v == JsonToken.VALUE_NUMBER_INT) {
            idRead = p.getText();
            if (!isValidId(idRead)) {
              return result.reject(
                  Rejection.BAD_KEY,
                  "series id field '"
                      + name
                      + "' value '"
                      + SafeText.of(idRead)
                      + "' breaks the id rule: 1 to "
                      + MAX_ID_BYTES
                      + " UTF-8 bytes, NFC, no control, format or separator characters");
            }
          } else if (v != JsonToken.VALUE_NULL) {
            return result.reject(
                Rejection.BAD_KEY,
                "series id field '" + name + "' is " + describe(v) + ", not a string");
          }
        } else if (s == SLOT_TIME) {
          if (v == JsonToken.VALUE_NULL) {
            continue;
          }
          if (v == JsonToken.VALUE_STRING) {
            String text = p.getText();
            try {
              event.timeMillis = time.parse(text);
            } catch (DateTimeParseException e) {
              return result.reject(
                  Rejection.BAD_TIMESTAMP,
                  "timestamp field '"
                      + name
                      + "' value '"
                      + SafeText.of(text)
                      + "' is not in the "
                      + spec.timestamp().format().name().toLowerCase()
                      + " format");
            } catch (DateTimeException e) {
              return result.reject(
                  Rejection.OUT_OF_RANGE,
                  "timestamp field '"
                      + name
                      + "' value '"
                      + SafeText.of(text)
                      + "' is beyond the range of epoch milliseconds");
            }
          } else if (v == JsonToken.VALUE_NUMBER_INT) {
            if (p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
              return result.reject(
                  Rejection.OUT_OF_RANGE,
                  "timestamp field '"
                      + name
                      + "' value "
                      + SafeText.of(p.getText())
                      + " is beyond the range of epoch milliseconds");
            }
            event.timeMillis = p.getLongValue();
          } else {
            return result.reject(
                Rejection.BAD_TIMESTAMP, "timestamp field '" + name + "' is " + describe(v));
          }
          timeSeen = true;
        } else {
          if (v == JsonToken.VALUE_NULL) {
            continue;
          }
          if (v != JsonToken.VALUE_NUMBER_INT && v != JsonToken.VALUE_NUMBER_FLOAT) {
            if (v == JsonToken.VALUE_STRING && isNonFiniteWord(p.getText())) {
              return result.reject(
                  Rejection.NOT_FINITE, "field '" + name + "' is " + SafeText.of(p.getText()));
            }
            return result.reject(
                Rejection.NON_NUMERIC, "field '" + name + "' is " + describe(v) + ", not a number");
          }
          double d = p.getDoubleValue();
          // Beyond float32 the model's input would be infinite: as unusable as NaN.
          if (!(Math.abs(d) <= Float.MAX_VALUE)) {
            return result.reject(
                Rejection.NOT_FINITE,
                "field '"
                    + name
                    + "' is "
                    + SafeText.of(p.getText())
                    + (Double.isFinite(d) ? ", beyond float32 range" : ""));
          }
          if (s == SLOT_TARGET) {
            event.target = d;
            targetSeen = true;
          } else {
            event.fields[s] = d;
            seen[s] = true;
          }
        }
      }
      if (tok != JsonToken.END_OBJECT) {
        return result.reject(Rejection.MALFORMED_JSON, "the JSON object is not well formed");
      }
      if (p.nextToken() != null) {
        return result.reject(Rejection.MALFORMED_JSON, "trailing content after the JSON object");
      }
    } catch (IOException e) {
      return result.reject(
          Rejection.MALFORMED_JSON, "not valid JSON: " + SafeText.of(firstLine(e), 200));
    }
    return null;
  }

  private ParseResult outOfRange(String field, double v, double lo, double hi) {
    return result.reject(
        Rejection.OUT_OF_RANGE,
        "field '" + field + "' is " + v + ", outside its range [" + lo + ", " + hi + "]");
  }

  private String keyToId(byte[] key) {
    if (key == null || key.length == 0 || key.length > MAX_ID_BYTES) {
      return null;
    }
    if (printableAscii(key)) {
      // Valid UTF-8, NFC and free of controls by construction: the id rule holds, and the string
      // is made without a decoder's buffers.
      return new String(key, StandardCharsets.ISO_8859_1);
    }
    try {
      String s = utf8.decode(ByteBuffer.wrap(key)).toString();
      return isValidId(s) ? s : null;
    } catch (CharacterCodingException e) {
      return null;
    }
  }

  private static boolean printableAscii(byte[] key) {
    for (byte b : key) {
      if (b < 0x20 || b == 0x7f) {
        return false; // controls, and (as negative bytes) everything beyond ASCII
      }
    }
    return true;
  }

  private static String keyProblem(byte[] key) {
    if (key == null) {
      return "the record has no key, but the spec takes the series id from the key";
    }
    if (key.length == 0) {
      return "the record key is empty";
    }
    if (key.length > MAX_ID_BYTES) {
      return "the record key is " + key.length + " bytes, more than " + MAX_ID_BYTES;
    }
    return "the record key breaks the id rule: valid UTF-8, NFC, no control, format or separator"
        + " characters";
  }

  /**
   * The series id rule, for record keys and id fields alike: 1 to {@value #MAX_ID_BYTES} bytes of
   * UTF-8 in Unicode normal form NFC, with no character of category Cc (controls), Cf (format: BOM,
   * zero-width, bidi overrides), Cs (lone surrogates), Zl or Zp (line and paragraph separators).
   * Look-alike ids (a BOM in front, a zero-width space inside, a decomposed accent) are rejected
   * rather than silently normalised, so one series never hides behind two keys.
   */
  public static boolean isValidId(String id) {
    if (id.isEmpty() || id.length() > MAX_ID_BYTES) {
      return false;
    }
    boolean ascii = true;
    for (int i = 0; i < id.length(); i++) {
      char c = id.charAt(i);
      if (c < 0x80) {
        if (c < 0x20 || c == 0x7f) {
          return false;
        }
        continue;
      }
      ascii = false;
      if (Character.isHighSurrogate(c)
          && i + 1 < id.length()
          && Character.isLowSurrogate(id.charAt(i + 1))) {
        int cp = Character.toCodePoint(c, id.charAt(i + 1));
        if (SafeText.isUnsafe(cp)) {
          return false;
        }
        i++;
      } else if (SafeText.isUnsafe(c)) {
        return false;
      }
    }
    return ascii
        || (id.getBytes(StandardCharsets.UTF_8).length <= MAX_ID_BYTES
            && Normalizer.isNormalized(id, Normalizer.Form.NFC));
  }

  private static boolean isNonFiniteWord(String s) {
    String t = s.trim();
    return t.equalsIgnoreCase("nan")
        || t.equalsIgnoreCase("infinity")
        || t.equalsIgnoreCase("-infinity")
        || t.equalsIgnoreCase("inf")
        || t.equalsIgnoreCase("-inf");
  }

  private static String describe(JsonToken t) {
    switch (t) {
      case VALUE_STRING:
        return "a string";
      case VALUE_TRUE:
      case VALUE_FALSE:
        return "a boolean";
      case START_OBJECT:
        return "an object";
      case START_ARRAY:
        return "an array";
      case VALUE_NULL:
        return "null";
      default:
        return "a " + t.name().toLowerCase();
    }
  }

  private static String firstLine(IOException e) {
    String s = e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
    if (s == null) {
      return e.getClass().getSimpleName();
    }
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }
}
