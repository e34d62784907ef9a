"""Global bone frames for rendering: where each bone of :mod:`arpose.skeleton` is and how it
is turned in the frame the overlays are drawn in.

Frame of reference (everything here)
------------------------------------
The camera-attached rig *world* of :class:`arpose.retarget.BodyPose`: metres, right-handed,
+X the image's right, +Y the camera's up, +Z towards the camera (out of the screen). This is
exactly OpenGL's camera frame with the camera at the origin, so the renderer uses an identity
camera pose. ``world = MP_TO_RIG @ opencv_camera`` (:data:`arpose.skeleton.MP_TO_RIG`).
A bone's rotation maps its rest frame (rig axes at the T-pose: +Y up, +Z the subject's
forward, +X the subject's left) into *world*. Quaternions ``(x, y, z, w)``.

Bones come from a :class:`arpose.retarget.BodyPose` by forward kinematics of its local
rotations (:meth:`BodyFrames.from_body`). The bones props hang on are then anchored where
the props are seen, in the image (:class:`PropAnchors`, :func:`prop_frames`): the head by its
face landmarks, other bones at their landmarks' pixels, each smoothed in pixels, depth and
rotation, so the root fit's shake and the chain of parent bones do not move a prop. A person without one (no retarget stage ran, e.g.
``--no-retarget``) is retargeted here by the retargeting package itself,
:func:`arpose.retarget.body_for_person`, from that frame alone (:meth:`BodyFrames.from_person`):
the same solver and root fit as the stage, with no state between frames, so a pipeline with
the retarget stage gives steadier bones (calibrated lengths, held bones, smoothed depth,
grounding).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Iterable

import numpy as np
from scipy.spatial.transform import Rotation

from ..landmarks import NUM_LANDMARKS, VISIBILITY
from ..landmarks import PoseLandmark as L
from ..retarget import BodyPose, RetargetConfig, body_for_person
from ..retarget.geometry import matrices_to_quats, quat_multiply
from ..skeleton import BONE_INDEX, JOINT_WEIGHTS, MARKER_OFFSETS, MP_TO_RIG, NUM_BONES, PARENTS, REST_OFFSETS
from ..smooth.one_euro import OneEuroParams, OneEuroState, one_euro_step
from ..types import Camera, Person

_IDENTITY = np.array([0.0, 0.0, 0.0, 1.0])
#: Hip centre to shoulder centre of the default skeleton (metres): the body's scale unit.
_REST_TORSO = float(np.linalg.norm(REST_OFFSETS[1:5].sum(axis=0)))


@dataclass(frozen=True)
class BodyFrames:
    """One person's bones in *world* (see the module docstring).

    positions: ``(B, 3)`` metres, each bone's joint; NaN rows where unknown.
    rotations: ``(B, 4)`` global rotations ``(x, y, z, w)``; NaN rows where unknown.
    local_rotations: ``(B, 4)`` each bone relative to its parent (identity where unknown),
        the root's relative to *world*; what drives the avatar.
    scale: the body's size relative to the default 1.72 m skeleton (1.0 = default).
    landmarks: ``(33, 3)`` the BlazePose landmarks in *world*, metres, or ``None``.
    """

    positions: np.ndarray
    rotations: np.ndarray
    local_rotations: np.ndarray
    scale: float
    landmarks: np.ndarray | None = None

    def valid(self, bone: int) -> bool:
        """True when bone ``bone`` (index) has a finite position and rotation."""
        return bool(np.isfinite(self.positions[bone]).all() and np.isfinite(self.rotations[bone]).all())

    @classmethod
    def from_body(cls, body: BodyPose, person: Person | None = None) -> "BodyFrames":
        """From a :class:`arpose.retarget.BodyPose`. ``person`` (optional) supplies the world
        landmarks, placed with the body's root (MediaPipe's world origin is the hip centre,
        the Hips joint)."""
        offsets = np.asarray(body.offsets, dtype=np.float64)
        local = np.asarray(body.local_rotations, dtype=np.float64)
        root = np.asarray(body.root_position, dtype=np.float64)
        if not (np.isfinite(local).all() and np.isfinite(root).all()):
            nan = np.full((NUM_BONES, 3), np.nan)
            return cls(nan, np.full((NUM_BONES, 4), np.nan), np.tile(_IDENTITY, (NUM_BONES, 1)), 1.0, None)
        rotations = global_rotations(local)
        positions = np.asarray(body.positions, dtype=np.float64)
        scale = body_scale(offsets)
        lms = None
        if person is not None and person.world is not None and np.isfinite(person.world).all():
            lms = np.asarray(person.world, dtype=np.float64) @ MP_TO_RIG.T + root
        return cls(positions, rotations, local, scale, lms)

    @classmethod
    def from_person(cls, person: Person, camera: Camera, config: RetargetConfig = RetargetConfig()) -> "BodyFrames":
        """:meth:`from_body` of the person's retargeted body, or, when it has none, of
        :func:`arpose.retarget.body_for_person` (this frame alone, ``config``; ``camera``: the
        intrinsics for the root fit, sized like the image). Bones whose landmarks are below
        ``config.solver.min_visibility`` take their rest rotation relative to the parent; without a
        root fit every row is NaN."""
        body = person.body if person.body is not None else body_for_person(person, camera, config)
        return cls.from_body(body, person)


def body_scale(offsets: np.ndarray) -> float:
    """A body's size relative to the default 1.72 m skeleton from its ``(B, 3)`` rest offsets
    (metres): hip-centre-to-shoulder-centre length over the default's (1 if degenerate)."""
    torso = float(np.linalg.norm(np.asarray(offsets, dtype=np.float64)[1:5].sum(axis=0)))
    return torso / _REST_TORSO if np.isfinite(torso) and torso > 0 else 1.0


#: BlazePose's face landmarks (nose, eyes, ears, mouth): rigid points of the head.
FACE_LANDMARKS: tuple[int, ...] = tuple(range(int(L.MOUTH_RIGHT) + 1))
#: The face points that place the head (eyes and ears): the nose and mouth turn the fit but
#: moved its position more than they steadied it (on the performer, ``arpose eval``).
HEAD_POSITION_LANDMARKS: tuple[int, ...] = tuple(range(int(L.LEFT_EYE_INNER), int(L.RIGHT_EAR) + 1))
#: The steady reference the head's fast motion is taken from: ears and shoulders, whose image
#: positions jitter least (the eyes jitter most); the head's offset from them is smoothed slowly.
HEAD_REFERENCE_LANDMARKS: tuple[int, ...] = (L.LEFT_EAR, L.RIGHT_EAR, L.LEFT_SHOULDER, L.RIGHT_SHOULDER)
_HEAD = BONE_INDEX["Head"]
_FACE = np.array(FACE_LANDMARKS)
_FACE_TEMPLATE = MARKER_OFFSETS[_FACE]  # (11, 3) metres in the Head bone's frame, default body
_POSITION = np.isin(_FACE, HEAD_POSITION_LANDMARKS)
_EARS = np.array([L.LEFT_EAR, L.RIGHT_EAR])
#: Whose motion opens the head's filter: the face and the shoulders.
MOTION_LANDMARKS: tuple[int, ...] = tuple(range(int(L.RIGHT_SHOULDER) + 1))


@dataclass(frozen=True)
class AnchorConfig:
    """How :class:`PropAnchors` steadies the bones props are worn on.

    smooth: filter over time (False: every frame on its own, for unrelated stills).
    image: One Euro of a bone's anchor in the image (pixels; speeds are turned into metres per
        second at the bone's depth, so ``beta`` is Hz per m/s whatever the distance). The
        head's cutoff opens with the speed of :data:`MOTION_LANDMARKS` (their mean's velocity
        low-passed at ``motion_cutoff`` Hz), not with its own anchor's, whose noise would open it.
    relative: One Euro of the head's offset from :data:`HEAD_REFERENCE_LANDMARKS` (pixels,
        Hz per m/s): the slow part of the head's motion.
    depth: One Euro of the bone's distance from the camera (metres).
    rotation: One Euro of the bone's rotation (quaternion components, per second).
    motion_cutoff: Hz, see ``image``.
    calibration_seconds: the face fit's rotation is turned by the mean offset to the body's
        head rotation over a person's first this many seconds (the fit's template is the
        default body's face; BlazePose's face points sit elsewhere on a real head: on the
        performer the bare fit is tilted about 17 degrees), then that offset is fixed.
    Every filter starts from the mean of its first samples (:func:`warm_start`). The defaults
    were chosen on the performer's motions (``arpose eval``, docs/overlays.md).
    min_visibility: landmarks below this are not used to anchor (the body's joint is).
    reset_seconds: a bone unseen this long starts afresh.
    """

    smooth: bool = True
    image: OneEuroParams = field(default_factory=lambda: OneEuroParams(1.0, 80.0, 2.0))
    relative: OneEuroParams = field(default_factory=lambda: OneEuroParams(0.5, 3.0, 1.0))
    depth: OneEuroParams = field(default_factory=lambda: OneEuroParams(0.5, 1.0, 1.0))
    rotation: OneEuroParams = field(default_factory=lambda: OneEuroParams(0.3, 0.5, 1.0))
    motion_cutoff: float = 8.0
    calibration_seconds: float = 0.5
    min_visibility: float = 0.5
    reset_seconds: float = 0.5


def _kabsch(a: np.ndarray, b: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``(3, 3)`` rotation ``R`` minimising ``sum w_i |R a_i + t - b_i|^2`` (weighted Kabsch)
    for ``(N, 3)`` points ``a``, ``b`` and ``(N,)`` weights ``w`` (sum > 0)."""
    w = w / w.sum()
    h = ((a - w @ a) * w[:, None]).T @ (b - w @ b)
    u, _, vt = np.linalg.svd(h)
    d = np.sign(np.linalg.det(vt.T @ u.T))
    return vt.T @ np.diag([1.0, 1.0, d]) @ u.T


def unproject(pixel: np.ndarray, depth: float, camera: Camera) -> np.ndarray:
    """``(3,)`` *world* point (metres, +Z towards the camera) at ``pixel`` ``(2,)`` (x right,
    y down) and ``depth`` metres in front of the camera."""
    return np.array([(pixel[0] - camera.cx) * depth / camera.fx, -(pixel[1] - camera.cy) * depth / camera.fy, -depth])


def project(point: np.ndarray, camera: Camera) -> np.ndarray:
    """``(2,)`` pixel of a ``(3,)`` *world* point in front of the camera."""
    d = -point[2]
    return np.array([camera.fx * point[0] / d + camera.cx, -camera.fy * point[1] / d + camera.cy])


def face_pose(
    pixels: np.ndarray, relative_depth: np.ndarray, visibility: np.ndarray, depth: float, camera: Camera, scale: float
) -> tuple[np.ndarray, np.ndarray] | None:
    """The head's rotation and joint from its face landmarks: the image points lifted to 3D
    and the default face (:data:`arpose.skeleton.MARKER_OFFSETS`) fitted to them.

    pixels: ``(11, 2)`` the :data:`FACE_LANDMARKS` in pixels (x right, y down). relative_depth:
    ``(11,)`` metres, each point's distance from the camera minus the ear centre's (MediaPipe
    world z: the image gives x and y far more precisely than depth). visibility: ``(11,)`` in
    [0, 1], the points' weights (NaN = 0). depth: metres from the camera to the head joint (the
    ear centre). scale: the body's size over the default body's.
    Returns ``(rotation (3, 3) head frame -> *world*, joint (3,) *world* metres)``, or None
    with fewer than 3 weighted points for the rotation or none of
    :data:`HEAD_POSITION_LANDMARKS`. The rotation is the weighted Kabsch fit of all points; the
    joint the mean of the eyes and ears less their rotated template offsets.
    """
    px = np.asarray(pixels, dtype=np.float64)
    z = depth + np.asarray(relative_depth, dtype=np.float64)
    w = np.asarray(visibility, dtype=np.float64)
    ok = np.isfinite(px).all(axis=1) & np.isfinite(z) & np.isfinite(w) & (w > 0) & (z > 0)
    w = np.where(ok, w, 0.0)
    if np.count_nonzero(ok) < 3 or not (w * _POSITION).any():
        return None
    points = np.stack([(px[:, 0] - camera.cx) * z / camera.fx, -(px[:, 1] - camera.cy) * z / camera.fy, -z], axis=1)
    points = np.where(ok[:, None], points, 0.0)
    template = _FACE_TEMPLATE * scale
    rotation = _kabsch(template, points, w)
    wp = w * _POSITION
    joint = wp @ (points - template @ rotation.T) / wp.sum()
    return rotation, joint


@dataclass
class _BoneState:
    """One bone's filters (One Euro states) and the head's calibration."""

    last: float
    pixel: OneEuroState | None = None
    depth: OneEuroState | None = None
    rotation: OneEuroState | None = None
    quat: np.ndarray | None = None
    relative: OneEuroState | None = None
    reference: tuple[int, ...] = ()
    start: float = 0.0
    offset_sum: np.ndarray | None = None
    centre: np.ndarray | None = None
    velocity: OneEuroState | None = None
    count: int = 0
    dt: float = 0.0

    def warm(self, params: OneEuroParams) -> OneEuroParams:
        """``params`` for this bone's filters on its :attr:`count`-th frame, :attr:`dt` seconds
        after the last: :func:`warm_start`."""
        return warm_start(params, self.count, self.dt)


def warm_start(params: OneEuroParams, n: int, dt: float) -> OneEuroParams:
    """``params`` for a filter's ``n``-th observation (1-based), ``dt`` seconds after the last:
    the minimum cutoff raised so that the new sample weighs at least ``1 / n``. A still signal
    then starts at the mean of its first samples instead of dwelling on the first one for as
    long as the filter's time constant (no start-up drift); once ``1 / n`` falls below the
    filter's own weight, ``params`` are returned as they are."""
    if n <= 1 or not dt > 0:
        return params
    floor = 1.0 / (2.0 * np.pi * dt * (n - 1))  # a weight of w / (w + 1) = 1 / n
    return params if params.min_cutoff >= floor else replace(params, min_cutoff=floor)


class PropAnchors:
    """Steady bone frames for the props of one person (the thin stateful part; the geometry
    is :func:`face_pose`, the filters :func:`arpose.smooth.one_euro.one_euro_step`).

    A prop is seen in the image, so its bone is anchored and smoothed there, not through the
    chain from the root fit through every parent bone (whose rotations and the fit's own
    shake move a crown by pixels):

    * the **Head** is placed by its face landmarks (:func:`face_pose`: the image's eyes and
      ears at the body's head depth, turned by the fit of all 11 face points, whose rotation is
      calibrated against the body's over the first seconds). Its fast motion follows the ears
      and shoulders (:data:`HEAD_REFERENCE_LANDMARKS`); its offset from them is smoothed slowly;
    * any other bone's joint is its landmarks' pixel (:data:`arpose.skeleton.JOINT_WEIGHTS`)
      when they are visible, else the body's; its rotation is the body's;
    * then every anchor is smoothed in the image (pixels), its depth and rotation over time.

    The estimator's unsmoothed landmarks (``Person.raw_landmarks``) are used when present:
    this is the one smoothing of an anchor. Bones not asked for keep the body's values.
    """

    def __init__(self, config: AnchorConfig = AnchorConfig()) -> None:
        self.config = config
        self._bones: dict[int, _BoneState] = {}

    def reset(self) -> None:
        """Forget every bone's filters and calibration."""
        self._bones.clear()

    def update(
        self, frames: BodyFrames, person: Person, camera: Camera, timestamp: float, bones: Iterable[int]
    ) -> BodyFrames:
        """``frames`` with the joints and rotations of ``bones`` (indices) anchored and smoothed.

        frames: the person's bones (:meth:`BodyFrames.from_person`, *world*). person: their
        landmarks (pixels from ``raw_landmarks`` if set, else ``landmarks``; world landmarks
        for the face's relative depth). camera: intrinsics sized like the image. timestamp:
        seconds, increasing. Bones unknown in ``frames`` stay unknown. Returns a new
        :class:`BodyFrames` (``frames`` is not modified).
        """
        cfg = self.config
        if not cfg.smooth:
            self._bones.clear()
        lm = person.raw_landmarks if person.raw_landmarks is not None else person.landmarks
        lm = np.asarray(lm, dtype=np.float64)
        px = lm[:, :2] * (camera.width, camera.height)
        vis = np.nan_to_num(lm[:, VISIBILITY])
        positions, rotations = frames.positions.copy(), frames.rotations.copy()
        for b in dict.fromkeys(int(i) for i in bones):
            st = self._bones.get(b)
            if st is None or timestamp - st.last > cfg.reset_seconds:
                st = self._bones[b] = _BoneState(last=timestamp, start=timestamp)
            if not frames.valid(b) or frames.positions[b][2] >= 0:
                continue
            st.count, st.dt, st.last = st.count + 1, timestamp - st.last, timestamp
            q_body = frames.rotations[b]
            depth = -frames.positions[b][2]
            if cfg.smooth:
                z, st.depth = one_euro_step(st.depth, np.array([depth]), timestamp, st.warm(cfg.depth))
                depth = float(z[0])
            fit = None
            if b == _HEAD:
                fit = self._head(st, person, px, vis, depth, camera, frames.scale, q_body, timestamp)
            if fit is not None:
                pixel, q = fit
            else:
                q = q_body
                pixel = project(frames.positions[b], camera)
                used = JOINT_WEIGHTS[b] != 0
                if vis[used].min() >= cfg.min_visibility and np.isfinite(px[used]).all():
                    pixel = JOINT_WEIGHTS[b] @ np.where(used[:, None], px, 0.0)
            if cfg.smooth and fit is not None:
                # the head's cutoff opens with the whole head's and shoulders' motion in the
                # image, not with one point's noise (13 points: their mean barely jitters)
                speed = self._motion(st, px, timestamp) / (camera.fx / depth)
                cutoff = cfg.image.min_cutoff + cfg.image.beta * speed
                pixel, st.pixel = one_euro_step(st.pixel, pixel, timestamp, st.warm(OneEuroParams(cutoff)))
            elif cfg.smooth:
                pixel, st.pixel = one_euro_step(
                    st.pixel, pixel, timestamp, st.warm(cfg.image), scale=camera.fx / depth, speed_axis=-1
                )
            if cfg.smooth:
                if st.quat is not None and np.dot(st.quat, q) < 0:
                    q = -q
                q, st.rotation = one_euro_step(st.rotation, q, timestamp, st.warm(cfg.rotation), speed_axis=-1)
                q = q / np.linalg.norm(q)
                st.quat = q
            positions[b], rotations[b] = unproject(pixel, depth, camera), q
        return replace(frames, positions=positions, rotations=rotations)

    def _motion(self, st: _BoneState, px: np.ndarray, timestamp: float) -> float:
        """Speed (pixels per second) of the mean of :data:`MOTION_LANDMARKS` that are in the
        image: their velocity low-passed at :attr:`AnchorConfig.motion_cutoff`. 0 on a first
        frame or after a gap."""
        pts = px[list(MOTION_LANDMARKS)]
        pts = pts[np.isfinite(pts).all(axis=1)]
        if not len(pts):
            return 0.0
        centre, previous, st.centre = pts.mean(axis=0), st.centre, pts.mean(axis=0)
        if previous is None or st.count <= 1 or not st.dt > 0:
            return 0.0
        v, st.velocity = one_euro_step(
            st.velocity, (centre - previous) / st.dt, timestamp, OneEuroParams(self.config.motion_cutoff)
        )
        return float(np.linalg.norm(v))

    def _head(
        self,
        st: _BoneState,
        person: Person,
        px: np.ndarray,
        vis: np.ndarray,
        depth: float,
        camera: Camera,
        scale: float,
        q_body: np.ndarray,
        timestamp: float,
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """The head's anchor pixel ``(2,)`` and rotation ``(4,)`` from its face, or None."""
        cfg = self.config
        world = np.asarray(person.world, dtype=np.float64)
        if world.shape != (NUM_LANDMARKS, 3):
            return None
        rel = world[_FACE, 2] - world[_EARS, 2].mean()
        fit = face_pose(px[_FACE], rel, vis[_FACE], depth, camera, scale)
        if fit is None:
            return None
        r_fit, joint = fit
        q_fit = matrices_to_quats(r_fit)
        offset = quat_multiply(q_fit * [-1.0, -1.0, -1.0, 1.0], q_body)  # fit^-1 * body
        if st.offset_sum is None or (cfg.smooth and timestamp - st.start <= cfg.calibration_seconds):
            total = np.zeros(4) if st.offset_sum is None or not cfg.smooth else st.offset_sum
            st.offset_sum = total + (offset if np.dot(total, offset) >= 0 else -offset)
        q = quat_multiply(q_fit, st.offset_sum / np.linalg.norm(st.offset_sum))
        pixel = project(joint, camera)
        if cfg.smooth:
            ref = tuple(
                i for i in HEAD_REFERENCE_LANDMARKS if vis[i] >= cfg.min_visibility and np.isfinite(px[i]).all()
            )
            if ref:
                centre = px[list(ref)].mean(axis=0)
                if ref != st.reference and st.pixel is not None:
                    # other reference points than last frame's: restart the offset where the
                    # anchor is, so the anchor does not jump with the reference's centre
                    st.relative = None
                    pixel = st.pixel.y
                delta, st.relative = one_euro_step(
                    st.relative,
                    pixel - centre,
                    timestamp,
                    st.warm(cfg.relative),
                    scale=camera.fx / depth,
                    speed_axis=-1,
                )
                st.reference = ref
                pixel = centre + delta
        return pixel, q


def prop_frames(
    person: Person,
    camera: Camera,
    timestamp: float,
    anchors: PropAnchors,
    bones: Iterable[int],
    retarget: RetargetConfig = RetargetConfig(),
) -> BodyFrames:
    """The bone frames props are drawn on: :meth:`BodyFrames.from_person` (``retarget`` for a
    person without a body) with ``bones`` anchored by ``anchors`` (that person's
    :class:`PropAnchors`) at ``timestamp`` seconds. What :class:`arpose.render.overlay.PropRenderer`
    draws and :mod:`arpose.evaluate.props` scores."""
    return anchors.update(BodyFrames.from_person(person, camera, retarget), person, camera, timestamp, bones)


def global_rotations(local_rotations: np.ndarray) -> np.ndarray:
    """``(B, 4)`` global rotations ``(x, y, z, w)`` from ``(B, 4)`` local ones: the rotation
    half of :func:`arpose.skeleton.forward_kinematics` (one scipy conversion each way and a
    matrix product per bone, for the renderer's per-frame budget)."""
    local = Rotation.from_quat(local_rotations).as_matrix()
    out = np.empty_like(local)
    for i in range(NUM_BONES):
        p = PARENTS[i]
        out[i] = local[i] if p < 0 else out[p] @ local[i]
    return Rotation.from_matrix(out).as_quat()


# -- parts fitted to the face mesh and the hands -------------------------------------------------

#: What a prop part can be fitted to (the manifest's ``fit``): ``"eyes"`` (a Head part: the face
#: mesh's outer eye corners and nose bridge) and ``"ring_finger"`` (a LeftHand / RightHand part:
#: that hand's ring finger, between its knuckle and middle joint).
FITS = ("eyes", "ring_finger")
#: Face mesh points of the eyes fit: the outer eye corners (subject's left 263, right 33), the
#: nose bridge between the eyes (168) and the cheek edges (454, 234, for the bridge's depth).
EYE_FIT_POINTS = {"left_corner": 263, "right_corner": 33, "bridge": 168, "cheeks": (454, 234)}
#: Outer eye corner to outer eye corner, metres (adult average), for the face's distance when the
#: body gives none.
EYE_CORNER_WIDTH_M = 0.09
#: Where a ring sits on the proximal phalanx: this fraction of the way from the knuckle (MCP) to
#: the middle joint (PIP).
RING_POSITION = 0.4
#: Index knuckle to little knuckle, metres (adult average), for the hand's distance when neither
#: the body nor the hand's world landmarks give one.
KNUCKLE_WIDTH_M = 0.075


def _unit3(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v / n if n > 1e-9 and np.isfinite(n) else np.full(3, np.nan)


def _frame_matrix(x: np.ndarray, up: np.ndarray, origin: np.ndarray) -> np.ndarray | None:
    """``(4, 4)`` rigid frame: X along ``x``, Y ``up`` made perpendicular to it, Z = X x Y."""
    x = _unit3(x)
    y = _unit3(up - float(np.dot(up, x)) * x)
    m = np.eye(4)
    m[:3, :3] = np.stack([x, y, np.cross(x, y)], axis=1)
    m[:3, 3] = origin
    return m if np.isfinite(m).all() else None


def eyes_frame(person: Person, camera: Camera, frames: BodyFrames | None = None) -> tuple[np.ndarray, float] | None:
    """The frame an ``"eyes"`` part (glasses) is fitted to, from the person's face mesh, or None
    when no face is seen (``Person.face`` None or NaN).

    Returns ``(matrix (4, 4), width)``: *world* (metres, +X image right, +Y up, +Z towards the
    camera); origin on the nose bridge (mesh point 168: its pixel exactly), X from the subject's
    right outer eye corner (33) to the left one (263) in 3D (the mesh's relative depth), Y the
    head's up (``Person.face_pose.head_rotation``, else
    :func:`arpose.retarget.hands_face.head_rotation_from_face`) made perpendicular to X, Z = X x Y
    (the face's forward); ``width``: metres between the outer eye corners. Depth: the bridge's,
    from the Head bone's joint in ``frames`` (when known) moved forward by the mesh's bridge-to-
    cheek depth, else the distance at which the corners are :data:`EYE_CORNER_WIDTH_M` apart.
    """
    from ..retarget.face import face_points
    from ..retarget.hands_face import head_rotation_from_face

    face = person.face
    if face is None:
        return None
    size = (camera.width, camera.height)
    idx = EYE_FIT_POINTS
    need = [idx["left_corner"], idx["right_corner"], idx["bridge"], *idx["cheeks"]]
    face = np.asarray(face, dtype=np.float64)
    if face.shape[0] <= max(need) or not np.isfinite(face[need, :3]).all():
        return None
    pts = face_points(face, size)  # pixels, rig axes, z towards the camera on the scale of x
    across = pts[idx["left_corner"]] - pts[idx["right_corner"]]
    width_px = float(np.linalg.norm(across))
    if not width_px > 1.0:
        return None
    q = getattr(person.face_pose, "head_rotation", None)
    if q is None or not np.isfinite(q).all():
        q = head_rotation_from_face(face, size)
    if q is None:
        return None
    up = Rotation.from_quat(q).as_matrix()[:, 1]
    head = BONE_INDEX["Head"]
    if frames is not None and frames.valid(head) and frames.positions[head][2] < 0:
        d_head = -float(frames.positions[head][2])
        ahead = pts[idx["bridge"], 2] - pts[list(idx["cheeks"]), 2].mean()  # pixels, towards the camera
        depth = d_head - ahead * d_head / camera.fx
    else:
        depth = camera.fx * EYE_CORNER_WIDTH_M * (frames.scale if frames is not None else 1.0) / width_px
    if not depth > 0.05:
        return None
    origin = unproject(face[idx["bridge"], :2] * size, depth, camera)
    m = _frame_matrix(across, up, origin)
    return None if m is None else (m, width_px * depth / camera.fx)


def ring_finger_frame(
    person: Person, side: int, camera: Camera, frames: BodyFrames | None = None, min_confidence: float = 0.5
) -> tuple[np.ndarray, float] | None:
    """The frame a ``"ring_finger"`` part (a ring) is fitted to on the subject's ``side`` hand
    (:class:`arpose.landmarks.Side`), or None when that hand is not seen (``Person.hands`` None,
    NaN, or its confidence under ``min_confidence``).

    Returns ``(matrix (4, 4), width)``: *world*; origin :data:`RING_POSITION` of the way from the
    ring finger's knuckle (MCP) to its middle joint (PIP), exactly on that pixel; X along the
    finger (knuckle -> middle joint, 3D with the hand model's relative depth), Y the back of the
    hand (the Hand bone's rest +Y turned by ``Person.fingers.hand_rotations``, else by
    :func:`arpose.retarget.fingers.hand_rotation` of the points) made perpendicular to X, Z = X x
    Y; ``width``: metres, the mean distance from the ring knuckle to the middle and little
    knuckles (about a finger's width). Depth: the wrist's, from the Hand bone in ``frames``, else
    from the hand's world landmarks (``Person.hands_world``: the palm's size in metres over its
    size in pixels), else :data:`KNUCKLE_WIDTH_M`; plus the point's relative depth.
    """
    from ..landmarks import HandLandmark as HL
    from ..retarget.fingers import hand_rotation

    hands = person.hands
    if hands is None:
        return None
    hand = np.asarray(hands[int(side)], dtype=np.float64)
    if not np.isfinite(hand[:, :3]).all() or not float(hand[0, VISIBILITY]) >= min_confidence:
        return None
    size = np.array([camera.width, camera.height, camera.width], dtype=np.float64)
    pts = hand[:, :3] * size @ MP_TO_RIG.T  # pixels, rig axes (x right, y up, z towards the camera)
    mcp, pip = pts[HL.RING_MCP], pts[HL.RING_PIP]
    rot = None
    if person.fingers is not None:
        q = np.asarray(person.fingers.hand_rotations[int(side)], dtype=np.float64)
        rot = Rotation.from_quat(q).as_matrix() if np.isfinite(q).all() else None
    if rot is None:
        rot = hand_rotation(pts, side)
    if rot is None:
        return None
    palm = [HL.WRIST, HL.INDEX_MCP, HL.PINKY_MCP]
    pairs = ((palm[0], palm[1]), (palm[0], palm[2]), (palm[1], palm[2]))
    palm_px = sum(float(np.linalg.norm(pts[a] - pts[b])) for a, b in pairs)
    bone = BONE_INDEX["LeftHand" if int(side) == 0 else "RightHand"]
    world = None if person.hands_world is None else np.asarray(person.hands_world[int(side)], dtype=np.float64)
    if frames is not None and frames.valid(bone) and frames.positions[bone][2] < 0:
        d_wrist = -float(frames.positions[bone][2])
    elif world is not None and np.isfinite(world[palm]).all():
        palm_m = sum(float(np.linalg.norm(world[a] - world[b])) for a, b in pairs)
        d_wrist = camera.fx * palm_m / palm_px
    else:
        d_wrist = camera.fx * KNUCKLE_WIDTH_M / float(np.linalg.norm(pts[HL.INDEX_MCP] - pts[HL.PINKY_MCP]))
    centre = mcp + RING_POSITION * (pip - mcp)
    depth = d_wrist - (centre[2] - pts[HL.WRIST, 2]) * d_wrist / camera.fx
    if not depth > 0.05:
        return None
    pixel = hand[HL.RING_MCP, :2] + RING_POSITION * (hand[HL.RING_PIP, :2] - hand[HL.RING_MCP, :2])
    m = _frame_matrix(pip - mcp, rot[:, 1], unproject(pixel * size[:2], depth, camera))
    width_px = 0.5 * (np.linalg.norm(mcp - pts[HL.MIDDLE_MCP]) + np.linalg.norm(mcp - pts[HL.PINKY_MCP]))
    return None if m is None else (m, float(width_px) * depth / camera.fx)
