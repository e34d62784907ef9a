"""Scoring the pipeline against the synthetic performer's ground truth: metrics
(:mod:`arpose.evaluate.metrics`) and the evaluation harness (:mod:`arpose.evaluate.harness`):
variants are named pipeline specs (:func:`~arpose.evaluate.harness.default_variants`), metric
functions receive the raw baseline explicitly (:func:`~arpose.evaluate.harness.default_metrics`).
Importing this package registers nothing."""
