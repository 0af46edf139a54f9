package io.stepcast.model;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/** The recurrent cell of a step model. */
public enum CellType {
  /** Long short-term memory: two state tensors, {@code h} and {@code c}. */
  LSTM(4, 2),
  /** Gated recurrent unit: one state tensor, {@code h}. */
  GRU(3, 1),
  /** The simple (Elman) recurrent cell, {@code h' = tanh(W x + b_ih + U h + b_hh)}: {@code h}. */
  RNN(1, 1);

  private final int gates;
  private final int stateTensors;

  CellType(int gates, int stateTensors) {
    this.gates = gates;
    this.stateTensors = stateTensors;
  }

  /** Number of gate blocks stacked in each weight matrix (4 for LSTM, 3 for GRU, 1 for RNN). */
  public int gates() {
    return gates;
  }

  /** Number of state tensors the step model carries ({@code h, c} or {@code h}). */
  public int stateTensors() {
    return stateTensors;
  }

  @JsonValue
  public String id() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Parses {@code lstm}, {@code gru} or {@code rnn}, case-insensitive. */
  @JsonCreator
  public static CellType of(String id) {
    for (CellType t : values()) {
      if (t.id().equalsIgnoreCase(id)) {
        return t;
      }
    }
    throw new IllegalArgumentException("unknown cell type '" + id + "': use lstm, gru or rnn");
  }
}
