"""Pose estimation: BlazePose GHUM 3D through MediaPipe."""

from .blazepose import BlazePoseEstimator, EstimatorConfig, landmarks_from_mediapipe

__all__ = ["BlazePoseEstimator", "EstimatorConfig", "landmarks_from_mediapipe"]
