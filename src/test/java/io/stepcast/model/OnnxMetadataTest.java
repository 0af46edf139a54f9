package io.stepcast.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.stepcast.config.SpecFixtures;
import io.stepcast.testsupport.TestModels;
import java.time.Instant;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class OnnxMetadataTest {
  @Test
  void shouldReadTheSpecOfARealModelWithoutOnnxRuntime() throws Exception {
    Instant created = Instant.parse("2026-11-02T03:04:05Z");
    byte[] onnx = TestModels.model(SpecFixtures.weather(), "v7", created);
    ModelSpec spec = ModelSpec.fromJson(OnnxMetadata.read(onnx).get(ModelSpec.METADATA_KEY));
    assertThat(spec.version()).isEqualTo("v7");
    assertThat(ModelCandidate.createdAt(spec.createdAt())).isEqualTo(created);
  }

  @Test
  void shouldRefuseTruncatedAndHostileBytesWithoutReadingPastTheEnd() throws Exception {
    byte[] onnx = TestModels.model(SpecFixtures.weather(), "v7", Instant.EPOCH);
    for (int cut : new int[] {1, 7, onnx.length / 2, onnx.length - 1}) {
      byte[] truncated = Arrays.copyOf(onnx, cut);
      try {
        OnnxMetadata.read(truncated);
      } catch (ModelException e) {
        assertThat(e.getMessage()).contains("not an ONNX model");
      }
    }
    // A field announcing 2^62 bytes.
    byte[] hostile = {0x72, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0x40};
    assertThatThrownBy(() -> OnnxMetadata.read(hostile))
        .isInstanceOf(ModelException.class)
        .hasMessageContaining("runs past the end");
    assertThatThrownBy(() -> OnnxMetadata.read(TestModels.garbage()))
        .isInstanceOf(ModelException.class);
  }

  @Test
  void shouldRankASpecWithoutCreationTimeAtTheEpoch() {
    assertThat(ModelCandidate.createdAt(null)).isEqualTo(Instant.EPOCH);
    assertThat(ModelCandidate.createdAt("yesterday")).isEqualTo(Instant.EPOCH);
    assertThat(ModelCandidate.createdAt("2026-11-02T03:04:05+01:00"))
        .isEqualTo(Instant.parse("2026-11-02T02:04:05Z"));
  }
}
