package io.stepcast.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Keeps the README's configuration tables generated from {@link SpecSettings}. Regenerate with
 * {@code ./mvnw test -Dtest=ConfigDocsTest -Dstepcast.updateDocs=true}.
 */
class ConfigDocsTest {
  private static final Path README = Path.of("README.md");

  @Test
  void shouldKeepTheReadmeConfigurationTablesGeneratedFromTheDeclarations() throws Exception {
    String readme = Files.readString(README);
    String updated = replace(readme, "spec settings", ConfigDocs.specTable());
    updated = replace(updated, "process settings", ConfigDocs.processTable());
    if (Boolean.getBoolean("stepcast.updateDocs")) {
      Files.writeString(README, updated);
      readme = updated;
    }
    assertThat(readme)
        .as(
            "README.md's configuration tables are out of date; rerun with"
                + " -Dstepcast.updateDocs=true and commit README.md")
        .isEqualTo(updated);
  }

  @Test
  void shouldDocumentEverySettingWithItsVariableAndDefault() {
    String table = ConfigDocs.specTable();
    for (Setting s : SpecSettings.SPEC) {
      assertThat(table).contains("| `" + s.path() + "` | `" + s.envName() + "` |");
    }
    assertThat(table)
        .contains(
            "| `topics.deadLetter` | `STEPCAST_TOPICS_DEAD_LETTER` | topic name |"
                + " `NAME-dead-letters` |")
        .contains(
            "`execution.cudaDeviceId` | `STEPCAST_EXECUTION_CUDA_DEVICE_ID` | int 0..255 | `0`")
        .contains("| `seriesId.from` | `STEPCAST_SERIES_ID_FROM` | key, field | `key` |");
  }

  private static String replace(String readme, String what, String table) {
    String begin = "<!-- generated from SpecSettings (" + what + "): edit there, not here -->\n";
    String end = "<!-- end of generated " + what + " -->";
    int b = readme.indexOf(begin);
    int e = readme.indexOf(end);
    assertThat(b).as("README.md lacks the marker %s", begin.strip()).isNotNegative();
    assertThat(e).as("README.md lacks the marker %s", end).isGreaterThan(b);
    return readme.substring(0, b + begin.length()) + table + readme.substring(e);
  }
}
