"""Props that stay put: the head anchored by its face in the image, smoothed where the prop is
seen. Known answers: the face fit on exact faces, a still person with injected landmark noise
(the crown against the truth and against a crown pinned to the noisy eyes and ears), stills
on their own, a change of reference points without a jump, the renderer's own frames."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from arpose.evaluate.props import jitter_cut, jitter_px, naive_anchor_px, prop_part, wobble_px
from arpose.landmarks import VISIBILITY
from arpose.landmarks import PoseLandmark as L
from arpose.render.frames import (
    FACE_LANDMARKS,
    AnchorConfig,
    BodyFrames,
    PropAnchors,
    face_pose,
    project,
    prop_frames,
)
from arpose.render.overlay import _body_pose, _person_for, project_world
from arpose.render.props import part_pose
from arpose.retarget import RetargetStage
from arpose.skeleton import BONE_INDEX, NUM_BONES, forward_kinematics
from arpose.types import Camera, Frame, PoseFrame

CAM = Camera.from_fov(640, 480, 60.0)
HEAD = BONE_INDEX["Head"]
FPS = 30.0


def _still(head_deg=(0.0, 0.0, 0.0), root=(0.1, -0.05, -3.0)) -> BodyFrames:
    """The default body standing still, arms down, the head turned (x, y, z degrees)."""
    local = np.tile([0.0, 0.0, 0.0, 1.0], (NUM_BONES, 1))
    local[BONE_INDEX["LeftUpperArm"]] = Rotation.from_euler("z", -75, degrees=True).as_quat()
    local[BONE_INDEX["RightUpperArm"]] = Rotation.from_euler("z", 75, degrees=True).as_quat()
    local[HEAD] = Rotation.from_euler("xyz", head_deg, degrees=True).as_quat()
    pos, rot = forward_kinematics(local, np.asarray(root, dtype=np.float64))
    return BodyFrames(pos, rot, local, 1.0)


def test_the_face_fit_finds_an_exact_heads_rotation_and_joint():
    for head in [(0, 0, 0), (15, 0, 0), (0, 35, 0), (0, 0, -20), (-10, 25, 8)]:
        truth = _still(head)
        person = _person_for(_body_pose(truth), CAM, None)
        px = person.pixels(CAM.width, CAM.height)[list(FACE_LANDMARKS)]
        world = np.asarray(person.world, dtype=np.float64)
        rel = world[list(FACE_LANDMARKS), 2] - world[[L.LEFT_EAR, L.RIGHT_EAR], 2].mean()
        depth = -truth.positions[HEAD, 2]
        rotation, joint = face_pose(px, rel, np.ones(len(FACE_LANDMARKS)), depth, CAM, 1.0)
        want = Rotation.from_quat(truth.rotations[HEAD]).as_matrix()
        # exact up to the landmarks' float32 rounding
        assert np.degrees(Rotation.from_matrix(rotation.T @ want).magnitude()) < 1e-3, head
        np.testing.assert_allclose(joint, truth.positions[HEAD], atol=1e-5)
    assert face_pose(px, rel, np.zeros(len(FACE_LANDMARKS)), depth, CAM, 1.0) is None  # nothing visible


#: Per-landmark image noise (pixels, each axis) of BlazePose on a still performer with sensor
#: noise (``arpose demo --motion idle --noise 6``, from its second differences): the nose and
#: mouth jitter most, the ears and shoulders least. Other landmarks: 0.35.
STILL_NOISE_PX = np.full(33, 0.35)
STILL_NOISE_PX[: int(L.RIGHT_SHOULDER) + 1] = [
    0.47,
    0.28,
    0.27,
    0.25,
    0.3,
    0.29,
    0.27,
    0.2,
    0.21,
    0.41,
    0.42,
    0.23,
    0.22,
]
#: Its world landmarks move together (6 mm a frame, the same for every face point) more than apart.
STILL_NOISE_WORLD_M = (0.006, 0.001)


def _noisy_people(truth: BodyFrames, frames: int, scale: float = 1.0, seed: int = 0):
    """``frames`` people standing as ``truth`` with Gaussian noise of ``scale`` times
    :data:`STILL_NOISE_PX` on their image landmarks and :data:`STILL_NOISE_WORLD_M` (common,
    independent) on their world landmarks, retargeted by the stage."""
    rng = np.random.default_rng(seed)
    exact = _person_for(_body_pose(truth), CAM, None).with_(body=None)
    stage = RetargetStage(camera=CAM)
    common, own = STILL_NOISE_WORLD_M
    out = []
    for k in range(frames):
        lm = exact.landmarks.copy()
        lm[:, :2] += scale * rng.normal(size=(33, 2)) * STILL_NOISE_PX[:, None] / (CAM.width, CAM.height)
        world = exact.world + scale * (rng.normal(scale=common, size=3) + rng.normal(scale=own, size=(33, 3)))
        noisy = exact.with_(landmarks=lm.astype(np.float32), world=world.astype(np.float32))
        pf = PoseFrame(Frame(np.zeros((CAM.height, CAM.width, 3), np.uint8), k / FPS, k), (noisy,))
        out.append(stage.process(pf).people[0])
    return out


def _crown_px(frames: BodyFrames, part) -> np.ndarray:
    return project_world(part_pose(frames, part)[:3, 3][None], CAM)[0][0]


def test_a_still_crown_under_landmark_noise_is_steadier_than_one_pinned_to_the_eyes():
    part = prop_part("crown")
    truth = _still()
    true = np.tile(_crown_px(truth, part), (90, 1))
    people = _noisy_people(truth, 90, scale=2.0)
    anchors = PropAnchors()
    ours = np.array([_crown_px(prop_frames(p, CAM, k / FPS, anchors, (HEAD,)), part) for k, p in enumerate(people)])
    before = np.array([_crown_px(BodyFrames.from_person(p, CAM), part) for p in people])  # the body's chain
    naive = naive_anchor_px(np.array([p.pixels(CAM.width, CAM.height) for p in people]))
    # a still truth has no jitter: all of the naive crown's jitter is excess
    assert jitter_px(true) == 0.0
    assert jitter_cut(jitter_px(ours), jitter_px(naive), 0.0) >= 60.0
    assert wobble_px(ours, true) <= wobble_px(naive, true)
    assert jitter_px(before) > jitter_px(naive)  # what the chain through the root fit gave
    # and it sits where the truth's crown is (the face fit is exact on this face)
    assert np.linalg.norm(ours[30:].mean(axis=0) - true[0]) < 1.0


def test_without_smoothing_every_still_stands_on_its_own():
    part = prop_part("crown")
    people = _noisy_people(_still(), 3)
    anchors = PropAnchors(AnchorConfig(smooth=False))
    for k, p in enumerate(people):
        got = prop_frames(p, CAM, float(k), anchors, (HEAD,))
        fresh = prop_frames(p, CAM, float(k), PropAnchors(AnchorConfig(smooth=False)), (HEAD,))
        np.testing.assert_allclose(got.positions, fresh.positions, atol=1e-12)
        # a single frame's calibration turns the face fit onto the body's own head rotation
        body = BodyFrames.from_person(p, CAM)
        q, want = got.rotations[HEAD], body.rotations[HEAD]
        assert min(np.abs(q - want).max(), np.abs(q + want).max()) < 1e-9
        # other bones are the body's
        np.testing.assert_allclose(np.delete(got.positions, HEAD, 0), np.delete(body.positions, HEAD, 0))
        assert np.isfinite(_crown_px(got, part)).all()


def test_losing_the_shoulders_does_not_move_the_crown():
    people = _noisy_people(_still(), 40, scale=0.0)
    anchors = PropAnchors()
    px = []
    for k, p in enumerate(people):
        if k >= 20:  # the shoulders drop out of the reference: ears only
            lm = p.landmarks.copy()
            lm[[L.LEFT_SHOULDER, L.RIGHT_SHOULDER], VISIBILITY] = 0.2
            p = p.with_(landmarks=lm)
        px.append(project(prop_frames(p, CAM, k / FPS, anchors, (HEAD,)).positions[HEAD], CAM))
    steps = np.linalg.norm(np.diff(np.array(px), axis=0), axis=1)
    assert steps.max() < 0.05


def test_the_renderer_draws_on_the_same_anchored_frames():
    from arpose.render.overlay import PropRenderer
    from arpose.render.props import load_manifest, select_props

    people = _noisy_people(_still(), 10)
    anchors = PropAnchors()
    with PropRenderer(CAM, select_props("crown", load_manifest())) as renderer:
        assert renderer.anchored_bones == (HEAD,)
        for k, p in enumerate(people):
            got = renderer.frames_for(p, CAM, k / FPS)
            want = prop_frames(p, CAM, k / FPS, anchors, (HEAD,))
            np.testing.assert_allclose(got.positions, want.positions, atol=1e-12)
            np.testing.assert_allclose(got.rotations, want.rotations, atol=1e-12)


@pytest.mark.parametrize("bone", ["RightHand", "UpperChest"])
def test_other_bones_are_anchored_at_their_landmarks_pixels(bone):
    b = BONE_INDEX[bone]
    truth = _still()
    people = _noisy_people(truth, 1, scale=0.0)
    got = prop_frames(people[0], CAM, 0.0, PropAnchors(), (b,))
    want = project_world(truth.positions[b][None], CAM)[0][0]
    np.testing.assert_allclose(project(got.positions[b], CAM), want, atol=1e-6)
