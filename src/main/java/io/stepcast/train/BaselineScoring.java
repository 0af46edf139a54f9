package io.stepcast.train;

import io.stepcast.config.TopologySpec;
import io.stepcast.features.FeaturePipeline;
import io.stepcast.features.SeriesReplay;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The baselines of one training run, fitted once on the training parts and scored on any rows:
 * persistence, seasonal-naive (when the spec names a season) and AR(p), one fit per series, with
 * {@code p} from {@code training.arOrder} or, when that is not set, chosen by {@link
 * Baselines#chooseArOrder AIC} over every series' training part.
 */
final class BaselineScoring {

  private static final Logger LOG = LoggerFactory.getLogger(BaselineScoring.class);

  /** Errors of the model and the baselines on a set of rows. */
  static final class Sums {
    final Accuracy.Sum model = new Accuracy.Sum();
    final Accuracy.Sum persistence = new Accuracy.Sum();
    final Accuracy.Sum seasonal = new Accuracy.Sum();
    final Accuracy.Sum ar = new Accuracy.Sum();

    Sums withModel(Accuracy.Sum m) {
      model.add(m);
      return this;
    }

    void add(Sums other) {
      model.add(other.model);
      persistence.add(other.persistence);
      seasonal.add(other.seasonal);
      ar.add(other.ar);
    }

    TrainingReport.PartScores part(boolean seasonal, boolean ar) {
      return new TrainingReport.PartScores(
          TrainingReport.Scores.of(model.accuracy()),
          TrainingReport.Scores.of(persistence.accuracy()),
          seasonal ? TrainingReport.Scores.of(this.seasonal.accuracy()) : null,
          ar ? TrainingReport.Scores.of(this.ar.accuracy()) : null);
    }
  }

  private final TrainingData data;
  private final FeaturePipeline pipeline;
  private final Integer season;
  private final int arOrder;
  private final String arOrderChosenBy;
  private final List<Baselines.LinearAr> fits = new ArrayList<>();

  BaselineScoring(TopologySpec spec, TrainConfig cfg, FeaturePipeline pipeline, TrainingData data) {
    this.data = data;
    this.pipeline = pipeline;
    this.season = spec.target().season();
    int n = data.series().size();
    int[] trainEnd = new int[n];
    List<SeriesReplay.Rows> rows = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      SeriesReplay.Rows r = data.series().get(i).rows();
      rows.add(r);
      trainEnd[i] = TrainingRun.validationStart(r.x().length, cfg);
    }
    Integer configured = cfg.arOrder();
    if (configured != null) {
      arOrder = configured;
      arOrderChosenBy = "spec";
    } else {
      int max = Baselines.maxArOrder(trainEnd, season);
      arOrder = Math.max(1, Baselines.chooseArOrder(rows, trainEnd, max));
      arOrderChosenBy = "aic (orders 1-" + max + ")";
    }
    for (int i = 0; i < n; i++) {
      Baselines.LinearAr fit = null;
      try {
        fit = Baselines.LinearAr.fit(rows.get(i), trainEnd[i], arOrder);
      } catch (IllegalArgumentException e) {
        LOG.warn(
            "series {}: no AR({}) baseline: {}",
            data.series().get(i).id(),
            arOrder,
            e.getMessage());
      }
      fits.add(fit);
    }
  }

  /** The seasonal-naive season in events, or null. */
  Integer season() {
    return season;
  }

  /** The AR order p. */
  int arOrder() {
    return arOrder;
  }

  /** {@code spec} or how AIC chose it. */
  String arOrderChosenBy() {
    return arOrderChosenBy;
  }

  /** Whether series {@code i} has an AR fit. */
  boolean arFitted(int i) {
    return fits.get(i) != null;
  }

  /** Whether every series has an AR fit (else the overall AR figure would cover only some). */
  boolean arFittedEverywhere() {
    return fits.stream().allMatch(f -> f != null);
  }

  /** The baselines' errors on rows {@code [from, to)} of series {@code i} (model left empty). */
  Sums score(int i, int from, int to) {
    SeriesReplay.Rows rows = data.series().get(i).rows();
    Baselines.LinearAr fit = fits.get(i);
    Sums sums = new Sums();
    for (int t = from; t < to; t++) {
      double actual = rows.targets()[t + 1];
      sums.persistence.add(actual - Baselines.persistence(rows, t));
      if (season != null) {
        sums.seasonal.add(actual - Baselines.seasonalNaive(rows, t, season));
      }
      if (fit != null) {
        sums.ar.add(actual - fit.forecast(rows, t, pipeline));
      }
    }
    return sums;
  }
}
