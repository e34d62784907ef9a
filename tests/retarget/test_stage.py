import numpy as np

from arpose import skeleton as sk
from arpose.retarget import ANGLE_NAMES, BodyPose, RetargetStage
from arpose.retarget.model_poses import random_model_pose


def test_stage_fills_body_and_angles_per_person_without_touching_its_input(synth, rest_local):
    stage = RetargetStage(camera=synth.camera)
    assert stage.name == "retarget"
    rng = np.random.default_rng(0)
    a = synth.person(rest_local, pid=0)
    b = synth.person(random_model_pose(rng), cam_translation=(1.0, 0.0, 4.0), pid=7)
    pf = synth.frame([a, b], 0.0)
    out = stage.process(pf)
    assert pf.people[0].body is None and pf.people[0].angles is None
    assert set(stage.people) == {0, 7}
    for person in out.people:
        assert isinstance(person.body, BodyPose) and tuple(person.angles) == ANGLE_NAMES
        assert person.body.local_rotations.shape == (sk.NUM_BONES, 4)
    assert out.people[1].body.camera_translation[0] > 0.9  # each person has their own root
    stage.process(synth.frame([a], 10.0, index=1))
    assert set(stage.people) == {0}  # person 7 unseen for longer than forget_seconds


def test_stills_are_solved_independently(synth, rest_local):
    stage = RetargetStage(camera=synth.camera, independent_frames=True)
    stage.process(synth.frame([synth.person(rest_local, height=1.5)], 0.0))
    out = stage.process(synth.frame([synth.person(rest_local)], 1.0, index=1))
    # the first photo's smaller body does not carry over into the second photo's bone lengths
    assert np.allclose(out.people[0].body.offsets[1:], sk.REST_OFFSETS[1:], atol=1e-6)


def test_empty_frames_pass_through(synth):
    out = RetargetStage(camera=synth.camera).process(synth.frame([], 0.0))
    assert out.people == ()


def test_a_person_with_no_landmarks_gets_rest_rotations_and_an_unknown_root(synth):
    from arpose.types import Person

    nobody = Person(0, np.full((33, 5), np.nan, np.float32), np.full((33, 3), np.nan, np.float32), 0.0)
    stage = RetargetStage(camera=synth.camera)
    for k in range(2):
        out = stage.process(synth.frame([nobody], k / 30, index=k)).people[0]
        assert np.allclose(np.abs(out.body.local_rotations[:, 3]), 1.0)
        assert np.all(np.isnan(out.body.root_position)) and not out.body.foot_contact.any()
        assert all(np.isnan(v) for v in out.angles.values())


def test_an_arm_that_disappears_holds_its_rotation_then_returns_to_rest(synth):
    from arpose.landmarks import PoseLandmark as L
    from arpose.retarget import Retargeter

    q = random_model_pose(np.random.default_rng(3))
    r = Retargeter(camera=synth.camera)
    seen = synth.person(q)
    vis = np.ones(33)
    vis[[L.LEFT_ELBOW, L.LEFT_WRIST, L.LEFT_INDEX, L.LEFT_PINKY]] = 0.1
    hidden = synth.person(np.tile([0.0, 0.0, 0.0, 1.0], (sk.NUM_BONES, 1)), visibility=vis)
    arm = sk.BONE_INDEX["LeftLowerArm"]
    first, _ = r.update(seen, 0.0)
    held, _ = r.update(hidden, 0.3)  # within hold_seconds (0.5 s): the last rotation
    # quaternion distance, not geodesic_degrees: arccos turns a 1e-16 difference into 2e-6 degrees
    assert np.abs(held.local_rotations[arm] - first.local_rotations[arm]).max() < 1e-12
    rest, _ = r.update(hidden, 1.0)  # longer: back to rest
    assert np.abs(np.abs(rest.local_rotations[arm]) - [0, 0, 0, 1]).max() < 1e-12


def test_body_for_person_is_the_stage_on_a_first_frame_with_no_state(synth):
    from arpose.retarget import RetargetConfig, body_for_person

    rng = np.random.default_rng(15)
    config = RetargetConfig(subject_height=1.6)
    for k in range(5):  # noisy pixels and a taller person: the fit is not exact, still the same
        person = synth.person(random_model_pose(rng), height=1.85, px_noise=2.0, rng=rng)
        got = body_for_person(person, synth.camera, config)
        want = RetargetStage(config, synth.camera).process(synth.frame([person], float(k))).people[0].body
        for name in ("local_rotations", "rotations", "root_position", "positions", "offsets", "bone_confidence"):
            np.testing.assert_allclose(getattr(got, name), getattr(want, name), rtol=0, atol=1e-12, err_msg=name)
        assert got.reprojection_error_px == want.reprojection_error_px > 0.5
        assert not got.foot_contact.any() and np.isnan(got.floor_height)  # no grounding without state
    unseen = person.with_(landmarks=np.where(np.arange(5) == 3, 0.0, person.landmarks).astype(np.float32))
    lost = body_for_person(unseen, synth.camera)
    assert np.isnan(lost.root_position).all() and np.isnan(lost.positions).all()
    assert np.abs(np.abs(lost.local_rotations) - [0, 0, 0, 1]).max() < 1e-12  # nothing seen: rest
