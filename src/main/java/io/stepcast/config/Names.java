package io.stepcast.config;

import java.util.Collection;
import java.util.Locale;
import java.util.Optional;

/**
 * The nearest valid name to a misspelt one, by edit distance, so that an error can say "did you
 * mean ...". Case, underscores and dashes are ignored first ({@code STEPCAST_TOPICS_DEADLETTER} is
 * {@code STEPCAST_TOPICS_DEAD_LETTER}); otherwise the closest name within a third of its length (at
 * least 2 edits) wins.
 */
public final class Names {
  private Names() {}

  /** The candidate closest to {@code wrong}, if one is close enough to be a likely typo. */
  public static Optional<String> nearest(String wrong, Collection<String> candidates) {
    String w = squash(wrong);
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (String c : candidates) {
      String s = squash(c);
      int d = s.equals(w) ? 0 : distance(w, s) + 1;
      if (d < bestDistance) {
        best = c;
        bestDistance = d;
      }
    }
    int limit = Math.max(2, w.length() / 3) + 1;
    return best != null && bestDistance <= limit ? Optional.of(best) : Optional.empty();
  }

  private static String squash(String s) {
    return s.toLowerCase(Locale.ROOT).replace("_", "").replace("-", "");
  }

  /** Levenshtein distance (insertions, deletions, substitutions) of two strings. */
  static int distance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        cur[j] = Math.min(sub, Math.min(prev[j] + 1, cur[j - 1] + 1));
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }
}
