"""Hand and face groups of the person smoother: their own parameters, per-hand gaps and
resets, confidence gating, NaN kept, raw arrays kept."""

from __future__ import annotations

import numpy as np
import pytest

from arpose.landmarks import (
    Side,
    empty_face,
    empty_hands,
    empty_hands_world,
    empty_image_landmarks,
    empty_world_landmarks,
)
from arpose.smooth import OneEuroParams, SmoothConfig, smooth_person
from arpose.spec import PipelineSpec, SmoothSpec, spec_from_toml, spec_to_toml
from arpose.types import Person

SIZE = (640, 480)


def _hand(offset=(0.0, 0.0), confidence=0.9):
    h = np.zeros((21, 4), dtype=np.float32)
    h[:, 0] = 0.5 + 0.01 * np.arange(21) + offset[0]
    h[:, 1] = 0.5 + offset[1]
    h[9, 1] -= 0.1  # middle knuckle 48 px above the wrist: the hand size
    h[:, 2] = 0.0
    h[:, 3] = confidence
    return h


def _person(left=None, right=None, face=None):
    hands = empty_hands()
    if left is not None:
        hands[Side.LEFT] = left
    if right is not None:
        hands[Side.RIGHT] = right
    world = empty_hands_world()
    world[np.isfinite(hands[..., 0])] = 0.01
    return Person(
        0,
        empty_image_landmarks(),
        empty_world_landmarks(),
        0.0,
        hands=hands,
        hands_world=world,
        face=empty_face() if face is None else face,
    )


def _run(people, times, config=SmoothConfig()):
    st, out = None, []
    for p, t in zip(people, times):
        q, st = smooth_person(st, p, t, SIZE, config)
        out.append(q)
    return out


def test_still_hand_passes_and_unseen_stays_nan():
    p = _person(right=_hand())
    out = _run([p] * 5, [0.0, 0.033, 0.066, 0.1, 0.133])
    np.testing.assert_allclose(out[-1].hands[Side.RIGHT], p.hands[Side.RIGHT], atol=1e-6)
    assert np.isnan(out[-1].hands[Side.LEFT]).all() and np.isnan(out[-1].face).all()
    assert out[-1].raw_hands is p.hands and out[-1].raw_face is p.face
    assert out[-1].hands.dtype == np.float32 and out[-1].hands.shape == (2, 21, 4)


def test_a_step_follows_at_the_hands_own_rate():
    a, b = _person(right=_hand()), _person(right=_hand(offset=(0.05, 0.0)))
    slow = SmoothConfig(hands=OneEuroParams(min_cutoff=0.5, beta=0.0))
    fast = SmoothConfig(hands=OneEuroParams(min_cutoff=20.0, beta=0.0))
    moved = []
    for cfg in (slow, fast):
        out = _run([a, b], [0.0, 0.033], cfg)
        moved.append(float(out[-1].hands[Side.RIGHT, 0, 0] - a.hands[Side.RIGHT, 0, 0]))
    # first-order low-pass: the step is followed by alpha = w / (w + 1), w = 2 pi fc Te
    for fc, m in zip((0.5, 20.0), moved):
        w = 2 * np.pi * fc * 0.033
        assert m == pytest.approx(0.05 * w / (w + 1), rel=1e-4)


def test_low_confidence_hand_eases_instead_of_jumping():
    a = _person(right=_hand())
    b_sure, b_unsure = (
        _person(right=_hand(offset=(0.05, 0.0))),
        _person(right=_hand(offset=(0.05, 0.0), confidence=0.2)),
    )
    cfg = SmoothConfig(hands=OneEuroParams(min_cutoff=30.0, beta=0.0), hidden_cutoff=1.0)
    sure = _run([a, b_sure], [0.0, 0.033], cfg)[-1].hands[Side.RIGHT, 0, 0]
    unsure = _run([a, b_unsure], [0.0, 0.033], cfg)[-1].hands[Side.RIGHT, 0, 0]
    assert unsure - 0.5 < 0.25 * (sure - 0.5)


def test_each_hand_restarts_after_its_own_gap():
    cfg = SmoothConfig(hands=OneEuroParams(min_cutoff=0.5, beta=0.0), reset_gap=0.5)
    seq = [
        _person(left=_hand(), right=_hand()),
        _person(left=_hand()),
        _person(left=_hand()),
        _person(left=_hand(), right=_hand(offset=(0.1, 0.1))),
    ]
    out = _run(seq, [0.0, 0.3, 0.6, 0.9], cfg)
    np.testing.assert_allclose(out[-1].hands[Side.RIGHT], seq[-1].hands[Side.RIGHT], atol=1e-6)  # afresh
    assert np.isnan(out[1].hands[Side.RIGHT]).all()


def test_face_group_and_spec_round_trip():
    face = empty_face()
    face[:, :3] = np.random.default_rng(0).uniform(0.4, 0.6, (478, 3))
    face[:, 3] = 1.0
    moved = face.copy()
    moved[159, 1] += 0.02  # one eyelid moves
    out = _run([_person(face=face), _person(face=moved)], [0.0, 0.033])[-1]
    assert face[159, 1] < out.face[159, 1] < moved[159, 1]
    np.testing.assert_allclose(np.delete(out.face, 159, axis=0), np.delete(face, 159, axis=0), atol=1e-6)
    spec = PipelineSpec(smooth=SmoothSpec(hand_min_cutoff=4.0, face_beta=7.0))
    assert spec.smooth.config().hands == OneEuroParams(4.0, 2.0, 1.0)
    assert SmoothSpec.from_config(spec.smooth.config()) == spec.smooth
    assert spec_from_toml(spec_to_toml(spec)) == spec
