package io.stepcast.cli;

import java.lang.reflect.AnnotatedElement;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * The {@code STEPCAST_*} variables that command-line options read through an {@code
 * ${env:STEPCAST_...}} default. They are settings, not misspellings (the spec loader is told), and
 * a test checks each is declared in {@code SpecSettings.PROCESS}.
 */
final class CliEnvironment {
  private static final Pattern ENV = Pattern.compile("\\$\\{env:(STEPCAST_[A-Z0-9_]+)");

  private CliEnvironment() {}

  /** The variables read by the options of {@code command} and all its subcommands. */
  static Set<String> names(CommandSpec command) {
    Set<String> out = new TreeSet<>();
    collect(command, out);
    return out;
  }

  private static void collect(CommandSpec spec, Set<String> out) {
    for (ArgSpec a : spec.args()) {
      // The annotation's text: defaultValue() would already have the variable substituted.
      String d = null;
      if (a.userObject() instanceof AnnotatedElement e) {
        Option o = e.getAnnotation(Option.class);
        Parameters p = e.getAnnotation(Parameters.class);
        d = o != null ? o.defaultValue() : p != null ? p.defaultValue() : null;
      }
      if (d != null) {
        Matcher m = ENV.matcher(d);
        while (m.find()) {
          out.add(m.group(1));
        }
      }
    }
    for (var sub : spec.subcommands().values()) {
      collect(sub.getCommandSpec(), out);
    }
  }
}
