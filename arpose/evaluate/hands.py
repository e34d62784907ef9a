"""Scoring the hands against the performer's articulated hands (issue 17).

For a variant that estimates hands (``spec.estimator.hands``, e.g. ``blazepose-hands`` or the
``pipeline`` row with ``--hands``), per hand (the **subject's** left and right,
:class:`arpose.landmarks.Side`):

* ``hand_detected_left`` / ``_right``: frames where the hand model found the hand (finite
  ``Person.hands``) among the frames where the true hand is in view
  (:attr:`arpose.performer.GroundTruthSequence.hands_in_view`); NaN when it never is.
* ``finger_err_deg_left`` / ``_right``: mean absolute error (degrees) of the retargeted finger
  flexion (``Person.fingers.hands[side].flexion``, :func:`arpose.retarget.fingers.solve_hand`,
  ``(5, 3)`` per frame) against the true flexion the performer was posed with
  (``truth.finger_flexion``), over every joint of the frames where the hand was retargeted and
  in view; ``finger_err_deg`` the same over both hands.

Rows of variants without hands get none of these columns, so their rows are unchanged.
:func:`gesture_rows` breaks the same numbers down by the gesture shown (the ``gestures``
motion).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..landmarks import Side

if TYPE_CHECKING:
    from ..performer import GroundTruthSequence
    from .harness import VariantResult

__all__ = ["estimated_hands", "gesture_rows", "hand_metrics", "hand_scores", "uses_hands"]


def uses_hands(result: VariantResult) -> bool:
    """Whether the row's variant estimates hands."""
    return bool(result.variant.spec.estimator.hands)


def estimated_hands(result: VariantResult) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The first person's hands per frame: ``(found (F, 2) bool, flexion (F, 2, 5, 3) degrees,
    curl (F, 2, 5) degrees)``, the last two NaN where the hand was not retargeted; second axis
    :class:`Side` (the subject's)."""
    people = result.people()
    n = len(people)
    found = np.zeros((n, 2), dtype=bool)
    flexion = np.full((n, 2, 5, 3), np.nan)
    curl = np.full((n, 2, 5), np.nan)
    for i, p in enumerate(people):
        if p is None or p.hands is None:
            continue
        found[i] = np.isfinite(np.asarray(p.hands, dtype=np.float64)[:, :, :2]).all(axis=(1, 2))
        if p.fingers is None:
            continue
        for side in Side:
            hp = p.fingers.hands[side]
            if hp is not None:
                flexion[i, side] = hp.flexion
                curl[i, side] = hp.curl
    return found, flexion, curl


def hand_scores(
    found: np.ndarray, flexion: np.ndarray, truth_flexion: np.ndarray, in_view: np.ndarray
) -> dict[str, float]:
    """The hand columns from ``found`` ``(F, 2)``, estimated ``flexion`` ``(F, 2, 5, 3)`` (NaN
    where not retargeted), ``truth_flexion`` ``(F, 2, 5, 3)`` and ``in_view`` ``(F, 2)``
    (see the module doc); pure numpy."""
    out: dict[str, float] = {}
    err = np.abs(flexion - truth_flexion)  # (F, 2, 5, 3), NaN where not retargeted
    scored = in_view[..., None, None] & np.isfinite(err)
    for side in Side:
        name = side.label
        view = in_view[:, side]
        out[f"hand_detected_{name}"] = float(found[view, side].mean()) if view.any() else float("nan")
        s = scored[:, side]
        out[f"finger_err_deg_{name}"] = float(err[:, side][s].mean()) if s.any() else float("nan")
    out["finger_err_deg"] = float(err[scored].mean()) if scored.any() else float("nan")
    return out


def hand_metrics(result: VariantResult, truth: GroundTruthSequence, *, baseline: VariantResult) -> dict[str, float]:
    """A :class:`arpose.evaluate.harness.Metric`: the hand columns for a variant that
    estimates hands, nothing for the others. ``baseline`` is not used."""
    if not uses_hands(result) or truth.finger_flexion is None:
        return {}
    found, flexion, _ = estimated_hands(result)
    return hand_scores(found, flexion, truth.finger_flexion, truth.hands_in_view)


def gesture_rows(results: list[VariantResult], truth: GroundTruthSequence) -> list[dict]:
    """Per variant that estimates hands and per gesture shown (in order of first appearance;
    none for a motion without gestures): ``{"motion", "variant", "gesture", "frames",
    <hand columns>}`` over that gesture's frames."""
    labels = np.array(truth.gestures if truth.gestures is not None else ("",) * len(truth), dtype=object)
    names = [g for g in dict.fromkeys(labels.tolist()) if g]
    rows: list[dict] = []
    for r in results:
        if not names or not uses_hands(r):
            continue
        found, flexion, _ = estimated_hands(r)
        for g in names:
            m = labels == g
            row: dict = {"motion": r.motion, "variant": r.variant.name, "gesture": g, "frames": int(m.sum())}
            row.update(hand_scores(found[m], flexion[m], truth.finger_flexion[m], truth.hands_in_view[m]))
            rows.append(row)
    return rows
