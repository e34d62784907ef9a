"""Per-person bone lengths: measured from landmarks, robust median over the first seconds of a
take, then constant.

The skeleton keeps the *directions* of :data:`arpose.skeleton.REST_OFFSETS` (so identity
rotations are still the T-pose every consumer expects) and scales each offset by a measured
segment length (:data:`SEGMENTS`). Left and right are pooled (a body is symmetric, and it
halves the noise). Segments never seen with enough visibility take the median scale of the
segments that were seen (or 1.0 with nothing seen).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np

from ..landmarks import PoseLandmark as L
from ..skeleton import BONE_INDEX, END_OFFSETS, REST_OFFSETS, markers_from_pose, rest_pose
from .solver import visibility_or_zero

#: Measured segments, each a distance between two points derived from landmarks (metres):
#: ``torso`` hip centre to shoulder centre; ``shoulder_half`` / ``hip_half`` half the
#: shoulder / hip width; ``upper_arm`` shoulder-elbow; ``forearm`` elbow-wrist; ``hand`` wrist
#: to the middle of index and pinky; ``thigh`` hip-knee; ``shin`` knee-ankle; ``neck``
#: shoulder centre to ear centre; ``foot`` ankle to the toe joint (heel/foot-index mix);
#: ``toe`` toe joint to foot index.
SEGMENTS = (
    "torso",
    "shoulder_half",
    "hip_half",
    "upper_arm",
    "forearm",
    "hand",
    "thigh",
    "shin",
    "neck",
    "foot",
    "toe",
)


def _w(*terms: tuple[int, float]) -> np.ndarray:
    w = np.zeros(33)
    for lm, k in terms:
        w[int(lm)] += k
    return w


_HC = _w((L.LEFT_HIP, 0.5), (L.RIGHT_HIP, 0.5))
_SC = _w((L.LEFT_SHOULDER, 0.5), (L.RIGHT_SHOULDER, 0.5))
_EC = _w((L.LEFT_EAR, 0.5), (L.RIGHT_EAR, 0.5))


def _pairs() -> dict[str, list[tuple[np.ndarray, np.ndarray, float]]]:
    """segment -> list of (weights a, weights b, factor): length = factor * |a - b|."""
    out: dict[str, list] = {
        "torso": [(_HC, _SC, 1.0)],
        "shoulder_half": [(_w((L.LEFT_SHOULDER, 1)), _w((L.RIGHT_SHOULDER, 1)), 0.5)],
        "hip_half": [(_w((L.LEFT_HIP, 1)), _w((L.RIGHT_HIP, 1)), 0.5)],
        "neck": [(_SC, _EC, 1.0)],
    }
    for s in ("LEFT", "RIGHT"):

        def lm(name: str) -> np.ndarray:
            return _w((L[f"{s}_{name}"], 1.0))

        toe_joint = _w((L[f"{s}_HEEL"], 0.25), (L[f"{s}_FOOT_INDEX"], 0.75))
        hand_end = _w((L[f"{s}_INDEX"], 0.5), (L[f"{s}_PINKY"], 0.5))
        for seg, a, b in (
            ("upper_arm", lm("SHOULDER"), lm("ELBOW")),
            ("forearm", lm("ELBOW"), lm("WRIST")),
            ("hand", lm("WRIST"), hand_end),
            ("thigh", lm("HIP"), lm("KNEE")),
            ("shin", lm("KNEE"), lm("ANKLE")),
            ("foot", lm("ANKLE"), toe_joint),
            ("toe", toe_joint, lm("FOOT_INDEX")),
        ):
            out.setdefault(seg, []).append((a, b, 1.0))
    return out


_PAIRS = _pairs()

#: :data:`_PAIRS` flattened, one row per pair: segment names, weights a and b ``(P, 33)``,
#: factors ``(P,)`` and the landmarks each pair uses ``(P, k)`` (short rows padded by repeats).
_PAIR_NAMES = [seg for seg, pairs in _PAIRS.items() for _ in pairs]
_PAIR_A = np.array([a for pairs in _PAIRS.values() for a, _, _ in pairs])
_PAIR_B = np.array([b for pairs in _PAIRS.values() for _, b, _ in pairs])
_PAIR_K = np.array([k for pairs in _PAIRS.values() for _, _, k in pairs])
_used = [tuple(np.flatnonzero((a != 0) | (b != 0))) for a, b in zip(_PAIR_A, _PAIR_B)]
_PAIR_USES = np.array([u + (u[0],) * (max(map(len, _used)) - len(u)) for u in _used])


def segment_samples(points: np.ndarray, visibility: np.ndarray, min_visibility: float = 0.5) -> dict[str, list[float]]:
    """Segment lengths measured in one frame.

    points: ``(33, 3)`` landmark positions, metres, any frame. visibility: ``(33,)`` in
    [0, 1] (NaN counts as 0). Returns ``{segment: [length, ...]}`` (one entry per side that
    was seen with every landmark it uses at ``min_visibility`` or above; left and right
    pooled).
    """
    p = np.asarray(points, dtype=np.float64)
    vis = visibility_or_zero(visibility)
    diff = _PAIR_A @ p - _PAIR_B @ p
    d = _PAIR_K * np.sqrt(np.einsum("pi,pi->p", diff, diff))
    keep = (vis[_PAIR_USES].min(axis=1) >= min_visibility) & np.isfinite(d) & (d > 0)
    out: dict[str, list[float]] = {}
    lengths = d.tolist()
    for j in np.flatnonzero(keep).tolist():
        out.setdefault(_PAIR_NAMES[j], []).append(lengths[j])
    return out


def _median_of_sorted(a: list[float]) -> float:
    """``np.median`` of a non-empty list already in ascending order (same arithmetic)."""
    n = len(a)
    return a[n // 2] if n % 2 else (a[n // 2 - 1] + a[n // 2]) / 2


def _rest_segments() -> dict[str, float]:
    pos, rot = rest_pose()
    m = markers_from_pose(pos, rot)
    s = segment_samples(m, np.ones(33))
    return {k: float(np.mean(v)) for k, v in s.items()}


#: Segment lengths of the default skeleton (metres).
REST_SEGMENTS: dict[str, float] = _rest_segments()
_REST_SEGMENT_ARRAY = np.array([REST_SEGMENTS[name] for name in SEGMENTS])


def _scale_tables() -> tuple[np.ndarray, np.ndarray]:
    """``(B, 3)`` index tables: which scale multiplies each component of the rest offsets and
    end offsets, as indices into ``[k[s] for s in SEGMENTS] + [overall, 1.0]``."""
    seg = {name: i for i, name in enumerate(SEGMENTS)}
    overall, one = len(SEGMENTS), len(SEGMENTS) + 1
    off = np.full((len(REST_OFFSETS), 3), one)
    end = np.full((len(REST_OFFSETS), 3), one)
    b = BONE_INDEX
    off[b["Hips"]] = overall
    for name in ("Spine", "Chest", "UpperChest", "Neck"):
        off[b[name]] = seg["torso"]
    off[b["Head"]] = seg["neck"]
    end[b["Head"]] = overall
    for s in ("Left", "Right"):
        off[b[f"{s}Shoulder"]] = (seg["shoulder_half"], seg["torso"], one)
        off[b[f"{s}UpperArm"]] = seg["shoulder_half"]
        off[b[f"{s}LowerArm"]] = seg["upper_arm"]
        off[b[f"{s}Hand"]] = seg["forearm"]
        end[b[f"{s}Hand"]] = seg["hand"]
        off[b[f"{s}UpperLeg"]] = seg["hip_half"]
        off[b[f"{s}LowerLeg"]] = seg["thigh"]
        off[b[f"{s}Foot"]] = seg["shin"]
        off[b[f"{s}Toes"]] = seg["foot"]
        end[b[f"{s}Toes"]] = seg["toe"]
    return off, end


_OFFSET_SCALE, _END_SCALE = _scale_tables()


def offsets_from_segments(segments: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """Rest offsets for a person with the given segment lengths.

    segments: ``{name: metres}`` for names in :data:`SEGMENTS`; missing or non-finite ones
    take the median scale of the others. Returns ``(offsets (B, 3), ends (B, 3))``, metres,
    rig frame, same directions as :data:`REST_OFFSETS` / :data:`END_OFFSETS`.
    """
    v = np.array([segments.get(name, np.nan) for name in SEGMENTS], dtype=np.float64)
    measured = np.isfinite(v) & (v > 0)
    k = v / _REST_SEGMENT_ARRAY
    known = k[measured]
    overall = _median_of_sorted(sorted(known.tolist())) if known.size else 1.0
    scales = np.append(np.where(measured, k, overall), (overall, 1.0))
    return REST_OFFSETS * scales[_OFFSET_SCALE], END_OFFSETS * scales[_END_SCALE]


def standing_height(offsets: np.ndarray, ends: np.ndarray) -> float:
    """Standing height (metres) of a skeleton with these rest offsets and leaf ends: sole to
    the top of the head, on the scale where the default skeleton is 1.72 m."""
    b = BONE_INDEX

    def raw(off: np.ndarray, end: np.ndarray) -> float:
        up = sum(off[b[n], 1] for n in ("Spine", "Chest", "UpperChest", "Neck", "Head")) + end[b["Head"], 1]
        leg = -(off[b["LeftLowerLeg"], 1] + off[b["LeftFoot"], 1])
        foot = np.linalg.norm(off[b["LeftToes"]]) / np.linalg.norm(REST_OFFSETS[b["LeftToes"]])
        return float(up + leg + 0.06 * foot)  # the sole is 6 cm below the ankle at rest

    return 1.72 * raw(offsets, ends) / raw(REST_OFFSETS, END_OFFSETS)


@dataclass(frozen=True)
class CalibrationConfig:
    """seconds: how long from a person's first frame lengths are collected (then frozen).
    min_visibility: landmarks below this are not measured."""

    seconds: float = 2.0
    min_visibility: float = 0.5


class BoneCalibrator:
    """Collects segment lengths for one person over the first ``config.seconds`` and gives
    the median-based offsets. While collecting, :attr:`offsets` follow the median so far;
    afterwards they are frozen for the rest of the take."""

    def __init__(self, config: CalibrationConfig = CalibrationConfig()) -> None:
        self.config = config
        self._samples: dict[str, list[float]] = {}  # segment -> lengths so far, ascending
        self._start: float | None = None
        self.frozen = False
        self.offsets, self.ends = REST_OFFSETS.copy(), END_OFFSETS.copy()
        self.segments: dict[str, float] = {}

    def update(self, points: np.ndarray, visibility: np.ndarray, timestamp: float) -> None:
        """Add one frame's measurements (``points`` ``(33, 3)`` metres, ``visibility`` ``(33,)``,
        ``timestamp`` seconds) unless frozen."""
        if self.frozen:
            return
        if self._start is None:
            self._start = timestamp
        if timestamp - self._start > self.config.seconds and self._samples:
            self.frozen = True
            return
        for seg, vals in segment_samples(points, visibility, self.config.min_visibility).items():
            kept = self._samples.setdefault(seg, [])  # ascending
            for v in vals:
                bisect.insort(kept, v)
        self.segments = {s: _median_of_sorted(v) for s, v in self._samples.items()}
        self.offsets, self.ends = offsets_from_segments(self.segments)
