"""Person smoothing and the ``smooth`` stage: image/world landmarks, visibility, gaps, ids."""

import numpy as np
import pytest

from arpose.errors import ConfigError, InputError
from arpose.landmarks import NUM_LANDMARKS, PRESENCE, VISIBILITY
from arpose.landmarks import PoseLandmark as L
from arpose.smooth import OneEuroParams, PersonSmoother, SmoothConfig, SmoothStage, smooth_person, smoothing_factor
from arpose.smooth.person import LEGS
from arpose.types import Frame, Person, PoseFrame

W, H = 640, 480


def _body(shift=0.0):
    """A plausible (33, 5) image pose (normalised) and (33, 3) world pose, shifted in x."""
    rng = np.random.default_rng(1)
    img = np.zeros((NUM_LANDMARKS, 5), np.float32)
    img[:, 0] = 0.5 + rng.uniform(-0.1, 0.1, NUM_LANDMARKS) + shift
    img[:, 1] = rng.uniform(0.2, 0.9, NUM_LANDMARKS)
    img[:, 2] = rng.uniform(-0.1, 0.1, NUM_LANDMARKS)
    img[:, VISIBILITY] = 0.99
    img[:, PRESENCE] = np.nan
    img[[L.LEFT_SHOULDER, L.RIGHT_SHOULDER, L.LEFT_HIP, L.RIGHT_HIP], :2] = [
        [0.55 + shift, 0.35],
        [0.45 + shift, 0.35],
        [0.53 + shift, 0.6],
        [0.47 + shift, 0.6],
    ]
    world = rng.uniform(-0.5, 0.5, (NUM_LANDMARKS, 3)).astype(np.float32)
    world[:, 0] += shift
    return img, world


def _pf(t, index, people):
    return PoseFrame(Frame(np.zeros((H, W, 3), np.uint8), t, index), tuple(people))


def test_stage_returns_new_people_with_raw_arrays_and_never_mutates():
    stage = SmoothStage()
    img, world = _body()
    p0 = Person(0, img, world, 0.9)
    out0 = stage.process(_pf(0.0, 0, [p0]))
    img2, world2 = _body(0.05)
    keep_img, keep_world = img2.copy(), world2.copy()
    pf1 = _pf(1 / 30, 1, [Person(0, img2, world2, 0.9)])
    out1 = stage.process(pf1)
    q = out1.people[0]
    assert stage.name == "smooth"
    assert q.raw_landmarks is img2 and q.raw_world is world2
    np.testing.assert_array_equal(img2, keep_img)
    np.testing.assert_array_equal(world2, keep_world)
    assert pf1.people[0].landmarks is img2  # input frame untouched
    assert q.landmarks.dtype == np.float32 and q.landmarks.shape == (33, 5)
    assert q.world.dtype == np.float32 and q.world.shape == (33, 3)
    # Smoothed values lie between the previous output and the new estimate.
    prev = out0.people[0]
    lo = np.minimum(prev.world, world2) - 1e-6
    hi = np.maximum(prev.world, world2) + 1e-6
    assert ((q.world >= lo) & (q.world <= hi)).all()
    assert not np.allclose(q.world, world2)


def test_image_speed_is_scaled_by_pose_size():
    """The same motion in torso sizes per second gets the same smoothing near and far."""
    cfg = SmoothConfig(image=OneEuroParams(0.5, 2.0))

    def run(zoom):
        img, world = _body()
        sm = PersonSmoother(cfg)
        outs = []
        for k in range(20):
            a = img.copy()
            a[:, :2] = 0.5 + (img[:, :2] - 0.5 + 0.01 * k) * zoom
            outs.append(sm(Person(0, a, world, 1.0), k / 30, (W, H)).landmarks[:, :2] - 0.5)
        return np.array(outs) / zoom

    np.testing.assert_allclose(run(1.0), run(0.5), atol=1e-5)


def test_low_visibility_landmark_holds_or_eases_instead_of_jumping():
    img, world = _body()
    cfg = SmoothConfig(visibility_threshold=0.5, hidden_cutoff=0.0)
    st = None
    _, st = smooth_person(st, Person(0, img, world, 1.0), 0.0, (W, H), cfg)
    jump = img.copy()
    jump[L.LEFT_WRIST, :2] += 0.3  # a wild guess for an occluded wrist
    jump[L.LEFT_WRIST, VISIBILITY] = 0.1
    world_jump = world.copy()
    world_jump[L.LEFT_WRIST] += 0.5
    out, st2 = smooth_person(st, Person(0, jump, world_jump, 1.0), 1 / 30, (W, H), cfg)
    np.testing.assert_allclose(out.landmarks[L.LEFT_WRIST, :2], img[L.LEFT_WRIST, :2], atol=1e-6)
    np.testing.assert_allclose(out.world[L.LEFT_WRIST], world[L.LEFT_WRIST], atol=1e-6)
    # With an easing cutoff it moves by exactly the low-pass fraction of the jump.
    ease = SmoothConfig(visibility_threshold=0.5, hidden_cutoff=0.5)
    out_e, _ = smooth_person(st, Person(0, jump, world_jump, 1.0), 1 / 30, (W, H), ease)
    a = smoothing_factor(1 / 30, 0.5)
    np.testing.assert_allclose(out_e.world[L.LEFT_WRIST], world[L.LEFT_WRIST] + a * 0.5, atol=1e-5)
    # Without the gate the default filter follows the jump much faster.
    out_n, _ = smooth_person(
        st, Person(0, jump, world_jump, 1.0), 1 / 30, (W, H), SmoothConfig(visibility_threshold=0.0)
    )
    assert np.linalg.norm(out_n.world[L.LEFT_WRIST] - world[L.LEFT_WRIST]) > 5 * a * 0.5 * np.sqrt(3)
    # Visibility itself is low-passed, not jumping to 0.1.
    assert 0.1 < out.landmarks[L.LEFT_WRIST, VISIBILITY] < 0.99


def test_nan_landmarks_stay_nan_and_never_poison_the_state():
    img, world = _body()
    sm = PersonSmoother()
    sm(Person(0, img, world, 1.0), 0.0, (W, H))
    holes = img.copy()
    holes[L.NOSE, :3] = np.nan
    holes[[L.LEFT_HIP], 0] = np.nan  # torso size unknown this frame: previous scale is used
    w2 = world.copy()
    w2[L.NOSE] = np.nan
    out = sm(Person(0, holes, w2, 1.0), 1 / 30, (W, H))
    assert np.isnan(out.landmarks[L.NOSE, :3]).all() and np.isnan(out.world[L.NOSE]).all()
    assert np.isfinite(out.landmarks[L.LEFT_WRIST, :3]).all()
    out = sm(Person(0, img, world, 1.0), 2 / 30, (W, H))
    assert np.isfinite(out.landmarks[:, :4]).all() and np.isfinite(out.world).all()
    for s in (sm.state.image, sm.state.world):
        assert np.isfinite(s.y).all() and np.isfinite(s.dy).all()


def test_reset_after_the_person_is_lost_longer_than_the_gap():
    img, world = _body()
    img2, world2 = _body(0.2)
    stage = SmoothStage(SmoothConfig(reset_gap=0.5))
    stage.process(_pf(0.0, 0, [Person(0, img, world, 1.0)]))
    stage.process(_pf(0.3, 1, []))
    assert stage.tracked_ids == (0,)
    # Back within the gap: smoothed (not equal to the new estimate).
    within = stage.process(_pf(0.4, 2, [Person(0, img2, world2, 1.0)])).people[0]
    assert not np.allclose(within.world, world2)
    stage.process(_pf(0.6, 3, []))
    stage.process(_pf(1.0, 4, []))
    assert stage.tracked_ids == ()  # lost for 0.6 s > 0.5 s: state dropped
    back = stage.process(_pf(1.1, 5, [Person(0, img, world, 1.0)])).people[0]
    np.testing.assert_array_equal(back.world, world)  # fresh start passes through
    np.testing.assert_allclose(back.landmarks[:, :3], img[:, :3], atol=1e-6)


def test_two_people_never_share_state():
    img_a, world_a = _body(-0.2)
    img_b, world_b = _body(0.2)
    both = SmoothStage()
    alone = SmoothStage()
    rng = np.random.default_rng(5)
    for k in range(15):
        t = k / 30
        na = rng.normal(0, 0.01, world_a.shape).astype(np.float32)
        nb = rng.normal(0, 0.01, world_b.shape).astype(np.float32)
        pa = Person(3, img_a, world_a + na, 1.0)
        pb = Person(7, img_b + 0.01 * k, world_b + nb + 0.02 * k, 1.0)
        out_both = both.process(_pf(t, k, [pb, pa] if k % 2 else [pa, pb]))
        out_alone = alone.process(_pf(t, k, [pa]))
        a_both = next(p for p in out_both.people if p.id == 3)
        np.testing.assert_array_equal(a_both.world, out_alone.people[0].world)
        np.testing.assert_array_equal(a_both.landmarks, out_alone.people[0].landmarks)
    assert both.tracked_ids == (3, 7)


def test_stage_rejects_duplicate_ids_and_bad_config():
    img, world = _body()
    with pytest.raises(InputError, match="share id"):
        SmoothStage().process(_pf(0.0, 0, [Person(1, img, world, 1.0), Person(1, img, world, 1.0)]))
    with pytest.raises(ConfigError):
        SmoothConfig(visibility_threshold=1.5)
    with pytest.raises(ConfigError):
        SmoothConfig(reset_gap=-1)
    with pytest.raises(ConfigError):
        SmoothConfig(world=(0.1, 40))


def test_world_depth_has_its_own_parameters():
    """A steady ramp in x and z: each axis lags by v * tau of its own cutoff (beta 0)."""
    img, world = _body()
    cfg = SmoothConfig(
        world=OneEuroParams(4.0, 0.0),
        world_depth=OneEuroParams(0.5, 0.0),
        leg_depth=OneEuroParams(2.0, 0.0),
        visibility_threshold=0.0,
    )
    sm = PersonSmoother(cfg)
    v = 0.3  # m/s
    for k in range(400):
        t = k / 30
        w = world.astype(np.float64).copy()
        w[:, 0] += v * t
        w[:, 2] += v * t
        out = sm(Person(0, img, w.astype(np.float32), 1.0), t, (W, H))
    lag = w - out.world
    np.testing.assert_allclose(lag[:, 0], v / (2 * np.pi * 4.0), rtol=1e-3, atol=2e-6)
    body, legs = np.ones(33, bool), np.zeros(33, bool)
    body[LEGS], legs[LEGS] = False, True
    assert legs.sum() == 8 and legs[L.LEFT_KNEE] and legs[L.RIGHT_FOOT_INDEX] and not legs[L.LEFT_HIP]
    np.testing.assert_allclose(lag[body, 2], v / (2 * np.pi * 0.5), rtol=1e-3, atol=2e-6)
    np.testing.assert_allclose(lag[legs, 2], v / (2 * np.pi * 2.0), rtol=1e-3, atol=2e-6)  # the legs' own
    np.testing.assert_allclose(lag[:, 1], 0.0, atol=1e-6)
