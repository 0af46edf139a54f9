package io.stepcast.topology;

import io.stepcast.engine.RecentInputs;
import io.stepcast.state.RecentRows;
import io.stepcast.state.SeriesState;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * A series' recent inputs in their own changelogged store ({@link ForecastTopology#RECENT_STORE}),
 * one record per series and slot ({@link RecentRows}): an event writes one row of a few dozen bytes
 * and the series state stays lean. Read in full only when a series meets a new model (burn-in); a
 * {@code lag} feature reads one row per event (one {@code get}, served by RocksDB's block cache).
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
   * The recent rows of an interactive query of {@link ForecastTopology#RECENT_STORE}, for the state
   * API's rolled forecast (its lag features read the series' kept actuals); writing is refused.
   */
  public static RecentInputs readOnly(ReadOnlyKeyValueStore<Bytes, byte[]> store, int capacity) {
    return new StoreRecentInputs(store, capacity);
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
  public double target(String series, SeriesState st, long step, int width) {
    if (capacity == 0 || step < 0 || step < st.steps() - capacity) {
      return Double.NaN;
    }
    byte[] v = store.get(Bytes.wrap(RecentRows.key(RecentRows.series(series), slot(step))));
    return RecentRows.target(v, step, width);
  }

  @Override
  public void write(
      String series, SeriesState st, float[] x, int offset, int width, double target) {
    if (writable == null) {
      throw new UnsupportedOperationException("the recent rows of a query are read-only");
    }
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
          put(id, step, Double.NaN, row, 0, width);
        }
      }
      st.dropLegacyRows();
    }
    put(id, st.steps(), target, x, offset, width);
  }

  private void put(byte[] id, long step, double target, float[] x, int offset, int width) {
    writable.put(
        Bytes.wrap(RecentRows.key(id, slot(step))),
        RecentRows.value(step, target, x, offset, width));
  }

  private int slot(long step) {
    return (int) (step % capacity);
  }
}
