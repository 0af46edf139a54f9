package io.stepcast.serve;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StaticMembershipTest {
  private static final String ID = "group.instance.id";

  @TempDir Path dir;

  private static String id(String setting, Path stateDir, Map<String, String> props) {
    return StaticMembership.apply(props, setting, "--group-instance-id", stateDir).get(ID);
  }

  @Test
  void shouldDeriveAnIdStableForAStateDirectoryAndUniquePerStateDirectory() {
    String first = id("auto", dir.resolve("a"), Map.of());
    assertThat(first).startsWith("stepcast-");
    assertThat(id("auto", dir.resolve("a"), Map.of())).isEqualTo(first);
    assertThat(id("auto", dir.resolve("b"), Map.of())).isNotEqualTo(first);
  }

  @Test
  void shouldTakeAnExplicitIdTurnOffWithNoneAndLetTheClientPropertyWin() {
    assertThat(id("stepcast-0", dir, Map.of())).isEqualTo("stepcast-0");
    assertThat(id("none", dir, Map.of())).isNull();
    assertThat(id("auto", dir, Map.of(ID, "pod-7"))).isEqualTo("pod-7");
    assertThat(id("none", dir, Map.of(ID, "pod-7"))).isEqualTo("pod-7");
  }
}
