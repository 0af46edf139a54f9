package io.stepcast.features;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import io.stepcast.config.TopologySpec;
import io.stepcast.config.TopologySpec.MissingPolicy;
import io.stepcast.config.TopologySpec.SeriesIdSource;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Parses and validates one JSON event against a topology spec, with a streaming parser that reads
 * only the fields the pipeline uses. Not thread-safe: each stream task owns one, and the returned
 * {@link ParseResult} is reused by the next call.
 *
 * <p>Rules: the value must be a JSON object; the timestamp, the target and (when the series id
 * comes from a field) the id must be present; numeric fields must be JSON numbers and finite. A
 * missing input field or target follows the spec's missing-value policy: {@code reject} rejects,
 * {@code skip} skips the event, {@code carry_forward} leaves the input NaN for the caller to fill
 * from the series' last value (a missing target is skipped: a target cannot be carried forward
 * honestly).
 */
public final class EventParser {
  /** Longest accepted series id, in UTF-8 bytes. */
  public static final int MAX_ID_BYTES = 256;

  private static final int SLOT_ID = -1;
  private static final int SLOT_TIME = -2;
  private static final int SLOT_TARGET = -3;

  // The fast double parser (FastDoubleParser) reads the same value as Double.parseDouble.
  private static final JsonFactory JSON =
      JsonFactory.builder()
          .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
          .enable(StreamReadFeature.USE_FAST_DOUBLE_PARSER)
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

  public EventParser(TopologySpec spec) {
    this.spec = spec;
    this.time = new TimeParser(spec.timestamp());
    this.inputFields = FeaturePipeline.inputFields(spec);
    this.idFromField = spec.seriesId().from() == SeriesIdSource.FIELD;
    this.missing = spec.policies().missing();
    this.positiveTarget = spec.target().transform() == TopologySpec.TargetTransform.LOG_RETURN;
    for (int i = 0; i < inputFields.size(); i++) {
      slots.put(inputFields.get(i), i);
    }
    slots.put(spec.target().field(), SLOT_TARGET);
    slots.put(spec.timestamp().field(), SLOT_TIME);
    if (idFromField) {
      slots.put(spec.seriesId().field(), SLOT_ID);
    }
    this.event = new Event(inputFields.size());
    this.result = new ParseResult(event);
    this.seen = new boolean[inputFields.size()];
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
    Arrays.fill(event.fields, Double.NaN);
    Arrays.fill(seen, false);
    event.target = Double.NaN;
    boolean timeSeen = false;
    boolean targetSeen = false;
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
            id = p.getText();
            if (id.isEmpty()
                || id.getBytes(StandardCharsets.UTF_8).length > MAX_ID_BYTES
                || hasControl(id)) {
              return result.reject(
                  Rejection.BAD_KEY,
                  "series id field '"
                      + name
                      + "' is empty, longer than "
                      + MAX_ID_BYTES
                      + " bytes or has control characters");
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
          try {
            if (v == JsonToken.VALUE_STRING) {
              event.timeMillis = time.parse(p.getText());
            } else if (v == JsonToken.VALUE_NUMBER_INT) {
              event.timeMillis = p.getLongValue();
            } else {
              return result.reject(
                  Rejection.BAD_TIMESTAMP, "timestamp field '" + name + "' is " + describe(v));
            }
          } catch (DateTimeParseException e) {
            return result.reject(
                Rejection.BAD_TIMESTAMP,
                "timestamp field '"
                    + name
                    + "' value '"
                    + p.getText()
                    + "' is not in the "
                    + spec.timestamp().format().name().toLowerCase()
                    + " format");
          }
          timeSeen = true;
        } else {
          if (v == JsonToken.VALUE_NULL) {
            continue;
          }
          if (v != JsonToken.VALUE_NUMBER_INT && v != JsonToken.VALUE_NUMBER_FLOAT) {
            if (v == JsonToken.VALUE_STRING && isNonFiniteWord(p.getText())) {
              return result.reject(Rejection.NOT_FINITE, "field '" + name + "' is " + p.getText());
            }
            return result.reject(
                Rejection.NON_NUMERIC, "field '" + name + "' is " + describe(v) + ", not a number");
          }
          double d = p.getDoubleValue();
          if (!Double.isFinite(d)) {
            return result.reject(Rejection.NOT_FINITE, "field '" + name + "' is " + d);
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
          Rejection.MALFORMED_JSON, "not valid JSON: " + firstLine(e.getMessage()));
    }
    if (id == null) {
      return result.reject(
          Rejection.MISSING_FIELD, "series id field '" + spec.seriesId().field() + "' is missing");
    }
    if (!timeSeen) {
      return result.reject(
          Rejection.MISSING_FIELD, "timestamp field '" + spec.timestamp().field() + "' is missing");
    }
    event.seriesId = id;
    if (!targetSeen) {
      String msg = "target field '" + spec.target().field() + "' is missing";
      return missing == MissingPolicy.REJECT
          ? result.reject(Rejection.MISSING_FIELD, msg)
          : result.skip(Rejection.MISSING_FIELD, msg);
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

  private String keyToId(byte[] key) {
    if (key == null || key.length == 0 || key.length > MAX_ID_BYTES) {
      return null;
    }
    try {
      String s = utf8.decode(ByteBuffer.wrap(key)).toString();
      return hasControl(s) ? null : s;
    } catch (CharacterCodingException e) {
      return null;
    }
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
    return "the record key is not UTF-8 text without control characters";
  }

  private static boolean hasControl(String s) {
    for (int i = 0; i < s.length(); i++) {
      if (Character.isISOControl(s.charAt(i))) {
        return true;
      }
    }
    return false;
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

  private static String firstLine(String s) {
    if (s == null) {
      return "";
    }
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }
}
