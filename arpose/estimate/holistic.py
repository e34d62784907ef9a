"""Body, hands and face: a pose estimator plus hands (:mod:`.hands`) and faces (:mod:`.face`).

:class:`HolisticEstimator` wraps any pose estimator (the LiteRT backend, MediaPipe's classic
single-person graph, MediaPipe Tasks for several people): it runs the pose, then the hand and face models
on regions around each person found, and returns the same :class:`~arpose.types.PoseFrame`
with ``Person.hands`` / ``hands_world`` / ``face`` filled (all-NaN arrays where a hand or the
face is not seen; ``None`` for what was not asked for). Same timestamps, same people, same ids.

Why not MediaPipe's ``solutions.holistic``: it runs only on one person, always runs the face,
and finds hands only through the pose's wrists, so a hand close to the camera without a body
is not found (measured on ``hands_asl_fingerspelling_tfjs.mp4``: hands on 9 of the first 150
frames, against 150 here; docs/hands_face.md).

Single-person path (``single_person=True``): when the pose finds nobody but hands or a face are
seen (a hand or a face close to a webcam), the frame gets one person, id 0, with an all-NaN
body (``score`` 0) carrying them. With several people, hands and faces join the people the
pose found and nothing else.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._cv import cv2
from ..landmarks import empty_image_landmarks, empty_world_landmarks
from ..stats import SampleStats
from ..types import Frame, Person, PoseFrame
from .face import FaceConfig, FaceMesh
from .hands import HandsConfig, HandTracker

__all__ = ["HolisticConfig", "HolisticEstimator"]


@dataclass(frozen=True)
class HolisticConfig:
    """hands / face: which parts to add to the pose. tracking: frames are a sequence (hands
    are tracked from frame to frame; False: unrelated stills). single_person: see the module
    doc. hands_config / face_config: the parts' settings (their ``single_person`` is set from
    this one)."""

    hands: bool = False
    face: bool = False
    tracking: bool = True
    single_person: bool = True
    hands_config: HandsConfig = field(default_factory=HandsConfig)
    face_config: FaceConfig = field(default_factory=FaceConfig)


class HolisticEstimator:
    """``process(frame) -> PoseFrame``: the wrapped pose estimator's people with hands and
    faces. ``timings`` holds the seconds spent per frame on ``"pose"``, ``"hands"`` and
    ``"face"`` (:class:`arpose.stats.SampleStats`). Owns ``pose``: :meth:`close` closes it."""

    def __init__(self, pose: Any, config: HolisticConfig = HolisticConfig()) -> None:
        from dataclasses import replace

        self.pose = pose
        self.config = config
        self.hands = None
        self.face = None
        try:
            if config.hands:
                hc = replace(config.hands_config, single_person=config.single_person)
                self.hands = HandTracker(hc, tracking=config.tracking)
            if config.face:
                self.face = FaceMesh(replace(config.face_config, single_person=config.single_person))
        except BaseException:
            self.close()
            raise
        self.timings: dict[str, SampleStats] = {k: SampleStats() for k in ("pose", "hands", "face")}

    def process(self, frame: Frame) -> PoseFrame:
        t0 = time_now()
        pf = self.pose.process(frame)
        t1 = time_now()
        self.timings["pose"].add(t1 - t0)
        if self.hands is None and self.face is None:
            return pf
        rgb = cv2.cvtColor(frame.image, cv2.COLOR_BGR2RGB)
        people = list(pf.people)
        poses = [np.asarray(p.landmarks) for p in people]
        changes: list[dict[str, Any]] = [{} for _ in people]
        extra: dict[str, Any] = {}
        if self.hands is not None:
            per_person, bodiless = self.hands.process(rgb, poses, frame.timestamp)
            for c, (hands, world) in zip(changes, per_person):
                c.update(hands=hands, hands_world=world)
            if bodiless is not None and np.isfinite(bodiless[0]).any():
                extra.update(hands=bodiless[0], hands_world=bodiless[1])
            t2 = time_now()
            self.timings["hands"].add(t2 - t1)
            t1 = t2
        if self.face is not None:
            per_person, bodiless = self.face.process(rgb, poses)
            for c, face in zip(changes, per_person):
                c.update(face=face)
            if bodiless is not None and np.isfinite(bodiless).any():
                extra.update(face=bodiless)
            self.timings["face"].add(time_now() - t1)
        out = [p.with_(**c) for p, c in zip(people, changes)]
        if not people and extra:
            out.append(self._bodiless(extra))
        return pf.with_people(out)

    def _bodiless(self, parts: dict[str, Any]) -> Person:
        """Person 0 with no body: NaN pose, score 0, the parts seen (the others all-NaN)."""
        from ..landmarks import empty_face, empty_hands, empty_hands_world

        filled: dict[str, Any] = {}
        if self.hands is not None:
            filled.update(
                hands=parts.get("hands", empty_hands()), hands_world=parts.get("hands_world", empty_hands_world())
            )
        if self.face is not None:
            filled.update(face=parts.get("face", empty_face()))
        return Person(id=0, landmarks=empty_image_landmarks(), world=empty_world_landmarks(), score=0.0, **filled)

    def summary(self) -> dict[str, float]:
        """Median milliseconds per frame of ``pose``, ``hands`` and ``face`` (NaN if not run)."""
        return {k: (v.percentile(50) * 1000.0 if v.count else math.nan) for k, v in self.timings.items()}

    def close(self) -> None:
        errors = []
        for part in (self.hands, self.face, self.pose):
            close = getattr(part, "close", None)
            if close is None:
                continue
            try:
                close()
            except Exception as exc:  # close the others; re-raise the first below
                errors.append(exc)
        if errors:
            raise errors[0]

    def __enter__(self) -> "HolisticEstimator":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def time_now() -> float:
    import time

    return time.perf_counter()
