package io.stepcast.engine;

import io.stepcast.config.TopologySpec.AnomalyPolicy;

/**
 * What the step engine reports as it runs (every method a no-op unless overridden). Implementations
 * build their meters once and only record here: these calls are on the per-event path.
 */
public interface StepListener {
  /** One ONNX Runtime call stepped {@code batch} series in {@code nanos}. */
  default void step(long nanos, int batch) {}

  /** A forecast was scored against the actual value: its absolute error and persistence's. */
  default void scored(double absError, double absErrorPersistence) {}

  /**
   * With several targets or horizons: the forecast of target {@code target} at the {@code
   * horizon}-th horizon, made that many events ago, was scored against this event's actual value:
   * its absolute error and persistence's (the actual that many events ago).
   */
  default void scoredHorizon(
      int target, int horizon, double absError, double absErrorPersistence) {}

  /**
   * A warm series' actual was inside ({@code inside}) or outside the interval of level index {@code
   * level} (the spec's order) around the forecast it scores.
   */
  default void covered(int level, boolean inside) {}

  /**
   * With several targets or horizons: the actual for target {@code target}'s forecast at the {@code
   * horizon}-th horizon (of an output whose calibration is warm) was inside ({@code inside}) or
   * outside its interval of level index {@code level} (horizon 1 of the first target included).
   */
  default void coveredHorizon(int target, int horizon, int level, boolean inside) {}

  /** An actual fell outside the widest interval; {@code outcome} is what the policy did. */
  default void anomaly(AnomalyPolicy outcome) {}

  /** A series was rebuilt for a new model by replaying its recent inputs. */
  default void burnIn() {}

  /** Records nothing. */
  StepListener NONE = new StepListener() {};
}
