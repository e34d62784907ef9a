"""Tracker on synthetic scenes with known identities (the ``score`` field tags who is who;
the tracker never reads it)."""

import sys
from pathlib import Path

import numpy as np
import pytest

from arpose.errors import ConfigError
from arpose.track import Tracker, TrackerConfig, TrackingEstimator, TrackStage, ids_left_to_right

sys.path.insert(0, str(Path(__file__).parent))
from scenes import person_at, pose_frame  # noqa: E402

FPS = 30.0
TAG_A, TAG_B, TAG_C = 0.9, 0.8, 0.7


def _crossing(occlude_b: bool, seed: int, b_height: float = 185.0, b_y: float = 252.0, hide_px: float = 80.0):
    """A walks left to right, B right to left a little further back (so a little smaller and
    higher in the image), crossing mid-way at t = 1.5 s. Detections come in a random order. With
    ``occlude_b``, B is not detected while within 80 px of A (hidden behind A). Two figures of
    the same shape at the same place would be indistinguishable, which real people never are."""
    rng = np.random.default_rng(seed)
    frames = []
    for k in range(int(3 * FPS) + 1):
        t = k / FPS
        xa = 120 + 400 * t / 3
        xb = 520 - 400 * t / 3
        people = [person_at(xa, 260, 200, rng, 1.5).with_(score=TAG_A)]
        if not (occlude_b and abs(xa - xb) < hide_px):
            people.append(person_at(xb, b_y, b_height, rng, 1.5).with_(score=TAG_B))
        order = rng.permutation(len(people))
        frames.append(pose_frame([people[i] for i in order], t, k))
    return frames


def _ids_by_tag(tracker, frames):
    out = {TAG_A: set(), TAG_B: set()}
    for pf in frames:
        for p in tracker.update(pf).people:
            out[p.score].add(p.id)
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("occlude_b", [False, True])
def test_ids_stay_with_people_who_cross(occlude_b, seed):
    ids = _ids_by_tag(Tracker(), _crossing(occlude_b, seed))
    assert ids == {TAG_A: {0}, TAG_B: {1}} or ids == {TAG_A: {1}, TAG_B: {0}}


def test_ids_stay_when_people_at_different_depths_cross():
    ids = _ids_by_tag(Tracker(), _crossing(occlude_b=True, seed=3, b_height=120.0, b_y=220.0))
    assert len(ids[TAG_A]) == 1 and len(ids[TAG_B]) == 1 and ids[TAG_A] != ids[TAG_B]


def test_ids_kept_when_the_hidden_person_reappears_far_from_where_they_vanished():
    """B hidden while within 120 px of A: 0.9 s (< max_gap); B reappears 120 px (0.65 body
    diagonals) from where it was last seen with boxes not overlapping: cost 1.65 by position
    alone, above max_cost 1.5, so only B's predicted motion keeps the id."""
    ids = _ids_by_tag(Tracker(), _crossing(occlude_b=True, seed=4, hide_px=120.0))
    assert len(ids[TAG_A]) == 1 and len(ids[TAG_B]) == 1 and ids[TAG_A] != ids[TAG_B]


def _walker(x0, vx, t, rng, tag, y=300.0, h=150.0):
    return person_at(x0 + vx * t, y, h, rng, 1.0).with_(score=tag)


def test_entering_leaving_and_short_occlusion():
    rng = np.random.default_rng(5)
    tr = Tracker(TrackerConfig(max_gap=1.0))
    seen: dict[float, set] = {TAG_A: set(), TAG_B: set(), TAG_C: set()}
    for k in range(int(6 * FPS)):
        t = k / FPS
        people = [_walker(100, 40, t, rng, TAG_A)]
        if t >= 1.0:  # B enters
            people.append(_walker(500, -20, t, rng, TAG_B))
        if 2.0 <= t < 2.6:  # A hidden for 0.6 s < max_gap
            people = [p for p in people if p.score != TAG_A]
        if t >= 4.0:  # B leaves for good; C enters
            people = [p for p in people if p.score != TAG_B] + [_walker(600, -30, t, rng, TAG_C, y=200)]
        for p in tr.update(pose_frame(people, t, k)).people:
            seen[p.score].add(p.id)
    assert seen == {TAG_A: {0}, TAG_B: {1}, TAG_C: {2}}
    assert tr.active_ids == [0, 2]  # B's track ended more than max_gap ago


def test_long_absence_gets_a_new_id_and_ids_are_never_reused():
    rng = np.random.default_rng(6)
    tr = Tracker(TrackerConfig(max_gap=0.5))
    ids = []
    for k, t in enumerate([0.0, 1 / FPS, 2 / FPS, 1.0, 1 + 1 / FPS]):  # gap of ~0.93 s > 0.5 s
        (p,) = tr.update(pose_frame([person_at(300, 300, 150, rng, 1.0)], t, k)).people
        ids.append(p.id)
    assert ids == [0, 0, 0, 1, 1]


def test_inputs_are_not_mutated_and_output_is_sorted_by_id():
    rng = np.random.default_rng(7)
    tr = Tracker()
    pf0 = pose_frame([person_at(100, 300, 150, rng), person_at(500, 300, 150, rng)], 0.0, 0)
    pf1 = pose_frame([person_at(502, 300, 150, rng, pid=-1), person_at(101, 300, 150, rng, pid=-1)], 0.033, 1)
    before = [p.landmarks.copy() for p in pf1.people]
    tr.update(pf0)
    out = tr.update(pf1)
    assert [p.id for p in pf1.people] == [-1, -1]
    assert all(np.array_equal(b, p.landmarks) for b, p in zip(before, pf1.people))
    assert [p.id for p in out.people] == [0, 1]
    assert out.people[0].landmarks[0, 0] < 0.5  # id 0 is still the person on the left


def test_time_going_backwards_starts_a_new_sequence():
    rng = np.random.default_rng(8)
    tr = Tracker()
    tr.update(pose_frame([person_at(100, 300, 150, rng)], 5.0, 0))
    (p,) = tr.update(pose_frame([person_at(500, 300, 150, rng)], 0.0, 0)).people
    assert p.id == 0 and tr.active_ids == [0]


def test_person_without_visible_landmarks_gets_an_id_but_no_track():
    rng = np.random.default_rng(9)
    hidden = person_at(300, 300, 150, rng)
    lm = hidden.landmarks.copy()
    lm[:, 3] = 0.1
    out = Tracker().update(pose_frame([hidden.with_(landmarks=lm), person_at(100, 300, 150, rng)], 0.0, 0))
    assert sorted(p.id for p in out.people) == [0, 1]


def test_stills_are_numbered_left_to_right():
    rng = np.random.default_rng(10)
    pf = pose_frame(
        [person_at(500, 300, 150, rng), person_at(100, 300, 150, rng), person_at(300, 300, 150, rng)], 0.0, 0
    )
    out = ids_left_to_right(pf)
    xs = [p.landmarks[0, 0] for p in out.people]
    assert [p.id for p in out.people] == [0, 1, 2] and xs == sorted(xs)
    assert TrackStage(sequence=False).process(pf).people == out.people


class _FakeEstimator:
    config = "cfg"

    def __init__(self):
        self.closed = False
        self.rng = np.random.default_rng(11)

    def process(self, frame):
        x = 100 + 300 * frame.timestamp
        return pose_frame(
            [person_at(600 - x, 300, 150, self.rng), person_at(x, 300, 150, self.rng)], frame.timestamp, frame.index
        )

    def close(self):
        self.closed = True


def test_tracking_estimator_wraps_any_estimator():
    est = _FakeEstimator()
    with TrackingEstimator(est) as tracked:
        assert tracked.config == "cfg"
        first = None
        for k in range(10):
            pf = tracked.process(pose_frame([], k / FPS, k).frame)
            left = min(pf.people, key=lambda p: p.landmarks[0, 0])
            first = left.id if first is None else first
            assert left.id == first  # the person on the left stays the same id (they never cross)
    assert est.closed


@pytest.mark.parametrize(
    "kw",
    [
        {"max_gap": -1},
        {"max_cost": 0},
        {"min_visibility": 2},
        {"velocity_alpha": 0},
        {"landmark_weight": 0, "box_weight": 0},
    ],
)
def test_bad_config_is_a_config_error(kw):
    with pytest.raises(ConfigError):
        TrackerConfig(**kw)
