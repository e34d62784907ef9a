"""No snaps: a bone coming back from low visibility eases to its new rotation at a bounded
speed, its hold running out eases it to rest, and no bone but the Hips turns faster than the
limit (known answers on synthetic people whose poses are exact)."""

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from arpose import skeleton as sk
from arpose.evaluate.retarget import bone_steps, largest_step, step_bound
from arpose.landmarks import PoseLandmark as L
from arpose.retarget import RetargetConfig, Retargeter
from arpose.retarget.geometry import geodesic_degrees, turn_towards
from arpose.retarget.stage import ease_rotations

ARM = sk.BONE_INDEX["LeftLowerArm"]
UPPER = sk.BONE_INDEX["LeftUpperArm"]
FPS = 30.0
HIDDEN_ARM = [L.LEFT_ELBOW, L.LEFT_WRIST, L.LEFT_INDEX, L.LEFT_PINKY, L.LEFT_THUMB]


def _rz(deg: float) -> np.ndarray:
    return Rotation.from_euler("z", deg, degrees=True).as_quat()


def _ry(deg: float) -> np.ndarray:
    return Rotation.from_euler("y", deg, degrees=True).as_quat()


def _arm_pose(elbow_deg: float) -> np.ndarray:
    """Arms hanging, the left elbow bent ``elbow_deg`` forward (a hinge about the upper arm's Y)."""
    q = np.tile([0.0, 0.0, 0.0, 1.0], (sk.NUM_BONES, 1))
    q[UPPER] = _rz(-70.0)
    q[sk.BONE_INDEX["RightUpperArm"]] = _rz(70.0)
    q[ARM] = _ry(-elbow_deg)
    return q


def test_turn_towards_known_answers():
    a = np.array([_rz(0.0), _rz(10.0), _rz(170.0), _rz(0.0)])
    b = np.array([_rz(90.0), _rz(20.0), -_rz(-170.0), [np.nan] * 4])  # -q: the same rotation
    out, reached = turn_towards(a, b, np.radians(30.0))
    np.testing.assert_allclose(geodesic_degrees(a[:3], out[:3]), [30.0, 10.0, 20.0], atol=1e-9)
    np.testing.assert_allclose(geodesic_degrees(out[:3], b[:3]), [60.0, 0.0, 0.0], atol=1e-6)
    assert reached.tolist() == [False, True, True, True]  # the NaN row has nothing to limit
    # the turn is along the shortest path: about z, +30 degrees
    np.testing.assert_allclose(out[0], _rz(30.0), atol=1e-12)
    # across the +-180 branch: 170 -> -170 is 20 degrees the short way, not 340
    np.testing.assert_allclose(geodesic_degrees(out[2], _rz(-170.0)), 0.0, atol=1e-6)
    assert turn_towards(a[:1], b[:1], np.inf)[1].all()


def test_ease_rotations_limits_every_bone_but_the_hips():
    prev = np.tile([0.0, 0.0, 0.0, 1.0], (sk.NUM_BONES, 1))
    target = np.tile(_ry(90.0), (sk.NUM_BONES, 1))
    easing = np.zeros(sk.NUM_BONES, bool)
    easing[ARM] = True
    out, reached = ease_rotations(prev, target, easing, 1.0 / FPS, 360.0, 600.0)
    steps = geodesic_degrees(prev, out)
    assert steps[0] == pytest.approx(90.0) and reached[0]  # the Hips: the body's own turn
    assert steps[ARM] == pytest.approx(12.0)  # returning: 360 deg/s at 30 fps
    others = [b for b in range(1, sk.NUM_BONES) if b != ARM]
    np.testing.assert_allclose(steps[others], 20.0)  # everyone else: 600 deg/s
    out, reached = ease_rotations(prev, target, easing, 1.0 / FPS, None, None)
    assert reached.all() and np.allclose(geodesic_degrees(prev, out), 90.0)


def _run(retargeter, synth, frames):
    """Feed ``(pose, visibility)`` pairs at 30 fps; the LeftLowerArm's local rotations."""
    out = []
    for k, (pose, vis) in enumerate(frames):
        body, _ = retargeter.update(synth.person(pose, visibility=vis), k / FPS)
        out.append(body.local_rotations.copy())
    return np.array(out)


def _dropout(bent_before: float, bent_after: float):
    """0.2 s seen bent ``bent_before``, 0.3 s with the forearm unseen, then seen at
    ``bent_after`` for 0.8 s."""
    seen, hidden = np.ones(33), np.ones(33)
    hidden[HIDDEN_ARM] = 0.1
    return (
        [(_arm_pose(bent_before), seen)] * 6
        + [(_arm_pose(bent_after), hidden)] * 9
        + [(_arm_pose(bent_after), seen)] * 24
    )


def test_a_forearm_back_from_a_dropout_eases_to_its_new_rotation(synth):
    frames = _dropout(10.0, 150.0)  # returns 140 degrees away from where it was held
    snap = _run(Retargeter(RetargetConfig(return_speed=None, max_turn_speed=None), synth.camera), synth, frames)
    steps = bone_steps(snap)[:, ARM]
    assert steps[14] == pytest.approx(140.0, abs=1.0) and steps[:14].max() < 1e-6  # held, then the snap

    eased = _run(Retargeter(camera=synth.camera), synth, frames)
    steps = bone_steps(eased)[:, ARM]
    assert steps[:14].max() < 1e-6  # held while unseen
    assert steps.max() <= 360.0 / FPS + 1e-6  # never faster than the return speed
    np.testing.assert_allclose(steps[14:25], 12.0, atol=1e-6)  # 140 degrees: 11 frames at 12 ...
    assert steps[25] == pytest.approx(8.0, abs=1e-3)  # ... and the last 8
    # ... reached within 180 / 360 s of its return, then the arm follows the landmarks again
    reached = 15 + int(np.ceil(140.0 / 12.0))
    assert reached <= 15 + 0.5 * FPS
    np.testing.assert_allclose(geodesic_degrees(eased[reached:, ARM], snap[reached:, ARM]), 0.0, atol=1e-3)
    assert largest_step(eased) <= step_bound(1.0 / FPS, truth_largest=0.0)  # the truth holds still


def test_a_hold_running_out_eases_to_rest(synth):
    seen, hidden = np.ones(33), np.ones(33)
    hidden[HIDDEN_ARM] = 0.1
    frames = [(_arm_pose(120.0), seen)] * 3 + [(_arm_pose(120.0), hidden)] * 45
    q = _run(Retargeter(camera=synth.camera), synth, frames)
    steps = bone_steps(q)[:, ARM]
    assert steps.max() <= 12.0 + 1e-6
    rest_from = 3 + int(np.ceil(0.5 * FPS))  # hold_seconds, then 120 degrees at 12 a frame
    assert steps[: rest_from - 2].max() < 1e-6
    np.testing.assert_allclose(geodesic_degrees(q[rest_from + 11 :, ARM], [0, 0, 0, 1]), 0.0, atol=1e-6)


def test_a_confident_flip_is_limited_but_the_body_may_turn_fast(synth):
    """A forearm seen well throughout flips 90 degrees in one frame (the kind of twist an
    almost straight limb gets wrong): it turns at 600 degrees per second; the whole body
    turning 90 degrees between two frames keeps its Hips turn."""
    seen = np.ones(33)
    turned = _arm_pose(100.0)
    turned[0] = _ry(90.0)
    frames = [(_arm_pose(10.0), seen)] * 3 + [(turned, seen)] * 10
    q = _run(Retargeter(camera=synth.camera), synth, frames)
    steps = bone_steps(q)
    assert steps[2, ARM] == pytest.approx(20.0, abs=1e-6) and steps[:, ARM].max() <= 20.0 + 1e-6
    assert steps[2, 0] == pytest.approx(90.0, abs=0.5)  # the Hips are never limited
    np.testing.assert_allclose(geodesic_degrees(q[-1, ARM], _ry(-100.0)), 0.0, atol=1e-3)


def test_bone_steps_known_answers():
    q = np.tile([0.0, 0.0, 0.0, 1.0], (3, sk.NUM_BONES, 1))
    q[1, ARM] = -_rz(30.0)  # sign does not matter
    q[2, ARM] = _rz(-15.0)
    q[2, 0] = np.nan
    s = bone_steps(q)
    assert s.shape == (2, sk.NUM_BONES)
    assert s[0, ARM] == pytest.approx(30.0) and s[1, ARM] == pytest.approx(45.0) and np.isnan(s[1, 0])
    assert largest_step(q) == pytest.approx(45.0)
    assert step_bound(1 / 30, 13.7) == pytest.approx(33.7)
    assert step_bound(0.1) == pytest.approx(70.0)  # a real 10 fps clip: 500 deg/s for the truth
    with pytest.raises(ValueError, match=r"\(F, B, 4\)"):
        bone_steps(np.zeros((3, 4)))
