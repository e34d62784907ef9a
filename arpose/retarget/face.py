"""Face mesh to head rotation, eye bones, a jaw value and expression weights (pure solvers
plus a small calibration state).

Frames and conventions
----------------------
* Input: the 478-point face ``(478, >=3)`` of :attr:`arpose.types.Person.face` (x, y normalised,
  z relative depth on the scale of x). :func:`face_points` turns it into a weak-perspective 3D
  shape in **pixels, rig axes** (x image right, y up, z towards the camera), in which angles and
  ratios are measured.
* **Head frame** (:func:`head_rotation`): x from the subject's right to left side of the face
  (eye outer corners and cheek edges), y from the chin to the forehead (made orthogonal),
  z = x cross y (forward). A face looking straight at the camera has the identity rotation,
  like the rest Head bone facing +Z. Quaternions ``(x, y, z, w)``.
* **Features** (:class:`FaceFeatures`) are measured in the head frame (the face turned to look
  straight at the camera) in units of the inter-ocular distance (IOD: between the two eye
  centres), so they do not change with distance, roll, yaw or pitch:
  eye aspect ratio per eye (mean of three lid gaps over the corner-to-corner width), inner lip
  gap, mouth width, mouth-corner lift above the lips' centre, brow height above the eye centre
  (per side), and gaze (iris centre from the eye centre in eye half-widths, x towards the
  subject's left, y up).
* **Expression weights** (:class:`Expression`, each in [0, 1]) compare the features with a
  **neutral face** (:class:`NeutralFace`: eyes open, mouth closed and relaxed, looking ahead):
  population defaults (:data:`DEFAULT_NEUTRAL`, measured on the shared face media) until a
  calibration (:class:`FaceCalibrator`: the median over the first seconds a face is seen, or on
  request) replaces them. The solver's constants are in :class:`ExpressionConfig`; the formulas
  are in :func:`expression_weights` and docs/hands_face.md.
* Eye bones (``LeftEye`` / ``RightEye``, local to ``Head``): yaw and pitch from the gaze (both
  eyes together, the open one when one blinks), :attr:`ExpressionConfig.eye_yaw_deg` /
  ``eye_pitch_deg`` per half-width. Jaw: the mouth-open weight in [0, 1]; a rig's Jaw bone opens
  :data:`JAW_MAX_DEG` times it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from enum import IntEnum

import numpy as np

from ..errors import ConfigError
from ..landmarks import IRIS_POINTS, NUM_FACE_LANDMARKS, Side
from ..landmarks import FaceLandmark as F
from ..skeleton import MP_TO_RIG
from .geometry import axis_angle_matrices, matrices_to_quats

__all__ = [
    "DEFAULT_NEUTRAL",
    "Expression",
    "ExpressionConfig",
    "FaceCalibrator",
    "FaceFeatures",
    "FacePose",
    "JAW_MAX_DEG",
    "NeutralFace",
    "expression_weights",
    "eye_rotations",
    "face_features",
    "face_points",
    "head_rotation",
    "solve_face",
]

#: Degrees a Jaw bone opens at ``jaw = 1`` (about a wide-open mouth).
JAW_MAX_DEG = 25.0


class Expression(IntEnum):
    """Indices of :attr:`FacePose.expressions` (left/right are the subject's)."""

    BLINK_LEFT = 0
    BLINK_RIGHT = 1
    MOUTH_OPEN = 2
    A = 3
    I = 4  # noqa: E741  (the vowel)
    U = 5
    E = 6
    O = 7  # noqa: E741
    BROWS_UP = 8
    BROWS_DOWN = 9
    SMILE = 10

    @property
    def label(self) -> str:
        """``blink_left``, ``a``, ``brows_up`` ...: the name in files and streams."""
        return self.name.lower()


NUM_EXPRESSIONS = len(Expression)
#: The five vowel shapes, in order.
VOWELS = (Expression.A, Expression.I, Expression.U, Expression.E, Expression.O)


@dataclass(frozen=True)
class FaceFeatures:
    """Measurements of one face in its head frame, in inter-ocular distances (see module doc).

    ear: ``(2,)`` eye aspect ratio per :class:`~arpose.landmarks.Side` (open about 0.3, shut
    under 0.12). mouth_gap: inner lip gap. mouth_width: corner to corner. smile_lift: the mean
    height of the mouth corners above the lips' centre (up positive). brow: ``(2,)`` brow height
    above its eye's centre per side. gaze: ``(2, 2)`` per side the iris centre's offset from the
    eye's centre ``(x towards the subject's left, y up)`` in eye half-widths. iod_px: the
    inter-ocular distance itself in the units of the points (pixels), NaN if unknown.
    """

    ear: np.ndarray
    mouth_gap: float
    mouth_width: float
    smile_lift: float
    brow: np.ndarray
    gaze: np.ndarray
    iod_px: float = float("nan")


@dataclass(frozen=True)
class NeutralFace:
    """The features of a neutral face (eyes open, mouth closed and relaxed, looking ahead), in
    the units of :class:`FaceFeatures`."""

    ear: tuple[float, float] = (0.34, 0.34)
    mouth_gap: float = 0.0
    mouth_width: float = 0.80
    smile_lift: float = 0.0
    brow: tuple[float, float] = (0.32, 0.32)
    gaze: tuple[tuple[float, float], tuple[float, float]] = ((0.0, 0.2), (0.0, 0.2))


#: Population neutral face; replaced per person by :class:`FaceCalibrator`. Values measured on
#: the open-eyed, closed-mouth faces of the shared media (docs/hands_face.md).
DEFAULT_NEUTRAL = NeutralFace()


@dataclass(frozen=True)
class ExpressionConfig:
    """Constants of the expression solver (all in inter-ocular distances unless said).

    shut_fraction: an eye counts as fully shut when its aspect ratio falls to this fraction of
        the neutral one (blink 1); blink is linear from the neutral ratio (0) to there.
    open_gap: inner lip gap above neutral at which mouth open reaches 1.
    vowel_width: mouth width change (fraction of the neutral width) that counts as a full
        widening (I, E) or narrowing (U, O).
    vowel_sigma: spread of each vowel's region in the (openness, width) plane.
    vowel_gate: openness (mouth open weight) at and above which vowels have their full weight;
        below it they fade to 0 at a closed mouth (lips part for every vowel; a mouth narrower
        or wider than the neutral one but closed is not speaking).
    brow_up, brow_down: brow height change (IOD) for brows up / down = 1.
    smile_lift: corner lift above neutral (IOD) for smile = 1.
    eye_yaw_deg, eye_pitch_deg: eye bone turn per eye half-width of iris offset; eye_limit_deg:
        the largest eye turn.
    min_iod_px: a face with less than this many pixels between its eye centres gives no
        expressions, eye turns or jaw (NaN weights, eyes at rest): its eyes are a few pixels
        wide (on single_dance_man.mp4, 11 px between the eyes, blink read over 0.5 on 62% of
        frames of a man who is not blinking). Its head rotation is still given.
    """

    shut_fraction: float = 0.35
    open_gap: float = 0.55
    vowel_width: float = 0.15
    vowel_sigma: float = 0.28
    vowel_gate: float = 0.1
    brow_up: float = 0.10
    brow_down: float = 0.07
    smile_lift: float = 0.07
    eye_yaw_deg: float = 40.0
    eye_pitch_deg: float = 30.0
    eye_limit_deg: float = 30.0
    min_iod_px: float = 20.0

    def __post_init__(self) -> None:
        for f in fields(self):
            v = float(getattr(self, f.name))
            if not (math.isfinite(v) and v > 0):
                raise ConfigError(f"expression {f.name} must be a number > 0, got {getattr(self, f.name)!r}")
        if self.shut_fraction >= 1.0:
            raise ConfigError(f"expression shut_fraction must be below 1, got {self.shut_fraction!r}")


#: Vowel shapes in the (openness, width) plane: openness is the mouth-open weight in [0, 1],
#: width the mouth width change in units of :attr:`ExpressionConfig.vowel_width` (+1 wide,
#: -1 narrow). A: wide open; I: nearly closed and wide; U: nearly closed and narrow (pursed);
#: E: half open and wide; O: open and rounded (narrow). The neutral face is (0, 0).
VOWEL_SHAPES: dict[Expression, tuple[float, float]] = {
    Expression.A: (0.85, 0.2),
    Expression.I: (0.15, 1.0),
    Expression.U: (0.15, -1.0),
    Expression.E: (0.45, 0.8),
    Expression.O: (0.6, -0.9),
}


def face_points(face: np.ndarray, image_size: tuple[int, int]) -> np.ndarray:
    """``(478, 3)`` float64 pixels in rig axes (x image right, y up, z towards the camera) from
    ``face`` ``(478, >=3)`` (x, y normalised, z relative depth normalised by the width) of an
    image ``(width, height)``."""
    f = np.asarray(face, dtype=np.float64)[:, :3]
    w, h = float(image_size[0]), float(image_size[1])
    return (f * np.array([w, h, w])) @ MP_TO_RIG.T


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v / n if n > 1e-12 else np.full(3, np.nan)


def head_rotation(points: np.ndarray) -> np.ndarray | None:
    """``(3, 3)`` the head's rotation (rest facing +Z -> observed), rig axes, from the
    ``(478, 3)`` points of :func:`face_points`; None if degenerate."""
    p = np.asarray(points, dtype=np.float64)
    left = (p[F.LEFT_EYE_OUTER] + p[F.LEFT_CHEEK]) / 2.0
    right = (p[F.RIGHT_EYE_OUTER] + p[F.RIGHT_CHEEK]) / 2.0
    x = _unit(left - right)
    up = p[F.FOREHEAD] - p[F.CHIN]
    y = _unit(up - float(np.dot(up, x)) * x)
    z = np.cross(x, y)
    r = np.stack([x, y, z], axis=1)
    return r if np.isfinite(r).all() else None


def _eye_centre(p: np.ndarray, side: Side) -> np.ndarray:
    if side is Side.LEFT:
        return (p[F.LEFT_EYE_OUTER] + p[F.LEFT_EYE_INNER]) / 2.0
    return (p[F.RIGHT_EYE_OUTER] + p[F.RIGHT_EYE_INNER]) / 2.0


_LIDS = {
    Side.LEFT: (
        F.LEFT_EYE_OUTER,
        F.LEFT_EYE_INNER,
        (
            (F.LEFT_EYE_UPPER, F.LEFT_EYE_LOWER),
            (F.LEFT_EYE_UPPER_OUTER, F.LEFT_EYE_LOWER_OUTER),
            (F.LEFT_EYE_UPPER_INNER, F.LEFT_EYE_LOWER_INNER),
        ),
        (F.LEFT_BROW_INNER, F.LEFT_BROW_MID, F.LEFT_BROW_OUTER),
    ),
    Side.RIGHT: (
        F.RIGHT_EYE_OUTER,
        F.RIGHT_EYE_INNER,
        (
            (F.RIGHT_EYE_UPPER, F.RIGHT_EYE_LOWER),
            (F.RIGHT_EYE_UPPER_OUTER, F.RIGHT_EYE_LOWER_OUTER),
            (F.RIGHT_EYE_UPPER_INNER, F.RIGHT_EYE_LOWER_INNER),
        ),
        (F.RIGHT_BROW_INNER, F.RIGHT_BROW_MID, F.RIGHT_BROW_OUTER),
    ),
}


def face_features(points: np.ndarray, rotation: np.ndarray) -> FaceFeatures | None:
    """:class:`FaceFeatures` of the ``(478, 3)`` points of :func:`face_points` in the head frame
    ``rotation`` (:func:`head_rotation`); None if the eyes coincide or a point is NaN."""
    p = np.asarray(points, dtype=np.float64)
    if p.shape != (NUM_FACE_LANDMARKS, 3) or not np.isfinite(p).all():
        return None
    eye_l, eye_r = _eye_centre(p, Side.LEFT), _eye_centre(p, Side.RIGHT)
    iod = float(np.linalg.norm(eye_l - eye_r))
    if not iod > 1e-9:
        return None
    q = (p - (eye_l + eye_r) / 2.0) @ np.asarray(rotation, dtype=np.float64) / iod  # head frame, IOD units
    ear = np.zeros(2)
    brow = np.zeros(2)
    gaze = np.zeros((2, 2))
    for side in Side:
        outer, inner, pairs, brows = _LIDS[side]
        width = float(np.linalg.norm(q[outer] - q[inner]))
        gaps = [float(np.linalg.norm(q[a] - q[b])) for a, b in pairs]
        ear[side] = float(np.mean(gaps)) / max(width, 1e-9)
        centre = (q[outer] + q[inner]) / 2.0
        brow[side] = float(np.mean([q[b, 1] for b in brows]) - centre[1])
        iris = q[IRIS_POINTS[side][0]]
        gaze[side] = (iris[:2] - centre[:2]) / max(width / 2.0, 1e-9)
    gap = float(np.linalg.norm(q[F.UPPER_LIP_INNER] - q[F.LOWER_LIP_INNER]))
    width = float(np.linalg.norm(q[F.MOUTH_LEFT] - q[F.MOUTH_RIGHT]))
    lips_centre = (q[F.UPPER_LIP_INNER, 1] + q[F.LOWER_LIP_INNER, 1]) / 2.0
    lift = float((q[F.MOUTH_LEFT, 1] + q[F.MOUTH_RIGHT, 1]) / 2.0 - lips_centre)
    return FaceFeatures(ear, gap, width, lift, brow, gaze, iod)


def _clip01(v: float) -> float:
    return float(min(max(v, 0.0), 1.0)) if math.isfinite(v) else float("nan")


def expression_weights(
    features: FaceFeatures, neutral: NeutralFace = DEFAULT_NEUTRAL, config: ExpressionConfig = ExpressionConfig()
) -> np.ndarray:
    """``(11,)`` float64 expression weights in [0, 1], indexed by :class:`Expression`.

    * blink (per eye): ``(1 - ear / ear_neutral) / (1 - shut_fraction)``;
    * mouth open: ``(gap - gap_neutral) / open_gap``;
    * vowels: the mouth's openness (mouth open) and width change
      ``(width / width_neutral - 1) / vowel_width`` locate it in a plane where each vowel has a
      region (:data:`VOWEL_SHAPES`) and so does the neutral mouth; each weight is its region's
      Gaussian kernel (``vowel_sigma``) over the sum of all six, times ``openness / vowel_gate``
      (at most 1), so a closed mouth gives 0;
    * brows up / down: the mean brow height change over ``brow_up`` / ``brow_down``;
    * smile: the mouth corners' lift above neutral over ``smile_lift``.
    Every weight is clipped to [0, 1]. All are NaN for a face under ``min_iod_px``.
    """
    c = config
    if features.iod_px < c.min_iod_px:  # NaN (unknown size) passes
        return np.full(NUM_EXPRESSIONS, np.nan)
    out = np.zeros(NUM_EXPRESSIONS)
    for side, which in ((Side.LEFT, Expression.BLINK_LEFT), (Side.RIGHT, Expression.BLINK_RIGHT)):
        ratio = features.ear[side] / max(neutral.ear[side], 1e-9)
        out[which] = _clip01((1.0 - ratio) / (1.0 - c.shut_fraction))
    openness = _clip01((features.mouth_gap - neutral.mouth_gap) / c.open_gap)
    out[Expression.MOUTH_OPEN] = openness
    width = (features.mouth_width / max(neutral.mouth_width, 1e-9) - 1.0) / c.vowel_width
    width = float(np.clip(width, -1.5, 1.5))
    kernels = {
        v: math.exp(-((openness - o) ** 2 + (width - w) ** 2) / (2 * c.vowel_sigma**2))
        for v, (o, w) in VOWEL_SHAPES.items()
    }
    rest = math.exp(-(openness**2 + width**2) / (2 * c.vowel_sigma**2))
    total = rest + sum(kernels.values())
    gate = _clip01(openness / c.vowel_gate)
    for v, k in kernels.items():
        out[v] = _clip01(gate * k / total)
    brow = float(np.mean(features.brow) - np.mean(neutral.brow))
    out[Expression.BROWS_UP] = _clip01(brow / c.brow_up)
    out[Expression.BROWS_DOWN] = _clip01(-brow / c.brow_down)
    out[Expression.SMILE] = _clip01((features.smile_lift - neutral.smile_lift) / c.smile_lift)
    return out


def eye_rotations(
    features: FaceFeatures,
    blink: np.ndarray | None = None,
    neutral: NeutralFace = DEFAULT_NEUTRAL,
    config: ExpressionConfig = ExpressionConfig(),
) -> np.ndarray:
    """``(2, 4)`` local rotations ``(x, y, z, w)`` of the ``LeftEye`` and ``RightEye`` bones
    relative to the Head: both eyes turn together (the gaze averaged over the eyes whose blink,
    if given, is under 0.5; both when both are shut), yaw about +Y (positive: towards the
    subject's left) and pitch about -X (positive: up), clamped to ``eye_limit_deg``. A face
    under ``min_iod_px``: both at rest."""
    if features.iod_px < config.min_iod_px:
        return np.tile([0.0, 0.0, 0.0, 1.0], (2, 1))
    g = np.asarray(features.gaze, dtype=np.float64) - np.asarray(neutral.gaze, dtype=np.float64)
    use = np.ones(2, dtype=bool) if blink is None else np.asarray(blink) < 0.5
    if not use.any():
        use[:] = True
    gx, gy = g[use].mean(axis=0)
    lim = config.eye_limit_deg
    yaw = math.radians(float(np.clip(gx * config.eye_yaw_deg, -lim, lim)))
    pitch = math.radians(float(np.clip(gy * config.eye_pitch_deg, -lim, lim)))
    r = axis_angle_matrices(np.array([0.0, 1.0, 0.0]), yaw) @ axis_angle_matrices(np.array([-1.0, 0.0, 0.0]), pitch)
    q = matrices_to_quats(r)
    return np.stack([q, q])


@dataclass(frozen=True)
class FacePose:
    """One person's face retargeting (``Person.face_pose``).

    head_rotation: ``(4,)`` the Head bone's global rotation ``(x, y, z, w)`` in the frame of the
        points (the body's *world* when set by :class:`arpose.retarget.hands_face.HandsFaceStage`).
    eye_rotations: ``(2, 4)`` ``LeftEye`` / ``RightEye`` local rotations relative to the Head.
    jaw: mouth opening in [0, 1] (a Jaw bone: :data:`JAW_MAX_DEG` times it).
    expressions: ``(11,)`` weights in [0, 1] indexed by :class:`Expression`.
    features: the measurements they came from. calibrated: the neutral face is this person's.
    """

    head_rotation: np.ndarray
    eye_rotations: np.ndarray
    jaw: float
    expressions: np.ndarray
    features: FaceFeatures
    calibrated: bool = False

    def expression(self, which: Expression) -> float:
        return float(self.expressions[int(which)])


def solve_face(
    face: np.ndarray,
    image_size: tuple[int, int],
    neutral: NeutralFace = DEFAULT_NEUTRAL,
    config: ExpressionConfig = ExpressionConfig(),
    calibrated: bool = False,
) -> FacePose | None:
    """The :class:`FacePose` of one ``(478, >=3)`` face (``Person.face``) in an image of
    ``(width, height)``; None if the face is not seen (NaN) or degenerate."""
    pts = face_points(face, image_size)
    if not np.isfinite(pts).all():
        return None
    rot = head_rotation(pts)
    if rot is None:
        return None
    feats = face_features(pts, rot)
    if feats is None:
        return None
    weights = expression_weights(feats, neutral, config)
    blink = weights[[Expression.BLINK_LEFT, Expression.BLINK_RIGHT]]
    eyes = eye_rotations(feats, blink, neutral, config)
    return FacePose(matrices_to_quats(rot), eyes, float(weights[Expression.MOUTH_OPEN]), weights, feats, calibrated)


@dataclass
class FaceCalibrator:
    """A person's neutral face: :data:`DEFAULT_NEUTRAL` until ``seconds`` of face have been
    seen, then the median of their features over those frames (blinks and words are brief, so
    the median is the resting face). :meth:`restart` starts a new calibration (a key in
    ``live``). ``seconds=0`` never calibrates (always the defaults)."""

    seconds: float = 2.0
    neutral: NeutralFace = DEFAULT_NEUTRAL
    calibrated: bool = False
    _samples: list[FaceFeatures] = field(default_factory=list)
    _start: float | None = None

    def update(self, features: FaceFeatures | None, timestamp: float) -> NeutralFace:
        """Add a frame's features (None: no face) at ``timestamp`` seconds; returns the neutral
        face to use for this frame."""
        if features is None or self.calibrated or self.seconds <= 0:
            return self.neutral
        if self._start is None:
            self._start = timestamp
        self._samples.append(features)
        if timestamp - self._start >= self.seconds and len(self._samples) >= 3:
            self.neutral = neutral_from(self._samples)
            self.calibrated = True
            self._samples = []
        return self.neutral

    def restart(self) -> None:
        """Calibrate again from the next frames with a face."""
        self.calibrated = False
        self._samples = []
        self._start = None


def neutral_from(samples: list[FaceFeatures]) -> NeutralFace:
    """The median :class:`NeutralFace` of several frames' features."""
    ear = np.median([s.ear for s in samples], axis=0)
    brow = np.median([s.brow for s in samples], axis=0)
    gaze = np.median([s.gaze for s in samples], axis=0)
    return replace(
        DEFAULT_NEUTRAL,
        ear=(float(ear[0]), float(ear[1])),
        mouth_gap=float(np.median([s.mouth_gap for s in samples])),
        mouth_width=float(np.median([s.mouth_width for s in samples])),
        smile_lift=float(np.median([s.smile_lift for s in samples])),
        brow=(float(brow[0]), float(brow[1])),
        gaze=((float(gaze[0, 0]), float(gaze[0, 1])), (float(gaze[1, 0]), float(gaze[1, 1]))),
    )
