package io.stepcast.features;

import com.fasterxml.jackson.core.io.NumberInput;
import java.nio.charset.StandardCharsets;

/**
 * The allocation-free fast path of {@link EventParser}: reads the common shape of an event (one
 * flat JSON object of numbers, plain ASCII strings, {@code true}, {@code false} and {@code null})
 * straight from the record's bytes, without creating a parser, a duplicate-name set or a string per
 * number.
 *
 * <p>It only ever accepts what the full parser accepts, with the same values; anything else it
 * declines ({@link #scan} returns false) before judging it: nesting, escapes, non-ASCII text,
 * repeated names, numbers outside JSON's grammar or float32, a value of the wrong type for its
 * field, an invalid id, a timestamp the fast time reader does not take, malformed or trailing
 * content. The caller then runs the full parser, which gives the verdict and its message. So the
 * fast path changes the cost of an event, never its outcome ({@code EventParserTest} checks both
 * paths agree on valid, hostile and mutated events).
 */
final class FlatEventScanner {
  /** More fields than this in one object: declined (the names are compared pairwise). */
  static final int MAX_FIELDS = 32;

  /** Longer numbers are declined (JSON allows them; the full parser reads them). */
  private static final int MAX_NUMBER = 64;

  private final byte[][] names;
  private final int[] slotOfName;
  private final int slotId;
  private final int slotTime;
  private final int slotTarget;
  private final TimeParser time;
  private final Event event;
  private final boolean[] seen;
  private final int[] nameStart = new int[MAX_FIELDS];
  private final int[] nameLength = new int[MAX_FIELDS];
  private final char[] digits = new char[MAX_NUMBER];

  /** What the last successful {@link #scan} read besides the event's fields. */
  String id;

  boolean timeSeen;
  boolean targetSeen;

  private byte[] in;
  private int pos;

  /**
   * @param names the field names the parser reads
   * @param slots each name's slot: an input field index, or {@code slotId}, {@code slotTime},
   *     {@code slotTarget}
   */
  FlatEventScanner(
      String[] names,
      int[] slots,
      int slotId,
      int slotTime,
      int slotTarget,
      TimeParser time,
      Event event,
      boolean[] seen) {
    this.names = new byte[names.length][];
    for (int i = 0; i < names.length; i++) {
      this.names[i] = names[i].getBytes(StandardCharsets.UTF_8);
    }
    this.slotOfName = slots.clone();
    this.slotId = slotId;
    this.slotTime = slotTime;
    this.slotTarget = slotTarget;
    this.time = time;
    this.event = event;
    this.seen = seen;
  }

  /**
   * Reads {@code value} into the event (fields, target, time), {@link #id}, {@link #timeSeen} and
   * {@link #targetSeen}, which the caller has reset. Returns false to decline: the caller must then
   * reset them again and run the full parser.
   */
  boolean scan(byte[] value) {
    in = value;
    pos = 0;
    id = null;
    timeSeen = false;
    targetSeen = false;
    try {
      return object() && end();
    } finally {
      in = null;
    }
  }

  private boolean object() {
    ws();
    if (!take('{')) {
      return false;
    }
    ws();
    if (take('}')) {
      return true;
    }
    int fields = 0;
    while (true) {
      if (fields == MAX_FIELDS || !take('"')) {
        return false;
      }
      int start = pos;
      if (!plainString()) {
        return false;
      }
      int length = pos - 1 - start;
      for (int f = 0; f < fields; f++) {
        if (nameLength[f] == length && same(nameStart[f], start, length)) {
          return false; // a repeated name: the full parser names it
        }
      }
      nameStart[fields] = start;
      nameLength[fields] = length;
      fields++;
      int slot = slotOf(start, length);
      ws();
      if (!take(':')) {
        return false;
      }
      ws();
      if (!value(slot)) {
        return false;
      }
      ws();
      if (take('}')) {
        return true;
      }
      if (!take(',')) {
        return false;
      }
      ws();
    }
  }

  /** Only whitespace after the object. */
  private boolean end() {
    ws();
    return pos == in.length;
  }

  private boolean value(int slot) {
    if (pos >= in.length) {
      return false;
    }
    byte b = in[pos];
    if (b == '"') {
      pos++;
      int start = pos;
      if (!plainString()) {
        return false;
      }
      return string(slot, start, pos - 1 - start);
    }
    if (b == '-' || (b >= '0' && b <= '9')) {
      return number(slot);
    }
    if (literal("null")) {
      // As the full parser: null is an absent value, for every field.
      return true;
    }
    if (literal("true") || literal("false")) {
      return slot == Integer.MIN_VALUE;
    }
    return false; // an object, an array, NaN or Infinity, or not JSON
  }

  private boolean string(int slot, int start, int length) {
    if (slot == Integer.MIN_VALUE) {
      return true;
    }
    if (slot == slotId) {
      if (length == 0 || length > EventParser.MAX_ID_BYTES) {
        return false;
      }
      // Printable ASCII only (plainString): valid UTF-8, NFC, no controls: a valid id.
      id = new String(in, start, length, StandardCharsets.ISO_8859_1);
      return true;
    }
    if (slot == slotTime) {
      long t = time.parseAscii(in, start, length);
      if (t == TimeParser.UNREAD) {
        return false;
      }
      event.timeMillis = t;
      timeSeen = true;
      return true;
    }
    return false; // a string where a number belongs
  }

  private boolean number(int slot) {
    int start = pos;
    boolean integral = true;
    if (in[pos] == '-') {
      pos++;
    }
    if (pos >= in.length) {
      return false;
    }
    if (in[pos] == '0') {
      pos++;
    } else if (!digits()) {
      return false;
    }
    if (pos < in.length && in[pos] == '.') {
      pos++;
      integral = false;
      if (!digits()) {
        return false;
      }
    }
    if (pos < in.length && (in[pos] == 'e' || in[pos] == 'E')) {
      pos++;
      integral = false;
      if (pos < in.length && (in[pos] == '+' || in[pos] == '-')) {
        pos++;
      }
      if (!digits()) {
        return false;
      }
    }
    int length = pos - start;
    if (length > MAX_NUMBER || (pos < in.length && !delimiter(in[pos]))) {
      return false;
    }
    if (slot == Integer.MIN_VALUE) {
      return true;
    }
    if (slot == slotId) {
      return false;
    }
    double d;
    if (integral) {
      // As the full parser: an integer is read as a long (so -0 is 0), then widened; 18 digits
      // always fit (longer integers go to the full parser).
      if (length > 18) {
        return false;
      }
      long v = 0;
      int i = start;
      boolean negative = in[i] == '-';
      if (negative) {
        i++;
      }
      for (; i < pos; i++) {
        v = v * 10 + (in[i] - '0');
      }
      v = negative ? -v : v;
      if (slot == slotTime) {
        event.timeMillis = v;
        timeSeen = true;
        return true;
      }
      d = v;
    } else if (slot == slotTime) {
      return false;
    } else {
      for (int i = 0; i < length; i++) {
        digits[i] = (char) in[start + i];
      }
      d = NumberInput.parseDouble(digits, 0, length, true);
    }
    if (!(Math.abs(d) <= Float.MAX_VALUE)) {
      return false;
    }
    if (slot == slotTarget) {
      event.target = d;
      targetSeen = true;
    } else {
      event.fields[slot] = d;
      seen[slot] = true;
    }
    return true;
  }

  /** One or more ASCII digits. */
  private boolean digits() {
    int start = pos;
    while (pos < in.length && in[pos] >= '0' && in[pos] <= '9') {
      pos++;
    }
    return pos > start;
  }

  private static boolean delimiter(byte b) {
    return b == ',' || b == '}' || b == ' ' || b == '\t' || b == '\n' || b == '\r';
  }

  /**
   * Reads up to and past the closing quote of a string of printable ASCII without escapes; false
   * for anything else.
   */
  private boolean plainString() {
    while (pos < in.length) {
      byte b = in[pos++];
      if (b == '"') {
        return true;
      }
      if (b < 0x20 || b == '\\' || b == 0x7f) {
        return false; // controls, escapes, and (as negative bytes) everything beyond ASCII
      }
    }
    return false;
  }

  private boolean literal(String word) {
    int n = word.length();
    if (pos + n > in.length) {
      return false;
    }
    for (int i = 0; i < n; i++) {
      if (in[pos + i] != word.charAt(i)) {
        return false;
      }
    }
    if (pos + n < in.length && !delimiter(in[pos + n])) {
      return false;
    }
    pos += n;
    return true;
  }

  /** The slot of the name at {@code in[start..start+length)}; MIN_VALUE for a name not read. */
  private int slotOf(int start, int length) {
    for (int k = 0; k < names.length; k++) {
      byte[] name = names[k];
      if (name.length == length && sameAs(name, start)) {
        return slotOfName[k];
      }
    }
    return Integer.MIN_VALUE;
  }

  private boolean sameAs(byte[] name, int start) {
    for (int i = 0; i < name.length; i++) {
      if (in[start + i] != name[i]) {
        return false;
      }
    }
    return true;
  }

  private boolean same(int a, int b, int length) {
    for (int i = 0; i < length; i++) {
      if (in[a + i] != in[b + i]) {
        return false;
      }
    }
    return true;
  }

  private boolean take(char c) {
    if (pos < in.length && in[pos] == c) {
      pos++;
      return true;
    }
    return false;
  }

  private void ws() {
    while (pos < in.length) {
      byte b = in[pos];
      if (b != ' ' && b != '\t' && b != '\n' && b != '\r') {
        return;
      }
      pos++;
    }
  }
}
