"""Synthetic people for the retargeting tests: known skeleton poses turned into the
landmark arrays BlazePose would give (world + image), through a known camera."""

from __future__ import annotations

import numpy as np
import pytest

from arpose import skeleton as sk
from arpose.types import Camera, Frame, Person, PoseFrame


class Synth:
    """Builds :class:`Person` objects from local rotations (rig frame)."""

    camera = Camera.from_fov(640, 480, 60.0)

    def markers(
        self, local: np.ndarray, root=(0.0, 0.0, 0.0), height: float = 1.72
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Rig-frame markers ``(33, 3)``, joint positions and global rotations."""
        pos, rot = sk.forward_kinematics(local, np.asarray(root, float), sk.scaled_offsets(height))
        return sk.markers_from_pose(pos, rot, scale=height / 1.72), pos, rot

    def person(
        self,
        local: np.ndarray,
        cam_rotation: np.ndarray = np.eye(3),
        cam_translation=(0.0, 0.0, 3.0),
        height: float = 1.72,
        pid: int = 0,
        visibility: np.ndarray | None = None,
        px_noise: float = 0.0,
        rng: np.random.Generator | None = None,
    ) -> Person:
        """A person whose MediaPipe world landmarks are the markers (hip-centred, MP axes)
        and whose image landmarks are their projection by ``camera = R @ mp + t``."""
        m, _, _ = self.markers(local, height=height)
        hc = (m[23] + m[24]) / 2
        mp = (m - hc) @ sk.MP_TO_RIG.T
        cam = mp @ np.asarray(cam_rotation).T + np.asarray(cam_translation)
        px = self.camera.project(cam)
        if px_noise:
            px = px + rng.normal(scale=px_noise, size=px.shape)
        lm = np.ones((33, 5), np.float32)
        lm[:, 0] = px[:, 0] / self.camera.width
        lm[:, 1] = px[:, 1] / self.camera.height
        lm[:, 2] = 0.0
        if visibility is not None:
            lm[:, 3] = visibility
        return Person(id=pid, landmarks=lm, world=mp.astype(np.float32), score=1.0)

    def frame(self, people, t: float, index: int = 0) -> PoseFrame:
        img = np.zeros((self.camera.height, self.camera.width, 3), np.uint8)
        return PoseFrame(Frame(img, t, index), tuple(people))


@pytest.fixture
def synth() -> Synth:
    return Synth()


@pytest.fixture
def rest_local() -> np.ndarray:
    return np.tile([0.0, 0.0, 0.0, 1.0], (sk.NUM_BONES, 1))
