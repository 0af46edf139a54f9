package io.stepcast.config;

import java.util.stream.Collectors;

/**
 * The README's configuration tables, rendered from the declarations in {@link SpecSettings} (a test
 * keeps the README in step, the way {@code ConfigDef.toHtml()} documents Kafka's configs).
 */
public final class ConfigDocs {
  private ConfigDocs() {}

  /** The spec settings as a Markdown table: field, variable, type, default, meaning. */
  public static String specTable() {
    StringBuilder sb = new StringBuilder();
    sb.append("| field | environment variable | type and values | default | meaning |\n");
    sb.append("| --- | --- | --- | --- | --- |\n");
    for (Setting s : SpecSettings.SPEC) {
      sb.append("| `")
          .append(s.path())
          .append("` | `")
          .append(s.envName())
          .append("` | ")
          .append(cell(s.typeText()))
          .append(" | ")
          .append(code(s.defaultText()))
          .append(" | ")
          .append(s.doc())
          .append(" |\n");
    }
    return sb.toString();
  }

  /** The other variables as a Markdown table: variable, option, default, meaning. */
  public static String processTable() {
    return "| environment variable | option | default | meaning |\n| --- | --- | --- | --- |\n"
        + SpecSettings.PROCESS.stream()
            .map(
                p ->
                    "| `"
                        + p.name()
                        + "` | "
                        + (p.flag().isEmpty() ? "—" : "`" + p.flag() + "`")
                        + " | "
                        + code(p.defaultText())
                        + " | "
                        + p.doc()
                        + " |\n")
            .collect(Collectors.joining());
  }

  private static String code(String text) {
    return text.equals("—") || text.startsWith("(") ? text : "`" + text + "`";
  }

  private static String cell(String text) {
    return text.replace("|", "\\|");
  }
}
