package io.stepcast.config;

/**
 * Makes text from outside (record keys, field values, model versions, exception messages) safe to
 * put in a log line or a header: bounded in length, and with every character that could forge a new
 * line or hide what it says (controls such as CR and LF, format characters such as bidi overrides
 * and zero-width spaces, line and paragraph separators, lone surrogates) written as a visible
 * {@code \\uXXXX} escape. One helper, so every place that logs such text does the same.
 */
public final class SafeText {
  /** Default bound for a value quoted inside a message. */
  public static final int QUOTE_CHARS = 64;

  private SafeText() {}

  /** {@code s} escaped and cut to at most {@code max} characters of input, or "null". */
  public static String of(String s, int max) {
    if (s == null) {
      return "null";
    }
    int n = Math.min(s.length(), max);
    // Cutting between the two halves of a surrogate pair would leave a lone one: keep it whole.
    if (n < s.length() && n > 0 && Character.isHighSurrogate(s.charAt(n - 1))) {
      n--;
    }
    StringBuilder sb = null;
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      boolean pair =
          Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1));
      if (!pair && isUnsafe(c)) {
        if (sb == null) {
          sb = new StringBuilder(n + 16).append(s, 0, i);
        }
        sb.append(String.format("\\u%04x", (int) c));
      } else if (sb != null) {
        sb.append(c);
      }
      if (pair) {
        if (sb != null) {
          sb.append(s.charAt(i + 1));
        }
        i++;
      }
    }
    String out = sb == null ? (n == s.length() ? s : s.substring(0, n)) : sb.toString();
    return n == s.length() ? out : out + "...(" + s.length() + " chars)";
  }

  /** {@code s} escaped and cut to {@link #QUOTE_CHARS}. */
  public static String of(String s) {
    return of(s, QUOTE_CHARS);
  }

  /**
   * True for a character of Unicode category Cc (control), Cf (format: bidi controls, zero-width
   * characters, the BOM), Cs (surrogate), Zl or Zp (line and paragraph separators).
   */
  public static boolean isUnsafe(int codePoint) {
    switch (Character.getType(codePoint)) {
      case Character.CONTROL:
      case Character.FORMAT:
      case Character.SURROGATE:
      case Character.LINE_SEPARATOR:
      case Character.PARAGRAPH_SEPARATOR:
        return true;
      default:
        return false;
    }
  }
}
