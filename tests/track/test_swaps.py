"""Left/right identity (arpose.track.swaps): known answers on exact performer geometry.

The "estimates" here are the performer's true markers (no rendering, no MediaPipe): image
landmarks are the true pixels, world landmarks the true markers in MediaPipe's world frame,
plus seeded noise. Swaps are injected by exchanging left and right in chosen frames, exactly
as BlazePose's mirror-labelled frames look (image and world alike), so the right answer of
every frame is known.
"""

from __future__ import annotations

import numpy as np
import pytest

from arpose.errors import ConfigError, InputError
from arpose.landmarks import MIRROR_PERMUTATION, NUM_LANDMARKS, VISIBILITY
from arpose.landmarks import PoseLandmark as L
from arpose.performer.motions import PROCEDURAL, ProceduralMotion, _ease, _Pose, _relaxed_arms, _ry
from arpose.performer.performer import pose_sequence
from arpose.track.swaps import (
    LEFT_RIGHT_PAIRS,
    SIDED_BODY,
    SwapConfig,
    SwapStage,
    exchange_arrays,
    exchange_person,
    image_costs,
    label_sequence,
    swap_step,
    torso_direction,
)
from arpose.types import Camera, Frame, Person, PoseFrame

CAMERA = Camera.from_fov(640, 480, 60.0)
SIZE = (CAMERA.width, CAMERA.height)


def _turn_180(t: np.ndarray) -> tuple[_Pose, np.ndarray]:
    """A genuine fast half turn: facing the camera, then 180 degrees in 0.4 s (peak 844
    degrees per second, 28 degrees a frame at 30 fps), then the back to the camera."""
    p = _Pose(t.size)
    _relaxed_arms(p, down_deg=60.0, elbow_deg=20.0)
    p.set("Hips", _ry(180.0 * _ease((t - 0.5) / 0.4)))
    return p, np.zeros((t.size, 3))


TURN_180 = ProceduralMotion("turn_180", "a half turn in 0.4 s", _turn_180)


def estimates(motion, seconds=3.0, fps=30.0, noise_px=1.0, noise_m=0.01, seed=0):
    """``(landmarks (F, 33, 5), world (F, 33, 3), t (F,))``: the motion's true markers as
    BlazePose-like estimates (normalised image landmarks with visibility 1 and presence 1,
    world landmarks in metres), with Gaussian noise."""
    t = np.arange(int(round(seconds * fps))) / fps
    truth = pose_sequence(motion, t, CAMERA)
    rng = np.random.default_rng(seed)
    lm = np.ones((t.size, NUM_LANDMARKS, 5))
    lm[..., :2] = (truth.markers_px + rng.normal(0.0, noise_px, truth.markers_px.shape)) / np.array(SIZE)
    lm[..., 2] = truth.markers_mp_world[..., 2]
    world = truth.markers_mp_world + rng.normal(0.0, noise_m, truth.markers_mp_world.shape)
    return lm, world, t


def inject(lm, world, frames):
    """Copies with left and right exchanged in ``frames`` (a boolean mask or indices)."""
    lm, world = lm.copy(), world.copy()
    lm[frames], world[frames] = exchange_arrays(lm[frames], world[frames])
    return lm, world


def run_stage(lm, world, t, person_id=0):
    """The stage's decision per frame for one person (True = exchanged), through PoseFrames."""
    stage = SwapStage()
    out = []
    for i in range(len(t)):
        person = Person(person_id, lm[i].astype(np.float32), world[i].astype(np.float32), 0.9)
        pf = stage.process(PoseFrame(Frame(np.zeros((SIZE[1], SIZE[0], 3), np.uint8), t[i], i), (person,)))
        got = pf.people[0]
        exchanged = not np.array_equal(got.landmarks, person.landmarks)
        if exchanged:
            np.testing.assert_array_equal(got.landmarks, person.landmarks[MIRROR_PERMUTATION])
        out.append(exchanged)
        assert stage.exchanged_ids == ((person_id,) if exchanged else ())
    return np.array(out)


def mask(n, *runs):
    m = np.zeros(n, dtype=bool)
    for a, b in runs:
        m[a:b] = True
    return m


# ---------------------------------------------------------------------------------------
# The exchange itself


def test_pairs_come_from_the_names_and_the_exchange_is_an_involution():
    assert len(LEFT_RIGHT_PAIRS) == 16
    for left, right in LEFT_RIGHT_PAIRS:
        assert left.name.replace("LEFT", "RIGHT") == right.name
    assert (L.MOUTH_LEFT, L.MOUTH_RIGHT) in LEFT_RIGHT_PAIRS
    assert len(SIDED_BODY) == 22 and L.NOSE not in SIDED_BODY and L.LEFT_EAR not in SIDED_BODY
    rng = np.random.default_rng(1)
    lm, world = rng.random((33, 5)), rng.random((33, 3))
    lm2, world2 = exchange_arrays(lm, world)
    assert lm2 is not lm
    np.testing.assert_array_equal(lm2[L.LEFT_WRIST], lm[L.RIGHT_WRIST])  # visibility too
    np.testing.assert_array_equal(world2[L.RIGHT_HEEL], world[L.LEFT_HEEL])
    np.testing.assert_array_equal(lm2[L.NOSE], lm[L.NOSE])
    back = exchange_arrays(lm2, world2)
    np.testing.assert_array_equal(back[0], lm)
    np.testing.assert_array_equal(back[1], world)
    with pytest.raises(InputError, match=r"got \(33, 5\) and \(20, 3\)"):
        exchange_arrays(lm, world[:20])


def test_exchange_person_keeps_the_callers_arrays_and_exchanges_raw_arrays():
    rng = np.random.default_rng(2)
    p = Person(3, rng.random((33, 5)).astype(np.float32), rng.random((33, 3)).astype(np.float32), 0.8)
    p = p.with_(raw_landmarks=p.landmarks + 1, raw_world=p.world + 1)
    before = p.landmarks.copy()
    q = exchange_person(p)
    np.testing.assert_array_equal(p.landmarks, before)
    np.testing.assert_array_equal(q.landmarks[L.LEFT_KNEE], p.landmarks[L.RIGHT_KNEE])
    np.testing.assert_array_equal(q.raw_landmarks[L.LEFT_KNEE], p.raw_landmarks[L.RIGHT_KNEE])
    assert q.id == 3 and q.score == p.score


def test_torso_direction_facing_turned_and_exchanged():
    lm, world, _ = estimates(PROCEDURAL["tpose"], seconds=0.1, noise_px=0, noise_m=0)
    yaw, r = torso_direction(world[0])
    assert abs(yaw) < 1e-6 and r == pytest.approx(1.0)  # facing the camera: left is image right
    yaw_x, _ = torso_direction(exchange_arrays(lm[0], world[0])[1])
    assert abs(abs(yaw_x) - np.pi) < 1e-6
    yaw_nan, r_nan = torso_direction(np.full((33, 3), np.nan))
    assert np.isnan(yaw_nan) and r_nan == 0.0


def test_image_costs_see_an_exchange_across_the_body():
    lm, _, t = estimates(PROCEDURAL["idle"], seconds=0.2, noise_px=0.5)
    same, cross = image_costs(lm[0], lm[1], t[1] - t[0], SIZE)
    assert same < 0.05 and cross > 0.5
    ex, _ = exchange_arrays(lm[1], np.zeros((33, 3)))
    same_x, cross_x = image_costs(lm[0], ex, t[1] - t[0], SIZE)
    assert same_x == pytest.approx(cross) and cross_x == pytest.approx(same)
    hidden = lm[1].copy()
    hidden[:, VISIBILITY] = 0.0
    assert image_costs(lm[0], hidden, 1 / 30, SIZE) == (0.0, 0.0)  # nothing visible: no evidence


def test_config_values_are_checked():
    for bad in (dict(prior=-1.0), dict(lags=0), dict(image_noise=0.0), dict(rate_alpha=2.0), dict(max_gap=np.nan)):
        with pytest.raises(ConfigError):
            SwapConfig(**bad)


# ---------------------------------------------------------------------------------------
# Known answers: injected swaps are undone, genuine turns are left alone


@pytest.mark.parametrize(
    "motion, runs",
    [
        ("idle", [(20, 45)]),  # facing the camera
        ("walk", [(10, 12), (40, 75)]),  # a 2-frame and a 35-frame run
        ("turn", [(35, 60)]),  # starts at about 70 degrees (near profile)
        ("spin", [(8, 30)]),  # starts during a 675 deg/s pirouette
        (TURN_180, [(20, 50)]),  # straddles the genuine half turn
    ],
)
def test_injected_swaps_are_undone_live_and_offline(motion, runs):
    motion = PROCEDURAL[motion] if isinstance(motion, str) else motion
    lm, world, t = estimates(motion)
    truth = mask(len(t), *runs)
    lm_s, world_s = inject(lm, world, truth)
    live = run_stage(lm_s, world_s, t)
    np.testing.assert_array_equal(live, truth)
    np.testing.assert_array_equal(label_sequence(lm_s, world_s, t, SIZE, causal=True), truth)
    np.testing.assert_array_equal(label_sequence(lm_s, world_s, t, SIZE), truth)


@pytest.mark.parametrize("motion", ["turn", "spin", "walk_angle", TURN_180])
def test_genuine_turns_are_never_exchanged(motion):
    motion = PROCEDURAL[motion] if isinstance(motion, str) else motion
    lm, world, t = estimates(motion, seconds=4.0, noise_px=2.0, noise_m=0.02)
    assert not run_stage(lm, world, t).any()
    assert not label_sequence(lm, world, t, SIZE).any()


def test_the_half_turn_really_turns():
    """The known answer above is not vacuous: the body's yaw goes through 180 degrees in
    0.4 s, and at 30 fps the largest step is over 25 degrees."""
    _, world, _ = estimates(TURN_180, noise_m=0)
    yaw = np.degrees(np.unwrap([torso_direction(w)[0] for w in world]))
    assert abs(yaw[-1] - yaw[0]) == pytest.approx(180.0, abs=1.0)
    assert np.abs(np.diff(yaw)).max() > 25.0


def test_half_flipped_frames_at_the_edges_of_a_run():
    """BlazePose enters and leaves a swap over a few frames (arms first, then the rest)."""
    lm, world, t = estimates(PROCEDURAL["idle"])
    truth = mask(len(t), (30, 60))
    lm_s, world_s = inject(lm, world, truth)
    arms = np.array([L.LEFT_ELBOW, L.LEFT_WRIST, L.LEFT_PINKY, L.LEFT_INDEX, L.LEFT_THUMB])
    for i in (29, 60):  # only the arms exchanged just before and just after the run
        for a in arms:
            b = MIRROR_PERMUTATION[a]
            lm_s[i, [a, b]] = lm_s[i, [b, a]]
            world_s[i, [a, b]] = world_s[i, [b, a]]
    got = run_stage(lm_s, world_s, t)
    np.testing.assert_array_equal(got[30:60], True)
    assert not got[:29].any() and not got[61:].any()


def test_leaving_a_run_with_the_world_yaw_lagging_behind():
    """As on the CMU forward jumps: BlazePose leaves a mirrored run in the middle of a turn,
    the first frame after it half-flipped, and its world torso yaw 60, 45 and 30 degrees
    behind for three frames. The run ends where it ends (a saturating yaw score stayed
    exchanged for the rest of the clip here)."""
    from scipy.spatial.transform import Rotation

    lm, world, t = estimates(PROCEDURAL["turn"], seconds=4.0)
    truth = mask(len(t), (40, 48))
    lm_s, world_s = inject(lm, world, truth)
    for k, i in enumerate((48, 49, 50)):
        world_s[i] = Rotation.from_euler("y", 60.0 - 15.0 * k, degrees=True).apply(world_s[i])
    for a in (L.LEFT_ELBOW, L.LEFT_WRIST, L.LEFT_PINKY, L.LEFT_INDEX, L.LEFT_THUMB):
        b = MIRROR_PERMUTATION[a]
        lm_s[48, [a, b]] = lm_s[48, [b, a]]
        world_s[48, [a, b]] = world_s[48, [b, a]]
    np.testing.assert_array_equal(label_sequence(lm_s, world_s, t, SIZE, causal=True), truth)
    np.testing.assert_array_equal(label_sequence(lm_s, world_s, t, SIZE), truth)


def test_a_gap_restarts_with_blazepose_labels():
    lm, world, t = estimates(PROCEDURAL["idle"])
    t = t.copy()
    t[40:] += 1.0  # unseen for a second: longer than max_gap
    lm_s, world_s = inject(lm, world, mask(len(t), (30, 60)))
    got = run_stage(lm_s, world_s, t)
    assert got[30:40].all()
    assert not got[40:60].any()  # no evidence crosses the gap: BlazePose's labels are kept
    cfg = SwapConfig(max_gap=2.0)
    assert label_sequence(lm_s, world_s, t, SIZE, cfg)[30:60].all()


def test_low_frame_rates_do_not_use_the_yaw():
    """At 5 fps a fast turn moves more than 90 degrees between frames: the yaw term is off and
    the genuine turn is still not exchanged."""
    lm, world, t = estimates(PROCEDURAL["spin"], seconds=4.0, fps=5.0)
    assert not label_sequence(lm, world, t, SIZE, causal=True).any()


def test_person_without_torso_passes_through_and_keeps_the_state():
    lm, world, t = estimates(PROCEDURAL["idle"], seconds=1.0)
    lm_s, world_s = inject(lm, world, mask(len(t), (10, 30)))
    lm_s[15, L.LEFT_HIP, :2] = np.nan
    state = None
    for i in range(len(t)):
        person = Person(0, lm_s[i], world_s[i], 0.9)
        out, state = swap_step(state, person, t[i], SIZE)
        if i == 15:
            assert out is person
        elif 10 <= i < 30:
            assert out is not person
    lonely = Person(0, lm_s[15], world_s[15], 0.9)
    out, state = swap_step(None, lonely, 0.0, SIZE)
    assert out is lonely and state is None
    with pytest.raises(InputError, match="swap_step"):
        swap_step(None, Person(0, lm_s[0][:10], world_s[0], 0.9), 0.0, SIZE)


def test_two_people_keep_their_own_identity():
    """Two people side by side: swaps injected in one of them only. Each id has its own
    state; the other person is never touched, whatever order they come in."""
    lm_a, world_a, t = estimates(PROCEDURAL["walk"], seed=1)
    lm_b, world_b, _ = estimates(PROCEDURAL["spin"], seed=2)
    lm_a[..., 0] -= 0.25  # person 1 on the image's left, person 2 on its right
    lm_b[..., 0] += 0.25
    truth_b = mask(len(t), (15, 40), (60, 62))
    lm_b, world_b = inject(lm_b, world_b, truth_b)
    stage = SwapStage()
    got_a, got_b = [], []
    for i in range(len(t)):
        a = Person(1, lm_a[i].astype(np.float32), world_a[i].astype(np.float32), 0.9)
        b = Person(2, lm_b[i].astype(np.float32), world_b[i].astype(np.float32), 0.9)
        people = (a, b) if i % 2 else (b, a)
        pf = stage.process(PoseFrame(Frame(np.zeros((480, 640, 3), np.uint8), t[i], i), people))
        by_id = {p.id: p for p in pf.people}
        got_a.append(by_id[1] is not a)
        got_b.append(by_id[2] is not b)
        assert set(stage.exchanged_ids) == ({2} if truth_b[i] else set())
    assert not any(got_a)
    np.testing.assert_array_equal(got_b, truth_b)
    with pytest.raises(InputError, match="share id"):
        stage.process(PoseFrame(Frame(np.zeros((480, 640, 3), np.uint8), 9.0, 0), (a, a)))


def test_offline_revises_a_live_decision():
    """A person first seen mirror-labelled (frames 0-19), correct afterwards. Live, the first
    labels are taken (nothing says they are wrong yet) and the flip at frame 20 looks like the
    start of a swap: frames from 20 on are exchanged until the prior wears the first
    stretch's credit off. Offline, the whole sequence shows the first stretch is the shorter
    one and exchanges exactly it. (With a lower start_cost than the default, which trusts
    first sight more.)"""
    cfg = SwapConfig(start_cost=0.1)
    lm, world, t = estimates(PROCEDURAL["idle"])
    truth = mask(len(t), (0, 20))
    lm_s, world_s = inject(lm, world, truth)
    offline = label_sequence(lm_s, world_s, t, SIZE, cfg)
    np.testing.assert_array_equal(offline, truth)
    live = label_sequence(lm_s, world_s, t, SIZE, cfg, causal=True)
    assert not live[:20].any() and live[20:60].all() and not live[-10:].any()
    assert label_sequence(lm_s[:0], world_s[:0], t[:0], SIZE).shape == (0,)
    with pytest.raises(InputError, match="label_sequence"):
        label_sequence(lm_s, world_s[:5], t, SIZE)
