package io.stepcast.topology;

import io.stepcast.config.TopologySpec;
import io.stepcast.engine.RecentInputs;
import io.stepcast.state.RecentRows;
import io.stepcast.state.SeriesState;
import java.util.List;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * A series' recent inputs in their own changelogged store ({@link ForecastTopology#RECENT_STORE}),
 * one record per series and slot ({@link RecentRows}): an event writes one row of a few dozen bytes
 * and the series state stays lean. Read in full only when a series meets a new model (burn-in); a
 * {@code lag} feature or a horizon reads one row's scores per event (one {@code get}).
 *
 * <p>A state read from format v1 carries its ring buffer: its rows move here on the series' next
 * event, and a burn-in before that reads them from the state.
 */
public final class StoreRecentInputs implements RecentInputs {
  private final ReadOnlyKeyValueStore<Bytes, byte[]> store;
  private final KeyValueStore<Bytes, byte[]> writable;
  private final int capacity;

  StoreRecentInputs(KeyValueStore<Bytes, byte[]> store, int capacity) {
    this.store = store;
    this.writable = store;
    this.capacity = capacity;
  }

  private StoreRecentInputs(ReadOnlyKeyValueStore<Bytes, byte[]> store, int capacity) {
    this.store = store;
    this.writable = null;
    this.capacity = capacity;
  }

  /**
   * The rows of an interactive query of {@link ForecastTopology#RECENT_STORE}, for the state API's
   * rolled forecast (its lag features read the series' kept actuals); writing is refused.
   */
  public static RecentInputs readOnly(
      ReadOnlyKeyValueStore<Bytes, byte[]> store, TopologySpec spec) {
    return new StoreRecentInputs(store, capacity(spec));
  }

  /**
   * The rows kept per series: {@code model.ringBuffer} for burn-in, and with several outputs at
   * least the furthest horizon (the event {@code h} later reads the forecasts kept with a row).
   */
  static int capacity(TopologySpec spec) {
    List<Integer> horizons = spec.target().horizons();
    boolean multi = horizons.size() > 1 || !spec.target().also().isEmpty();
    int furthest = horizons.get(horizons.size() - 1);
    return Math.max(spec.model().ringBuffer(), multi ? furthest : 0);
  }

  @Override
  public int read(String series, SeriesState st, float[] rows, int width, int max) {
    if (st.legacyRows() > 0) {
      if (st.legacyWidth() != width) {
        return 0;
      }
      int n = Math.min(max, st.legacyRows());
      for (int i = 0; i < n; i++) {
        st.legacyRow(st.legacyRows() - n + i, rows, i * width);
      }
      return n;
    }
    if (capacity == 0) {
      return 0;
    }
    byte[] id = RecentRows.series(series);
    int n = (int) Math.min(Math.min(max, capacity), st.steps());
    // Newest first, down to the first row that is missing or belongs to another step.
    int got = 0;
    for (int k = 0; k < n; k++) {
      long step = st.steps() - 1 - k;
      byte[] v = store.get(Bytes.wrap(RecentRows.key(id, slot(step))));
      if (!RecentRows.row(v, step, rows, (n - 1 - k) * width, width)) {
        break;
      }
      got++;
    }
    if (got < n) {
      System.arraycopy(rows, (n - got) * width, rows, 0, got * width);
    }
    return got;
  }

  @Override
  public void write(String series, SeriesState st, float[] x, int offset, int width) {
    requireWritable();
    if (capacity == 0) {
      st.dropLegacyRows();
      return;
    }
    byte[] id = RecentRows.series(series);
    if (st.legacyRows() > 0) {
      if (st.legacyWidth() == width) {
        float[] row = new float[width];
        int from = Math.max(0, st.legacyRows() - capacity);
        for (int i = from; i < st.legacyRows(); i++) {
          long step = st.steps() - st.legacyRows() + i;
          st.legacyRow(i, row, 0);
          put(id, step, row, 0, width);
        }
      }
      st.dropLegacyRows();
    }
    put(id, st.steps(), x, offset, width);
  }

  @Override
  public void write(
      String series,
      SeriesState st,
      float[] x,
      int offset,
      int width,
      double[] scores,
      int scoresOffset,
      int count) {
    requireWritable();
    if (capacity == 0 || st.legacyRows() > 0) {
      write(series, st, x, offset, width);
      if (capacity == 0) {
        return;
      }
    }
    long step = st.steps();
    writable.put(
        Bytes.wrap(RecentRows.key(RecentRows.series(series), slot(step))),
        RecentRows.value(step, x, offset, width, scores, scoresOffset, count));
  }

  @Override
  public boolean scores(String series, long step, double[] out, int count) {
    if (capacity == 0) {
      return false;
    }
    byte[] v = store.get(Bytes.wrap(RecentRows.key(RecentRows.series(series), slot(step))));
    return RecentRows.scores(v, step, out, count);
  }

  private void put(byte[] id, long step, float[] x, int offset, int width) {
    writable.put(
        Bytes.wrap(RecentRows.key(id, slot(step))), RecentRows.value(step, x, offset, width));
  }

  private void requireWritable() {
    if (writable == null) {
      throw new UnsupportedOperationException("the recent rows of a query are read-only");
    }
  }

  private int slot(long step) {
    return (int) (step % capacity);
  }
}
