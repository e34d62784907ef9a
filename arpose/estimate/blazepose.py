"""BlazePose (Full model) through MediaPipe's classic ``solutions.pose`` graph.

Runs in tracking (video) mode for sequences: the detector runs only when tracking is lost,
and the region of interest follows the person. MediaPipe's own landmark smoothing is off by
default (smoothing is :mod:`arpose.smooth`'s job); it can be switched on only to serve as a
peer in evaluation.
"""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._cv import cv2
from ..landmarks import NUM_LANDMARKS, VISIBILITY
from ..types import Frame, Person, PoseFrame

os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@dataclass(frozen=True)
class EstimatorConfig:
    """Settings of :class:`BlazePoseEstimator`.

    tracking: True for video-like input (ROI tracking between frames); False treats every
        frame as an unrelated still (detector on every frame).
    min_detection_confidence, min_tracking_confidence: MediaPipe's thresholds in [0, 1].
    segmentation: also return the person's segmentation mask (about +1.5 ms a frame).
    mediapipe_smoothing: MediaPipe's own One Euro landmark filter. Off in the product; on only
        for the evaluation peer.
    """

    tracking: bool = True
    min_detection_confidence: float = 0.5
    min_tracking_confidence: float = 0.5
    segmentation: bool = False
    mediapipe_smoothing: bool = False


def landmarks_from_mediapipe(image_landmarks: Any, world_landmarks: Any) -> tuple[np.ndarray, np.ndarray]:
    """Convert MediaPipe landmark lists to arrays.

    Returns ``(image, world)``: ``(33, 5)`` float32 ``[x, y, z, visibility, presence]``
    normalised to the image, and ``(33, 3)`` float32 metres in MediaPipe's world frame.
    Presence is NaN where MediaPipe did not report it (the classic solution never does).
    """
    image = np.full((NUM_LANDMARKS, 5), np.nan, dtype=np.float32)
    world = np.full((NUM_LANDMARKS, 3), np.nan, dtype=np.float32)
    for i, lm in enumerate(image_landmarks.landmark):
        presence = lm.presence if lm.HasField("presence") else np.nan
        image[i] = (lm.x, lm.y, lm.z, lm.visibility, presence)
    if world_landmarks is not None:
        for i, lm in enumerate(world_landmarks.landmark):
            world[i] = (lm.x, lm.y, lm.z)
    return image, world


def pose_score(image_landmarks: np.ndarray) -> float:
    """Overall pose confidence in [0, 1]: the mean landmark visibility.

    image_landmarks: ``(33, 5)``. It is high when the whole body is seen clearly and drops
    when parts are occluded or outside the image.
    """
    return float(np.nanmean(image_landmarks[:, VISIBILITY]))


@contextlib.contextmanager
def _quiet_native_stderr():
    """Silence MediaPipe's native start-up logging (TFLite / absl write straight to fd 2
    before any log configuration applies). Used only around graph start-up."""
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        yield
        return
    sys.stderr.flush()
    saved = os.dup(fd)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
        yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)
        os.close(devnull)


class BlazePoseEstimator:
    """One person per frame from BlazePose GHUM 3D (Full model shipped in the mediapipe wheel).

    ``process(frame)`` returns a :class:`PoseFrame` with zero or one :class:`Person` (id 0).
    No person is an empty result, not an error. Timestamps are handed to MediaPipe so that
    its time-based internals see the real frame timing. Use as a context manager or call
    :meth:`close`.
    """

    def __init__(self, config: EstimatorConfig = EstimatorConfig()):
        import mediapipe as mp  # heavy import, deferred until an estimator is made

        self.config = config
        with _quiet_native_stderr():
            self._pose = self._make_pose(mp, config)
            # MediaPipe starts its graph (and logs) asynchronously; one blank frame inside the
            # quiet window waits for that. A blank frame finds nobody, so no tracking state.
            if hasattr(self._pose, "_simulated_timestamp"):
                self._pose._simulated_timestamp = -33333  # the warm-up frame is at t = 0
            self._pose.process(np.zeros((64, 64, 3), np.uint8))
        self._last_us = 0
        self._quiet = True

    @staticmethod
    def _make_pose(mp, config: EstimatorConfig):
        return mp.solutions.pose.Pose(
            static_image_mode=not config.tracking,
            model_complexity=1,
            smooth_landmarks=config.mediapipe_smoothing,
            enable_segmentation=config.segmentation,
            smooth_segmentation=config.segmentation and config.tracking,
            min_detection_confidence=config.min_detection_confidence,
            min_tracking_confidence=config.min_tracking_confidence,
        )

    def process(self, frame: Frame) -> PoseFrame:
        """Estimate the pose in one frame (image BGR uint8). Timestamps must increase."""
        rgb = cv2.cvtColor(frame.image, cv2.COLOR_BGR2RGB)
        rgb.flags.writeable = False
        t_us = max(int(round(frame.timestamp * 1e6)), self._last_us + 1)
        self._last_us = t_us
        if hasattr(self._pose, "_simulated_timestamp"):
            # SolutionBase adds 33333 us per call; pre-set it so MediaPipe sees the real time.
            self._pose._simulated_timestamp = t_us - 33333
        if self._quiet:  # MediaPipe logs once more on its first detection
            with _quiet_native_stderr():
                result = self._pose.process(rgb)
            self._quiet = result.pose_landmarks is None
        else:
            result = self._pose.process(rgb)
        if result.pose_landmarks is None:
            return PoseFrame(frame=frame, people=())
        image, world = landmarks_from_mediapipe(result.pose_landmarks, result.pose_world_landmarks)
        mask = None
        if self.config.segmentation and result.segmentation_mask is not None:
            mask = np.asarray(result.segmentation_mask, dtype=np.float32)
        person = Person(id=0, landmarks=image, world=world, score=pose_score(image), mask=mask)
        return PoseFrame(frame=frame, people=(person,))

    def close(self) -> None:
        self._pose.close()

    def __enter__(self) -> "BlazePoseEstimator":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
