"""The retargeting pipeline stage: per-person state around the pure solvers.

For each person (keyed by :attr:`Person.id`) and frame:

1. world landmarks to rig axes (:func:`~arpose.retarget.solver.mp_world_to_rig`);
2. bone lengths: robust median over the first seconds, then frozen (:mod:`.calibrate`);
3. rotations (:func:`~arpose.retarget.solver.solve`), signs continuous with the last frame;
   bones with low visibility hold their last rotation for ``hold_seconds``, then rest; no
   bone but the Hips turns faster than ``max_turn_speed``, and a bone that was unseen eases
   to its new rotation (seen again, or its hold over) at ``return_speed`` (:func:`ease_rotations`);
4. root 6D pose in camera space (:func:`~arpose.retarget.root.fit_root_pose`): the whole
   body is moved from MediaPipe's hip-centred world into the camera-attached rig *world* of
   :class:`BodyPose`; without a fit the last fit is reused for ``hold_seconds``, then the root
   is NaN;
5. foot grounding (:mod:`.grounding`);
   over a person's first ``settle_seconds`` (and ``settle_frames``) the body is marked not
   :attr:`~BodyPose.settled`: BlazePose's first frames are its least steady (on
   ``single_dance_woman.mp4`` the root fit comes 0.7 m closer and the hips 0.3 m higher over
   the first 0.3 s), so streams wait for a settled body before sending poses;
6. joint angles (:mod:`.angles`) into :attr:`Person.angles`.

:func:`body_for_person` is the same retargeting for one frame with no state at all (steps 1-4
from this frame alone: no calibration over time, hold, sign continuity, depth smoothing or
grounding); :func:`place_body` is the placement of step 4, shared by both.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from ..landmarks import VISIBILITY
from ..skeleton import MP_TO_RIG, NUM_BONES, forward_kinematics
from ..smooth.one_euro import OneEuroParams, OneEuroState, one_euro_step
from ..stats import SampleStats
from ..types import Camera, Person, PoseFrame
from .angles import joint_angles
from .body import BodyPose
from .calibrate import BoneCalibrator, CalibrationConfig, standing_height
from .geometry import IDENTITY_QUAT, continuous, matrices_to_quats, quat_multiply, turn_towards
from .grounding import FootGrounder, GroundingConfig, GroundingStats
from .root import RootFit, RootFitConfig, fit_root_pose
from .solver import SolverConfig, mp_world_to_rig, solve

_REST_QUATS = np.tile(IDENTITY_QUAT, (NUM_BONES, 1))
_MP_TO_RIG_DIAG = np.diag(MP_TO_RIG).copy()
_MP_TO_RIG_SIGNS = np.outer(_MP_TO_RIG_DIAG, _MP_TO_RIG_DIAG)
assert np.array_equal(MP_TO_RIG, np.diag(_MP_TO_RIG_DIAG))  # the sign shortcuts above need a diagonal


@dataclass(frozen=True)
class RetargetConfig:
    """solver / calibration / root / grounding: the parts' configs. depth_smoothing: One Euro
    parameters (Hz, Hz per m/s) for the root's distance from the camera, the noisiest part of
    the fit; the root slides along its viewing ray, so the overlay's reprojection is unchanged
    (``None``: off). subject_height: the person's real standing height in metres, if known:
    MediaPipe's world follows an average body, so the whole body is scaled about the camera
    centre to this height (same pixels, metric depth); ``None`` keeps MediaPipe's scale.
    hold_seconds: how long a bone (or the root fit) keeps its last value when
    unseen. return_speed: degrees per second: a bone that was unseen (visibility under the
    solver's threshold) turns to its new rotation at most this fast once seen again, or when
    its hold runs out (so any return takes at most ``180 / return_speed`` seconds) (``None``:
    it snaps). max_turn_speed: degrees per second no bone but the Hips turns faster than
    between frames (a flip of an ill-defined twist is eased; the Hips carry the body's turn,
    which a pirouette takes past 1000 degrees per second) (``None``: no limit).
    grounding_enabled: apply foot grounding. forget_seconds: drop a person's state after this
    long unseen. settle_seconds, settle_frames: a person's body is :attr:`BodyPose.settled`
    after this long and this many frames with a known root."""

    solver: SolverConfig = field(default_factory=SolverConfig)
    calibration: CalibrationConfig = field(default_factory=CalibrationConfig)
    root: RootFitConfig = field(default_factory=RootFitConfig)
    grounding: GroundingConfig = field(default_factory=GroundingConfig)
    grounding_enabled: bool = True
    depth_smoothing: OneEuroParams | None = field(default_factory=lambda: OneEuroParams(0.5, 1.0, 1.0))
    subject_height: float | None = None
    hold_seconds: float = 0.5
    return_speed: float | None = 360.0
    max_turn_speed: float | None = 600.0
    forget_seconds: float = 5.0
    settle_seconds: float = 0.5
    settle_frames: int = 5


def place_body(body: BodyPose, rotation: np.ndarray, translation: np.ndarray, scale: float = 1.0) -> BodyPose:
    """``body`` moved from the hip-centred rig frame (as :func:`solve` returns it) into the
    camera-attached rig *world* of :class:`BodyPose` by a root fit (:class:`RootFit`).

    rotation: ``(3, 3)`` MediaPipe world -> OpenCV camera; translation: ``(3,)`` metres, the hip
    centre in the OpenCV camera frame (x right, y down, z forward). scale: the whole body
    (root, positions, offsets) is scaled about the camera centre by this factor, which keeps
    every pixel (1: MediaPipe's scale). The Hips' local rotation and ``rotations`` (global,
    ``(B, 4)`` ``(x, y, z, w)``) are turned into *world*; quaternion signs are not made
    continuous with anything. Returns a new :class:`BodyPose` (``body`` is not modified).
    """
    r_rig = rotation * _MP_TO_RIG_SIGNS  # MP_TO_RIG @ R @ MP_TO_RIG (a diagonal of signs)
    t_rig = translation * _MP_TO_RIG_DIAG  # MP_TO_RIG @ t
    rr = matrices_to_quats(r_rig)
    turned = quat_multiply(rr, np.concatenate([body.local_rotations[:1], body.rotations]))
    local = body.local_rotations.copy()
    local[0] = turned[0]
    root, positions, offsets = r_rig @ body.root_position + t_rig, body.positions @ r_rig.T + t_rig, body.offsets
    if scale != 1.0:
        root, positions, offsets = scale * root, scale * positions, scale * offsets
    return replace(
        body, local_rotations=local, root_position=root, positions=positions, offsets=offsets, rotations=turned[1:]
    )


def _unplaced(body: BodyPose) -> BodyPose:
    """``body`` with an unknown root (no root fit): NaN root and positions, rotations kept."""
    return replace(body, root_position=np.full(3, np.nan), positions=np.full_like(body.positions, np.nan))


def _height_scale(config: RetargetConfig, offsets: np.ndarray, ends: np.ndarray) -> float:
    """Factor taking a skeleton with these rest offsets and ends to ``config.subject_height``
    (1 when not set)."""
    if config.subject_height is None:
        return 1.0
    return config.subject_height / standing_height(offsets, ends)


def ease_rotations(
    previous: np.ndarray,
    target: np.ndarray,
    easing: np.ndarray,
    dt: float,
    return_speed: float | None,
    max_turn_speed: float | None,
) -> tuple[np.ndarray, np.ndarray]:
    """One frame of easing local bone rotations (pure).

    previous: ``(B, 4)`` last frame's output local rotations ``(x, y, z, w)``; target: ``(B, 4)``
    this frame's solved ones (same frame, the hip-centred rig frame of :func:`solve`).
    easing: ``(B,)`` bool, the bones returning from low visibility (turned at ``return_speed``,
    the others at ``max_turn_speed``; degrees per second, ``None``: unlimited). dt: seconds
    since ``previous``. The Hips (row 0) are never limited. Returns ``(local (B, 4), reached
    (B,))``: each bone turned from ``previous`` towards ``target`` by at most its speed times
    ``dt`` (:func:`~arpose.retarget.geometry.turn_towards`), and whether it reached ``target``.
    """
    fast = np.inf if max_turn_speed is None else np.radians(max_turn_speed) * dt
    slow = fast if return_speed is None else min(fast, np.radians(return_speed) * dt)
    limit = np.where(easing, slow, fast)
    limit[0] = np.inf
    return turn_towards(previous, target, limit)


def _with_local(body: BodyPose, local: np.ndarray) -> BodyPose:
    """``body`` (hip-centred, from :func:`solve`) with other local rotations: global rotations
    and joint positions by forward kinematics from the same root and offsets."""
    positions, rotations = forward_kinematics(local, body.root_position, body.offsets)
    return replace(body, local_rotations=local, positions=positions, rotations=rotations)


def body_for_person(person: Person, camera: Camera, config: RetargetConfig = RetargetConfig()) -> BodyPose:
    """One person's :class:`BodyPose` in the camera-attached *world*, from this frame alone.

    The pure counterpart of :class:`Retargeter`: bone lengths measured on this frame
    (:class:`BoneCalibrator`, one update), rotations by :func:`solve` (bones whose landmarks
    are below ``config.solver.min_visibility`` take the rest rotation), the root by
    :func:`fit_root_pose` (no previous guess) placed by :func:`place_body`, scaled to
    ``config.subject_height`` if set. Equal to what :class:`RetargetStage` gives on a person's
    first frame, except that there is no grounding (``foot_contact`` False, ``floor_height``
    NaN). With nothing carried between frames the bones are less steady than the stage's (no
    length calibration over time, hold, depth smoothing or grounding): a pipeline with the
    retarget stage gives steadier bones.

    person: image landmarks ``(33, 5)`` (normalised, visibility in column 3) and world
    landmarks ``(33, 3)`` (metres, MediaPipe world). camera: intrinsics; its size is the
    image's (landmarks are normalised). Without a root fit (fewer than
    ``config.root.min_points`` visible landmarks, or a fit behind the camera) the root and
    positions are NaN and the rotations are kept.
    """
    points = mp_world_to_rig(person.world)
    vis = np.asarray(person.landmarks[:, VISIBILITY], dtype=np.float64)
    lengths = BoneCalibrator(config.calibration)
    lengths.update(points, vis, 0.0)
    body = solve(points, vis, lengths.offsets, config.solver, _REST_QUATS)
    fit = fit_root_pose(person.world, person.pixels(camera.width, camera.height), vis, camera, config.root)
    if fit is None:
        return _unplaced(body)
    placed = place_body(body, fit.rotation, fit.translation, _height_scale(config, body.offsets, lengths.ends))
    return replace(placed, reprojection_error_px=fit.rms_px)


class Retargeter:
    """Retargeting state of one person. ``camera=None`` keeps the body in MediaPipe's
    hip-centred world (rig axes): no root fit and no grounding."""

    def __init__(self, config: RetargetConfig = RetargetConfig(), camera: Camera | None = None) -> None:
        self.config = config
        self.camera = camera
        self.calibrator = BoneCalibrator(config.calibration)
        self.grounder = FootGrounder(config.grounding)
        self._prev_local: np.ndarray | None = None  # last output (after the root pose)
        self._prev_solved: np.ndarray | None = None  # last solver output (hip-centred)
        self._last_seen = np.full(NUM_BONES, -np.inf)
        self._easing = np.zeros(NUM_BONES, dtype=bool)  # returning from low visibility
        self._fit: RootFit | None = None
        self._fit_time = -np.inf
        self._depth_state: OneEuroState | None = None
        self.last_time = -np.inf
        self.reprojection_errors = SampleStats()  # root fit RMS, pixels (bounded)
        self.settled = False  # see BodyPose.settled
        self._first_time: float | None = None
        self._frames = 0  # frames with a known root

    def update(self, person: Person, timestamp: float) -> tuple[BodyPose, dict[str, float]]:
        """Body pose and joint angles for ``person`` at ``timestamp`` (seconds)."""
        cfg = self.config
        points = mp_world_to_rig(person.world)
        vis = np.asarray(person.landmarks[:, VISIBILITY], dtype=np.float64)
        self.calibrator.update(points, vis, timestamp)

        fallback = _REST_QUATS.copy()
        if self._prev_solved is not None:
            hold = (timestamp - self._last_seen) <= cfg.hold_seconds
            fallback[hold] = self._prev_solved[hold]
        body = solve(points, vis, self.calibrator.offsets, cfg.solver, fallback, self._prev_local)
        seen = body.bone_confidence >= cfg.solver.min_visibility
        self._last_seen[seen] = timestamp
        self._easing |= ~seen
        if self._prev_solved is not None and timestamp > self.last_time:
            local, reached = ease_rotations(
                self._prev_solved,
                body.local_rotations,
                self._easing,
                timestamp - self.last_time,
                cfg.return_speed,
                cfg.max_turn_speed,
            )
            self._easing &= ~(reached & seen)
            if not reached.all():
                body = _with_local(body, continuous(local, self._prev_solved))
        self._prev_solved = body.local_rotations

        if self.camera is not None:
            body = self._place(body, person, vis, timestamp)
            if cfg.grounding_enabled:
                body = self.grounder.update(body, body.rotations, timestamp)
        self._prev_local = body.local_rotations
        self.last_time = timestamp
        body = replace(body, settled=self._settle(body, timestamp))
        return body, joint_angles(points, vis, cfg.solver.min_visibility)

    def _settle(self, body: BodyPose, timestamp: float) -> bool:
        """Whether the person has settled (see :attr:`BodyPose.settled`), counting this frame."""
        if not self.settled and (self.camera is None or np.isfinite(body.root_position).all()):
            self._first_time = timestamp if self._first_time is None else self._first_time
            self._frames += 1
            cfg = self.config
            self.settled = self._frames >= cfg.settle_frames and timestamp - self._first_time >= cfg.settle_seconds
        return self.settled

    def _place(self, body: BodyPose, person: Person, vis: np.ndarray, timestamp: float) -> BodyPose:
        """Move ``body`` from the hip-centred rig frame into camera-attached *world*."""
        cam = self.camera
        px = np.asarray(person.landmarks[:, :2], dtype=np.float64) * np.array([cam.width, cam.height])
        fit = fit_root_pose(person.world, px, vis, cam, self.config.root, guess=self._fit)
        rms = float("nan")
        if fit is not None:
            self._fit, self._fit_time, rms = fit, timestamp, fit.rms_px
            self.reprojection_errors.add(rms)
        elif self._fit is None or timestamp - self._fit_time > self.config.hold_seconds:
            return _unplaced(body)
        t_cam = self._fit.translation
        if self.config.depth_smoothing is not None and fit is not None:
            z, self._depth_state = one_euro_step(self._depth_state, t_cam[2:], timestamp, self.config.depth_smoothing)
            t_cam = t_cam * (z[0] / t_cam[2])  # along the viewing ray: same pixel, smoothed depth
            self._fit = replace(self._fit, translation=t_cam)
        scale = _height_scale(self.config, body.offsets, self.calibrator.ends)
        placed = place_body(body, self._fit.rotation, t_cam, scale)
        local = continuous(placed.local_rotations, self._prev_local)
        return replace(placed, local_rotations=local, reprojection_error_px=rms)


class RetargetStage:
    """Pipeline stage ``"retarget"``: fills :attr:`Person.body` (:class:`BodyPose`) and
    :attr:`Person.angles` for everyone, keeping one :class:`Retargeter` per ``Person.id``.

    camera: intrinsics for the root pose (``None``: bodies stay in MediaPipe's hip-centred
    world, rig axes). The camera's size should be the frames' size (landmarks are normalised).
    independent_frames: unrelated stills: every frame starts from fresh state (no length
    calibration, hold or grounding carried between photos).
    """

    name = "retarget"

    def __init__(
        self, config: RetargetConfig = RetargetConfig(), camera: Camera | None = None, independent_frames: bool = False
    ) -> None:
        self.config = config
        self.camera = camera
        self.independent_frames = independent_frames
        self.people: dict[int, Retargeter] = {}
        self._done_reprojection = SampleStats()
        self._done_grounding = GroundingStats()

    def process(self, pose_frame: PoseFrame) -> PoseFrame:
        t = pose_frame.timestamp
        if self.independent_frames:
            self._retire(list(self.people))
        out = []
        for person in pose_frame.people:
            r = self.people.get(person.id)
            if r is None:
                r = self.people[person.id] = Retargeter(self.config, self.camera)
            body, angles = r.update(person, t)
            out.append(person.with_(body=body, angles=angles))
        self._retire([k for k, r in self.people.items() if t - r.last_time > self.config.forget_seconds])
        return pose_frame.with_people(out)

    def _retire(self, ids: list[int]) -> None:
        for pid in ids:
            r = self.people.pop(pid)
            self._done_reprojection.merge(r.reprojection_errors)
            self._done_grounding.extend(r.grounder.stats)

    def summary(self) -> dict[str, float]:
        """Over everyone seen so far: ``reprojection_px_median`` (root fit RMS, pixels) and the
        grounding statistics of :meth:`GroundingStats.summary` (foot speed m/s and height above
        the floor m while in contact, before and after grounding). Memory is bounded: the
        percentiles are exact up to 8192 samples, then estimated (accuracy in :mod:`arpose.stats`)."""
        reproj = SampleStats()
        reproj.merge(self._done_reprojection)
        stats = GroundingStats()
        stats.extend(self._done_grounding)
        for r in self.people.values():
            reproj.merge(r.reprojection_errors)
            stats.extend(r.grounder.stats)
        out = {"reprojection_px_median": reproj.median()}
        out.update(stats.summary())
        return out
