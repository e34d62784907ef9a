"""The synthetic performer: a motion played by the mannequin in front of a known camera,
rendered frame by frame, with exact ground truth for every frame.

Frames (see :mod:`arpose.retarget.body` and :mod:`arpose.types`)
--------------------------------------------------------------
* *stage*: where motions live: rig axes (metres, +Y up, +X subject's left, +Z subject's
  forward), floor at y = 0, subject starting at the origin.
* *world*: the camera-attached rig frame, ``world = MP_TO_RIG @ camera``: +X image right, +Y the
  camera's up, +Z towards the camera. ``world = R_yaw @ stage + (lateral, -camera_height,
  -distance)``: with yaw 0 the subject faces the camera (root rotation identity), standing
  ``distance`` metres in front of it on a floor ``camera_height`` metres below it.
* *camera*: OpenCV (x right, y down, z forward), ``camera = MP_TO_RIG @ world``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

import numpy as np
from scipy.spatial.transform import Rotation

from ..errors import ConfigError
from ..landmarks import NUM_LANDMARKS
from ..landmarks import PoseLandmark as L
from ..skeleton import BONE_INDEX, MP_TO_RIG, forward_kinematics, markers_from_pose
from ..source import Source
from ..types import Camera, Frame
from .hands import finger_kinematics, finger_local_rotations, hand_landmarks
from .mannequin import MannequinConfig, sole_points
from .motions import Motion, get_motion

DEFAULT_FPS = 30.0


@dataclass(frozen=True)
class Placement:
    """Where the performer stands relative to the camera.

    distance: metres from the camera to the stage origin (the subject's start), along the
        camera's axis. camera_height: the camera's height above the floor, metres (the camera
        looks horizontally). yaw_deg: the subject's facing, a turn about the vertical axis
        (0 = facing the camera, +90 = facing the image's right).
    lateral: stage origin's offset to the image's right, metres.
    """

    distance: float = 3.0
    camera_height: float = 1.0
    yaw_deg: float = 0.0
    lateral: float = 0.0

    def __post_init__(self) -> None:
        if not (0.3 <= self.distance <= 50.0):
            raise ConfigError(f"performer distance must be 0.3 to 50 m from the camera, got {self.distance}")

    @property
    def rotation(self) -> Rotation:
        """Stage to world rotation (a turn about +Y)."""
        return Rotation.from_euler("y", self.yaw_deg, degrees=True)

    @property
    def translation(self) -> np.ndarray:
        """``(3,)`` stage origin in world, metres."""
        return np.array([self.lateral, -self.camera_height, -self.distance])


@dataclass(frozen=True)
class GroundTruth:
    """Exact pose of the performer in one frame.

    index, timestamp: the frame's. markers_camera: ``(33, 3)`` the BlazePose-equivalent
    markers (:func:`arpose.skeleton.markers_from_pose`) in the OpenCV camera frame, metres.
    markers_px: ``(33, 2)`` their pixel projections (x right, y down). markers_world:
    ``(33, 3)`` in *world*. joint_positions: ``(B, 3)`` and joint_rotations ``(B, 4)`` global,
    *world*. local_rotations: ``(B, 4)`` each bone relative to its parent (rig convention; the
    root's is the body's orientation in *world*, identity = facing the camera).
    root_position: ``(3,)`` Hips in *world*. offsets: ``(B, 3)`` the mannequin's rest offsets.
    finger_positions, finger_rotations: ``(30, 3)`` / ``(30, 4)`` the finger bones
    (:data:`arpose.skeleton.FINGER_BONES`) global, *world*. Quaternions ``(x, y, z, w)``.
    """

    index: int
    timestamp: float
    markers_camera: np.ndarray
    markers_px: np.ndarray
    markers_world: np.ndarray
    joint_positions: np.ndarray
    joint_rotations: np.ndarray
    local_rotations: np.ndarray
    root_position: np.ndarray
    offsets: np.ndarray
    finger_positions: np.ndarray | None = None
    finger_rotations: np.ndarray | None = None

    @property
    def root_rotation(self) -> np.ndarray:
        """``(4,)`` body orientation in *world*."""
        return self.local_rotations[0]

    @property
    def markers_mp_world(self) -> np.ndarray:
        """``(33, 3)`` markers in MediaPipe's world frame (metres, origin the hip centre,
        x image-right, y down, z away from the camera): comparable with ``Person.world``."""
        hip = (self.markers_camera[L.LEFT_HIP] + self.markers_camera[L.RIGHT_HIP]) / 2.0
        return self.markers_camera - hip


@dataclass(frozen=True)
class GroundTruthSequence:
    """Ground truth for ``F`` frames, the fields of :class:`GroundTruth` stacked along a first
    axis of length ``F`` (``timestamps`` ``(F,)`` seconds), and the hands':

    finger_flexion ``(F, 2, 5, 3)`` and finger_abduction ``(F, 2, 5)``: degrees, per hand
    (:class:`arpose.landmarks.Side`, the subject's), finger (thumb .. little) and joint (base
    to tip), in :func:`arpose.retarget.fingers.solve_hand`'s convention (the angles the
    fingers were posed with; zeros = open flat hand). finger_local_rotations ``(F, 30, 4)``.
    hand_points ``(F, 2, 21, 3)``: the 21 hand landmarks (MediaPipe order) in *world*;
    hand_px ``(F, 2, 21, 2)`` their pixels. gestures ``(F,)``: the gesture shown ("" when
    none).
    """

    timestamps: np.ndarray
    markers_camera: np.ndarray
    markers_px: np.ndarray
    markers_world: np.ndarray
    joint_positions: np.ndarray
    joint_rotations: np.ndarray
    local_rotations: np.ndarray
    root_position: np.ndarray
    offsets: np.ndarray
    camera: Camera = field(repr=False, default=None)  # type: ignore[assignment]
    finger_flexion: np.ndarray | None = field(repr=False, default=None)
    finger_abduction: np.ndarray | None = field(repr=False, default=None)
    finger_local_rotations: np.ndarray | None = field(repr=False, default=None)
    finger_positions: np.ndarray | None = field(repr=False, default=None)
    finger_rotations: np.ndarray | None = field(repr=False, default=None)
    hand_points: np.ndarray | None = field(repr=False, default=None)
    hand_px: np.ndarray | None = field(repr=False, default=None)
    gestures: tuple[str, ...] | None = field(repr=False, default=None)

    def __len__(self) -> int:
        return int(self.timestamps.shape[0])

    def __getitem__(self, i: int) -> GroundTruth:
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"frame {i} out of range (0..{n - 1})")
        i = i % n
        return GroundTruth(
            index=i,
            timestamp=float(self.timestamps[i]),
            markers_camera=self.markers_camera[i],
            markers_px=self.markers_px[i],
            markers_world=self.markers_world[i],
            joint_positions=self.joint_positions[i],
            joint_rotations=self.joint_rotations[i],
            local_rotations=self.local_rotations[i],
            root_position=self.root_position[i],
            offsets=self.offsets,
            finger_positions=None if self.finger_positions is None else self.finger_positions[i],
            finger_rotations=None if self.finger_rotations is None else self.finger_rotations[i],
        )

    @property
    def hands_in_view(self) -> np.ndarray:
        """``(F, 2)`` bool per hand (:class:`arpose.landmarks.Side`): all 21 true hand points
        in front of the camera and inside the image (occlusion is not checked)."""
        if self.hand_px is None or self.camera is None:
            return np.zeros((len(self), 2), dtype=bool)
        px = self.hand_px
        inside = (px[..., 0] >= 0) & (px[..., 0] < self.camera.width) & (px[..., 1] >= 0)
        inside &= px[..., 1] < self.camera.height
        ahead = (self.hand_points @ MP_TO_RIG.T)[..., 2] > 0
        return (inside & ahead).all(axis=-1)

    @property
    def root_rotation(self) -> np.ndarray:
        """``(F, 4)`` body orientation in *world* (the Hips' local rotation)."""
        return self.local_rotations[:, 0]

    @property
    def markers_mp_world(self) -> np.ndarray:
        """``(F, 33, 3)``: see :attr:`GroundTruth.markers_mp_world`."""
        c = self.markers_camera
        return c - (c[:, L.LEFT_HIP] + c[:, L.RIGHT_HIP])[:, None] / 2.0

    @property
    def torso_px(self) -> np.ndarray:
        """``(F,)`` torso size in pixels (PCK reference), from the true markers."""
        from ..evaluate.metrics import torso_sizes

        return torso_sizes(self.markers_px)


def _lowest_sole(positions: np.ndarray, rotations: np.ndarray, offsets: np.ndarray, scale: float) -> np.ndarray:
    """``(F,)`` lowest y of both shoes' contact points (heel, ball) for posed skeletons
    ``positions`` ``(F, B, 3)``, ``rotations`` ``(F, B, 4)``."""
    soles = sole_points(offsets, scale)
    ys = []
    for side in ("Left", "Right"):
        b = BONE_INDEX[f"{side}Foot"]
        r = Rotation.from_quat(rotations[:, b])
        for p in soles.values():
            ys.append(positions[:, b, 1] + r.apply(p)[:, 1])
    return np.min(np.stack(ys, axis=1), axis=1)


def pose_sequence(
    motion: Motion,
    times: np.ndarray,
    camera: Camera,
    mannequin: MannequinConfig = MannequinConfig(),
    placement: Placement = Placement(),
) -> GroundTruthSequence:
    """Pose the mannequin with ``motion`` at ``times`` ``(F,)`` seconds and place it in front of
    ``camera``: every ground-truth array (see :class:`GroundTruth`) for those frames.

    The motion's lift (its root y) becomes the Hips height that puts the lowest shoe point that
    high above the floor, for this mannequin's own leg lengths.
    """
    t = np.asarray(times, dtype=np.float64).reshape(-1)
    s = motion.sample(t)
    offsets = mannequin.offsets()
    k = mannequin.scale
    local = np.array(s.local_rotations, dtype=np.float64, copy=True)
    zero = np.zeros((t.size, 3))
    pos0, rot0 = forward_kinematics(local, zero, offsets)  # stage frame, Hips at the origin
    root_stage = np.array(s.root_position, dtype=np.float64, copy=True)
    root_stage[:, 1] = s.root_position[:, 1] - _lowest_sole(pos0, rot0, offsets, k)
    place = placement.rotation
    root_world = place.apply(root_stage) + placement.translation
    local[:, 0] = (place * Rotation.from_quat(local[:, 0])).as_quat()
    pos, rot = forward_kinematics(local, root_world, offsets)
    markers_world = markers_from_pose(pos, rot, scale=k)
    markers_camera = markers_world @ MP_TO_RIG.T
    px = camera.project(markers_camera.reshape(-1, 3)).reshape(t.size, NUM_LANDMARKS, 2)
    flexion = np.zeros((t.size, 2, 5, 3)) if s.finger_flexion is None else np.asarray(s.finger_flexion, np.float64)
    abduction = np.zeros((t.size, 2, 5)) if s.finger_abduction is None else np.asarray(s.finger_abduction, np.float64)
    finger_local = finger_local_rotations(flexion, abduction)
    fpos, frot, ftips = finger_kinematics(pos, rot, finger_local, k)
    hand_points = hand_landmarks(pos, fpos, ftips)
    hand_px = camera.project((hand_points @ MP_TO_RIG.T).reshape(-1, 3)).reshape(t.size, 2, 21, 2)
    return GroundTruthSequence(
        timestamps=t,
        markers_camera=markers_camera,
        markers_px=px,
        markers_world=markers_world,
        joint_positions=pos,
        joint_rotations=rot,
        local_rotations=local,
        root_position=root_world,
        offsets=offsets,
        camera=camera,
        finger_flexion=flexion,
        finger_abduction=abduction,
        finger_local_rotations=finger_local,
        finger_positions=fpos,
        finger_rotations=frot,
        hand_points=hand_points,
        hand_px=hand_px,
        gestures=tuple(s.gestures) if s.gestures is not None else ("",) * t.size,
    )


class PerformerSource(Source):
    """Frames of the mannequin performing ``motion``, with ground truth per frame index.

    motion: a :class:`~arpose.performer.motions.Motion` or its name / BVH path.
    seconds: length (default: the motion's natural length, or 4 s for endless procedural
        motions). fps: frame rate (default 30; timestamps are ``index / fps``).
    camera: intrinsics (default 640x480, 60 degree horizontal field of view).
    mannequin, placement: body and where it stands (placement None: the motion's own ``view``
        for a close-up motion, else :class:`Placement`'s defaults). background: RGB in [0, 1] or a BGR image.
    noise, seed: sensor noise (8-bit levels) and its seed; rendering is deterministic.

    ``truth`` holds the whole :class:`GroundTruthSequence` before any frame is rendered;
    ``ground_truth(i)`` one frame's. Iterating renders every frame and releases the OpenGL
    context at the end; :meth:`render` renders one frame on demand (then call ``close()``).
    The source can be iterated again (it renders again, identically).
    """

    kind = "performer"
    is_sequence = True

    def __init__(
        self,
        motion: Motion | str = "wave",
        seconds: float | None = None,
        fps: float = DEFAULT_FPS,
        camera: Camera | None = None,
        mannequin: MannequinConfig = MannequinConfig(),
        placement: Placement | None = None,
        background: tuple[float, float, float] | np.ndarray | None = None,
        noise: float = 0.0,
        seed: int = 0,
    ) -> None:
        self.motion = get_motion(motion) if isinstance(motion, str) else motion
        if not (1.0 <= fps <= 1000.0):
            raise ConfigError(f"performer fps must be 1 to 1000, got {fps}")
        if seconds is None:
            seconds = self.motion.duration if self.motion.duration else 4.0
        if not (0.0 < seconds <= 3600.0):
            raise ConfigError(f"performer length must be more than 0 and at most 3600 s, got {seconds}")
        if not (np.isfinite(noise) and noise >= 0.0):
            raise ConfigError(f"--noise must be a standard deviation >= 0 in 8-bit levels, got {noise}")
        self.camera = camera or Camera.from_fov(640, 480, 60.0)
        self.fps = float(fps)
        self.size = (self.camera.width, self.camera.height)
        self.frame_count = max(1, int(round(seconds * fps)))
        self.name = f"performer-{self.motion.name}"
        self.mannequin = mannequin
        if placement is None:
            view = getattr(self.motion, "view", None)
            placement = Placement(distance=view[0], camera_height=view[1]) if view else Placement()
        self.placement = placement
        self._render_args = dict(background=background, noise=noise, seed=seed)
        self.truth = pose_sequence(
            self.motion, np.arange(self.frame_count) / self.fps, self.camera, mannequin, placement
        )
        self._renderer = None

    def ground_truth(self, index: int) -> GroundTruth:
        """Ground truth of frame ``index``."""
        return self.truth[index]

    @property
    def renderer(self):
        """The :class:`~arpose.performer.render.MannequinRenderer` (created on first use)."""
        if self._renderer is None:
            from .render import DEFAULT_BACKGROUND, MannequinRenderer

            args = dict(self._render_args)
            if args["background"] is None:
                args["background"] = DEFAULT_BACKGROUND
            self._renderer = MannequinRenderer(self.camera, self.mannequin, **args)
        return self._renderer

    def render(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """``(image (H, W, 3) uint8 BGR, depth (H, W) float32 metres, 0 = background)`` of
        frame ``index``."""
        gt = self.truth
        posed = gt.finger_local_rotations is not None and bool(
            (np.abs(gt.finger_local_rotations[index, :, 3]) < 1.0 - 1e-12).any()
        )
        fingers = (gt.finger_positions[index], gt.finger_rotations[index]) if posed else None  # None: flat hands
        return self.renderer.render(gt.joint_positions[index], gt.joint_rotations[index], index=index, fingers=fingers)

    def __iter__(self) -> Iterator[Frame]:
        """Render every frame in order. The OpenGL context is released when the iteration
        ends, on the thread that iterated (pipelined runtimes iterate on a capture thread)."""
        try:
            for i in range(self.frame_count):
                image, _ = self.render(i)
                yield Frame(image=image, timestamp=float(self.truth.timestamps[i]), index=i)
        finally:
            self.close()

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
