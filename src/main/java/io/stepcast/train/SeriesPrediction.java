package io.stepcast.train;

/**
 * The trained network's forecasts over one series' validation part, in raw units.
 *
 * <p>Made by running the best weights over the whole series from a zero state, the way the server
 * runs them, so row {@code i} is the forecast at event {@code valStart + i} with the state warmed
 * up by every earlier event.
 *
 * @param id the series id
 * @param valStart index of the first validation event
 * @param predicted forecasts for every {@code t} in {@code [valStart, validationEnd)} (the test
 *     part after it is left out), {@code [validationEnd - valStart][outputSize]}
 * @param actual the targets for the same events
 */
public record SeriesPrediction(String id, int valStart, float[][] predicted, float[][] actual) {}
