"""Scoring the pipeline against the synthetic performer's ground truth: metrics
(:mod:`arpose.evaluate.metrics`) and the evaluation harness with its variant and metric
registries (:mod:`arpose.evaluate.harness`)."""
