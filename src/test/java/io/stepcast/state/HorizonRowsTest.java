package io.stepcast.state;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The bytes that several targets and horizons add: scores with each row, forecasts in state. */
class HorizonRowsTest {

  @Test
  void shouldKeepTheScoresWithTheRowAndStillGiveTheRowForBurnIn() {
    float[] x = {1f, 2f, 3f, 4f, 5f};
    double[] scores = {9, 4.25, 3.5, 4.1, 4.2, 4.3, 3.6, 3.7, 3.8};
    byte[] v = RecentRows.value(41, x, 1, 3, scores, 1, 8);
    assertThat(v).hasSize(13 + 4 * 3 + 8 * 8);
    float[] row = new float[4];
    assertThat(RecentRows.row(v, 41, row, 1, 3)).isTrue();
    assertThat(row).containsExactly(0f, 2f, 3f, 4f);
    double[] out = new double[8];
    assertThat(RecentRows.scores(v, 41, out, 8)).isTrue();
    assertThat(out).containsExactly(Arrays.copyOfRange(scores, 1, 9));
    // Another step, another count or another width: not this row's.
    assertThat(RecentRows.scores(v, 42, out, 8)).isFalse();
    assertThat(RecentRows.scores(v, 41, out, 7)).isFalse();
    assertThat(RecentRows.row(v, 41, row, 0, 4)).isFalse();
    assertThat(RecentRows.row(v, 40, row, 0, 3)).isFalse();
    // A row without scores (one output) gives none, and still its inputs.
    byte[] plain = RecentRows.value(41, x, 1, 3);
    assertThat(RecentRows.scores(plain, 41, out, 8)).isFalse();
    assertThat(RecentRows.row(plain, 41, row, 0, 3)).isTrue();
    assertThat(RecentRows.scores(null, 41, out, 8)).isFalse();
    assertThat(RecentRows.scores(Arrays.copyOf(v, v.length - 1), 41, out, 8)).isFalse();
  }

  @Test
  void shouldRoundTripTheFurtherTargetsForecastsAndWriteNothingMoreForOneTarget() {
    SeriesState one = SeriesState.fresh(7, new int[] {32, 32}, 2);
    int plain = SeriesStateSerde.write(one).length;
    assertThat(plain).isEqualTo(SeriesStateSerde.size(one));
    SeriesState two = SeriesState.fresh(7, new int[] {32, 32}, 2);
    two.alsoForecasts(new double[] {0, 2.5, -1.0}, 1, 2);
    byte[] bytes = SeriesStateSerde.write(two);
    assertThat(bytes).hasSize(plain + 3 + 16).hasSize(SeriesStateSerde.size(two));
    SeriesState r = SeriesStateSerde.read(bytes);
    assertThat(r.alsoForecast(0)).isEqualTo(2.5);
    assertThat(r.alsoForecast(1)).isEqualTo(-1.0);
    assertThat(r.alsoForecast(2)).isNaN();
    assertThat(r.copy().alsoForecast(1)).isEqualTo(-1.0);
    assertThat(SeriesStateSerde.read(SeriesStateSerde.write(one)).alsoForecast(0)).isNaN();
  }

  @Test
  void shouldSkipASectionThisBuildDoesNotKnow() {
    SeriesState two = SeriesState.fresh(7, new int[] {4}, 1);
    two.alsoForecasts(new double[] {1.5}, 0, 1);
    byte[] known = SeriesStateSerde.write(two);
    // A later build's section (tag 99, 5 bytes) ahead of the one we know.
    int fixed = known.length - 11;
    byte[] withUnknown = new byte[known.length + 8];
    System.arraycopy(known, 0, withUnknown, 0, fixed);
    withUnknown[fixed] = 99;
    withUnknown[fixed + 1] = 5;
    withUnknown[fixed + 2] = 0;
    System.arraycopy(known, fixed, withUnknown, fixed + 8, 11);
    assertThat(SeriesStateSerde.read(withUnknown).alsoForecast(0)).isEqualTo(1.5);
  }
}
