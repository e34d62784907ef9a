from dataclasses import replace

import numpy as np
import pytest

from arpose import skeleton as sk
from arpose.retarget import FootGrounder, solve
from arpose.retarget.grounding import sole_points

FPS = 30.0


def _standing():
    pos, rot = sk.rest_pose()
    return solve(sk.markers_from_pose(pos, rot))


def _shifted(body, d):
    return replace(body, root_position=body.root_position + d, positions=body.positions + d)


def test_sole_points_of_the_rest_pose_are_on_the_ground_below_the_feet():
    body = _standing()
    soles = sole_points(body, body.rotations)
    foot_y = body.positions[sk.BONE_INDEX["LeftFoot"], 1]
    assert np.allclose(soles[:, :, 1], foot_y - 0.06)
    assert soles[0, 1, 2] - soles[0, 0, 2] == pytest.approx(0.22)  # heel behind, toe tip in front
    assert soles[0, 0, 0] > 0 > soles[1, 0, 0]  # left foot on +X


def test_planted_feet_stop_sliding_and_sit_on_the_floor():
    rng = np.random.default_rng(0)
    base = _standing()
    g = FootGrounder()
    before_y, after_speed, raw_speed = [], [], []
    prev_raw = prev_after = None
    for k in range(150):  # 5 s standing: measured body slides 6 cm/s and jitters 5 mm
        d = np.array([0.002 * k, 0.0, 0.0]) + rng.normal(scale=0.005, size=3)
        raw = _shifted(base, d)
        out = g.update(raw, raw.rotations, k / FPS)
        foot_raw = raw.positions[sk.BONE_INDEX["LeftFoot"]]
        foot = out.positions[sk.BONE_INDEX["LeftFoot"]]
        if k > 30:
            assert out.foot_contact.all()
            raw_speed.append(np.linalg.norm((foot_raw - prev_raw)[[0, 2]]) * FPS)
            after_speed.append(np.linalg.norm((foot - prev_after)[[0, 2]]) * FPS)
            before_y.append(sole_points(out, out.rotations)[:, :, 1].min() - out.floor_height)
        prev_raw, prev_after = foot_raw, foot
    assert np.median(after_speed) < 0.2 * np.median(raw_speed)
    assert np.median(np.abs(before_y)) < 0.003
    s = g.stats.summary()
    assert s["speed_after_median"] < 0.2 * s["speed_before_median"]
    assert s["height_after_median"] < s["height_before_median"]


def test_a_jump_releases_contact_and_the_floor_stays_put():
    base = _standing()
    g = FootGrounder()
    contacts, floors = [], []
    for k in range(90):
        h = 0.3 * np.sin(np.pi * (k - 40) / 12) if 40 <= k < 52 else 0.0
        raw = _shifted(base, np.array([0.0, h, 0.0]))
        out = g.update(raw, raw.rotations, k / FPS)
        contacts.append(out.foot_contact.copy())
        floors.append(out.floor_height)
        if 43 <= k < 49:
            assert out.positions[0, 1] > base.positions[0, 1] + 0.15  # the jump is kept, not pinned
    contacts = np.array(contacts)
    assert contacts[20:40].all() and not contacts[43:49].any() and contacts[70:].all()
    assert np.ptp(floors[20:]) < 0.005


def test_unknown_root_passes_through_without_contact():
    body = _standing()
    lost = replace(body, root_position=np.full(3, np.nan), positions=np.full_like(body.positions, np.nan))
    out = FootGrounder().update(lost, body.rotations, 0.0)
    assert not out.foot_contact.any() and np.all(np.isnan(out.root_position))
