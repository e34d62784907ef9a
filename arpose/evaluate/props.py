"""Prop steadiness against the synthetic performer's ground truth: how far a worn prop's anchor
wanders from where the true skeleton puts it, and how much it shakes from frame to frame.

For ``arpose eval`` (:func:`prop_metrics` is one of
:func:`arpose.evaluate.harness.default_metrics`) and tests alike. Three anchors per frame, all in
**pixels** (x right, y down, origin top-left), ``(F, 2)``, NaN where unknown:

* *rendered*: the origin of the prop part (its mesh frame, :func:`arpose.render.props.part_pose`)
  as :class:`arpose.render.overlay.PropRenderer` poses it, projected through the performer's
  camera. It comes from the very code the renderer runs (:class:`arpose.render.frames.PropAnchors`
  over :meth:`~arpose.render.frames.BodyFrames.from_person`), fed the row's people in order with
  their timestamps; a row without a retarget stage is retargeted one frame at a time, as the
  renderer does with ``--no-retarget``.
* *true*: the same part posed on the ground-truth skeleton (joint positions and rotations).
* *naive*: a prop pinned to bare MediaPipe: the mean of the **raw** estimate's eye and ear
  landmarks (:data:`NAIVE_LANDMARKS`, the baseline row's), what a hobby overlay draws a crown at.

Scores (:func:`wobble_px`, :func:`jitter_px`):

* wobble: RMS over frames of ``anchor - true`` after removing its mean over the clip (a constant
  offset, e.g. eyes against a crown's rim, is not wobble), pixels;
* jitter: mean length of the second difference of the anchor from frame to frame, pixels per
  frame squared (a steady glide scores 0, a shake of +-0.5 px from frame to frame 2).

The target (issue 20): rendered wobble no larger than the naive anchor's, and at least 60 % of
the naive anchor's *excess* jitter (over the truth's own) removed:
``prop_jitter_cut_%`` = ``100 * (1 - (jitter - truth's) / (naive jitter - truth's))``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Sequence

import numpy as np

from ..landmarks import PoseLandmark as L
from ..skeleton import NUM_BONES
from .harness import VariantResult

if TYPE_CHECKING:
    from ..performer import GroundTruthSequence
    from ..render.props import PropPart
    from ..types import Camera

#: The prop scored by default (built-in manifest), and which of its parts.
DEFAULT_PROP = "crown"
#: Raw landmarks a naive head prop is pinned to: the six eye points and both ears.
NAIVE_LANDMARKS: tuple[int, ...] = (
    L.LEFT_EYE_INNER,
    L.LEFT_EYE,
    L.LEFT_EYE_OUTER,
    L.RIGHT_EYE_INNER,
    L.RIGHT_EYE,
    L.RIGHT_EYE_OUTER,
    L.LEFT_EAR,
    L.RIGHT_EAR,
)
#: Share of the naive anchor's excess jitter the rendered prop must remove (percent).
TARGET_JITTER_CUT = 60.0

__all__ = [
    "DEFAULT_PROP",
    "NAIVE_LANDMARKS",
    "TARGET_JITTER_CUT",
    "prop_part",
    "rendered_anchor_px",
    "true_anchor_px",
    "naive_anchor_px",
    "wobble_px",
    "jitter_px",
    "jitter_cut",
    "prop_metrics",
]


def prop_part(name: str = DEFAULT_PROP, part: int = 0) -> PropPart:
    """Part ``part`` of the built-in prop ``name`` (no mesh is loaded)."""
    from ..render.props import load_manifest

    return load_manifest()[name].parts[part]


def _project(points: np.ndarray, camera: Camera) -> np.ndarray:
    from ..render.overlay import project_world

    return project_world(np.asarray(points, dtype=np.float64).reshape(-1, 3), camera)[0]


def rendered_anchor_px(
    people: Sequence, timestamps: np.ndarray, camera: Camera, part: PropPart, anchors=None
) -> np.ndarray:
    """``(F, 2)`` pixels of ``part``'s origin as the prop renderer poses it, per frame.

    people: per frame a :class:`~arpose.types.Person` or ``None``; timestamps: ``(F,)`` seconds;
    camera: the frames' intrinsics. anchors: a fresh :class:`~arpose.render.frames.PropAnchors`
    (default: the renderer's default one), fed every frame in order.
    """
    from ..render.frames import PropAnchors, prop_frames
    from ..render.props import part_pose

    anchors = PropAnchors() if anchors is None else anchors
    out = np.full((len(people), 2), np.nan)
    for f, (person, t) in enumerate(zip(people, timestamps)):
        if person is None:
            continue
        m = part_pose(prop_frames(person, camera, float(t), anchors, (part.bone_index,)), part)
        if m is not None:
            out[f] = _project(m[:3, 3], camera)[0]
    return out


def true_anchor_px(truth: GroundTruthSequence, part: PropPart) -> np.ndarray:
    """``(F, 2)`` pixels of ``part``'s origin on the ground-truth skeleton."""
    from ..render.frames import BodyFrames, body_scale
    from ..render.props import part_pose

    scale = body_scale(truth.offsets)
    ident = np.tile([0.0, 0.0, 0.0, 1.0], (NUM_BONES, 1))
    pts = np.full((len(truth), 3), np.nan)
    for f in range(len(truth)):
        frames = BodyFrames(truth.joint_positions[f], truth.joint_rotations[f], ident, scale)
        m = part_pose(frames, part)
        if m is not None:
            pts[f] = m[:3, 3]
    return _project(pts, truth.camera)


def naive_anchor_px(image_px: np.ndarray, landmarks: Sequence[int] = NAIVE_LANDMARKS) -> np.ndarray:
    """``(F, 2)``: the mean pixel of ``landmarks`` per frame of ``image_px`` ``(F, 33, 2)``
    (NaN when any is missing)."""
    return np.asarray(image_px, dtype=np.float64)[:, list(landmarks)].mean(axis=1)


def wobble_px(anchor: np.ndarray, true: np.ndarray) -> float:
    """RMS pixel distance of ``anchor - true`` from its mean over frames where both ``(F, 2)``
    are finite; NaN with fewer than 2 such frames."""
    d = np.asarray(anchor, dtype=np.float64) - np.asarray(true, dtype=np.float64)
    d = d[np.isfinite(d).all(axis=1)]
    if len(d) < 2:
        return math.nan
    d = d - d.mean(axis=0)
    return float(np.sqrt(np.mean(np.sum(d * d, axis=1))))


def jitter_px(anchor: np.ndarray) -> float:
    """Mean length of the second difference ``a[f+1] - 2 a[f] + a[f-1]`` over consecutive
    finite frames of ``(F, 2)`` pixels (pixels per frame squared); NaN if there is none."""
    a = np.asarray(anchor, dtype=np.float64)
    if len(a) < 3:
        return math.nan
    acc = a[2:] - 2.0 * a[1:-1] + a[:-2]
    n = np.linalg.norm(acc, axis=1)
    n = n[np.isfinite(n)]
    return float(n.mean()) if n.size else math.nan


def jitter_cut(jitter: float, naive: float, truth: float) -> float:
    """Percent of the naive anchor's excess jitter (over the truth's) that ``jitter`` removes:
    ``100 * (1 - (jitter - truth) / (naive - truth))``; NaN when the naive anchor has no excess."""
    excess = naive - truth
    if not (math.isfinite(excess) and excess > 0 and math.isfinite(jitter)):
        return math.nan
    return 100.0 * (1.0 - (jitter - truth) / excess)


def prop_metrics(
    result: VariantResult, truth: GroundTruthSequence, *, baseline: VariantResult, prop: str = DEFAULT_PROP
) -> dict[str, float]:
    """Columns for ``arpose eval`` (pixels, see the module doc):

    ``prop_wobble_px`` / ``prop_jitter_px``: this row's rendered crown;
    ``naive_wobble_px`` / ``naive_jitter_px``: a crown pinned to the raw eyes and ears (the
    ``baseline`` row's landmarks; the same on every row of a motion);
    ``prop_jitter_gt``: the true crown's own jitter; ``prop_jitter_cut_%``: :func:`jitter_cut`.
    """
    part = prop_part(prop)
    true = true_anchor_px(truth, part)
    n = len(truth)
    ours = rendered_anchor_px(result.people()[:n], result.timestamps[:n], truth.camera, part)
    naive = naive_anchor_px(baseline.image_px[:n])
    gt_j, our_j, naive_j = jitter_px(true), jitter_px(ours), jitter_px(naive)
    return {
        "prop_wobble_px": wobble_px(ours, true),
        "naive_wobble_px": wobble_px(naive, true),
        "prop_jitter_px": our_j,
        "naive_jitter_px": naive_j,
        "prop_jitter_gt": gt_j,
        "prop_jitter_cut_%": jitter_cut(our_j, naive_j, gt_j),
    }


def format_targets(rows: list[dict], variant: str = "pipeline") -> str:
    """A plain-text verdict for the ``variant`` rows of ``arpose eval`` (what ``run`` applies):
    per motion, the crown's wobble against the naive anchor's and the share of its excess
    jitter removed (target: no larger, at least :data:`TARGET_JITTER_CUT` %), and the largest
    bone step against the truth's (target: at most
    :data:`arpose.evaluate.retarget.STEP_MARGIN_DEG` more). Empty when no row has the columns."""
    from .retarget import STEP_MARGIN_DEG

    mine = [r for r in rows if r.get("variant") == variant and "prop_wobble_px" in r]
    if not mine:
        return ""
    mark = {True: "yes", False: "NO"}
    lines = [
        f"props and snaps ({variant}): crown wobble <= naive, jitter cut >= {TARGET_JITTER_CUT:.0f}%, "
        f"largest bone step <= truth's + {STEP_MARGIN_DEG:.0f} deg"
    ]
    width = max(len(str(r["motion"])) for r in mine)
    for r in mine:
        wob, naive = r.get("prop_wobble_px", math.nan), r.get("naive_wobble_px", math.nan)
        cut = r.get("prop_jitter_cut_%", math.nan)
        step, gt = r.get("bone_step_max_deg", math.nan), r.get("bone_step_max_gt_deg", math.nan)
        lines.append(
            f"  {str(r['motion']):<{width}}  wobble {wob:.2f} vs {naive:.2f} px {mark[bool(wob <= naive)]:>3}  "
            f"jitter cut {cut:.0f}% {mark[bool(cut >= TARGET_JITTER_CUT)]:>3}  "
            f"step {step:.0f} vs {gt:.0f} deg {mark[bool(step <= gt + STEP_MARGIN_DEG)]:>3}"
        )
    return "\n".join(lines)
