"""Known answers of the face solver on synthetic meshes: every named point placed in a face frame
(inter-ocular distance 1) with chosen eye openings, lip gap, mouth width, corner lift, brow
height and gaze, then turned, scaled and moved into an image."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from arpose.landmarks import IRIS_POINTS, NUM_FACE_LANDMARKS, Side
from arpose.landmarks import FaceLandmark as F
from arpose.retarget.face import (
    DEFAULT_NEUTRAL,
    VOWEL_SHAPES,
    Expression,
    ExpressionConfig,
    FaceCalibrator,
    face_points,
    head_rotation,
    solve_face,
)

SIZE = (1280, 720)
CFG = ExpressionConfig()


def synthetic_face(
    ear=(0.34, 0.34),
    gap=0.0,
    width=0.8,
    lift=0.0,
    brow=0.32,
    gaze=(0.0, 0.2),
    turn: Rotation | None = None,
    scale_px=120.0,
    centre_px=(640.0, 330.0),
) -> np.ndarray:
    """``(478, 4)`` normalised face (x, y, z, visibility) with the given features (IOD units)."""
    q = np.zeros((NUM_FACE_LANDMARKS, 3))
    q[:] = (0.0, -0.3, 0.4)  # unnamed points sit on the nose
    eye_w = 0.44
    for side, sx in ((Side.LEFT, 1.0), (Side.RIGHT, -1.0)):
        c = np.array([0.5 * sx, 0.0, 0.0])
        names = "LEFT" if side is Side.LEFT else "RIGHT"
        q[F[f"{names}_EYE_OUTER"]] = c + (sx * eye_w / 2, 0.0, 0.0)
        q[F[f"{names}_EYE_INNER"]] = c - (sx * eye_w / 2, 0.0, 0.0)
        g = ear[side] * eye_w
        for suffix, dx in (("", 0.0), ("_OUTER", 0.1), ("_INNER", -0.1)):
            q[F[f"{names}_EYE_UPPER{suffix}"]] = c + (sx * dx, g / 2, 0.0)
            q[F[f"{names}_EYE_LOWER{suffix}"]] = c + (sx * dx, -g / 2, 0.0)
        for part, dx in (("INNER", -0.15), ("MID", 0.0), ("OUTER", 0.2)):
            q[F[f"{names}_BROW_{part}"]] = c + (sx * dx, brow, 0.02)
        iris = c + (gaze[0] * eye_w / 2, gaze[1] * eye_w / 2, 0.02)
        idx = IRIS_POINTS[side]
        q[idx[0]] = iris
        for k, a in enumerate(np.linspace(0, 2 * np.pi, 4, endpoint=False)):
            q[idx[1 + k]] = iris + 0.08 * np.array([math.cos(a), math.sin(a), 0.0])
    mouth = np.array([0.0, -1.1, 0.1])
    q[F.MOUTH_LEFT] = mouth + (width / 2, lift, 0.0)
    q[F.MOUTH_RIGHT] = mouth + (-width / 2, lift, 0.0)
    q[F.UPPER_LIP_INNER] = mouth + (0.0, gap / 2, 0.0)
    q[F.LOWER_LIP_INNER] = mouth + (0.0, -gap / 2, 0.0)
    q[F.UPPER_LIP_OUTER] = mouth + (0.0, gap / 2 + 0.1, 0.0)
    q[F.LOWER_LIP_OUTER] = mouth + (0.0, -gap / 2 - 0.1, 0.0)
    q[F.FOREHEAD] = (0.0, 1.0, 0.0)
    q[F.CHIN] = (0.0, -1.8, 0.0)
    q[F.LEFT_CHEEK] = (1.1, -0.3, -0.3)
    q[F.RIGHT_CHEEK] = (-1.1, -0.3, -0.3)
    q[F.NOSE_TIP] = (0.0, -0.5, 0.5)
    q[F.NOSE_BRIDGE] = (0.0, 0.0, 0.2)
    if turn is not None:
        q = turn.apply(q)
    rig = q * scale_px
    img = rig * [1.0, -1.0, -1.0] + [centre_px[0], centre_px[1], 0.0]  # rig axes -> image axes
    out = np.empty((NUM_FACE_LANDMARKS, 4), dtype=np.float32)
    out[:, :3] = img / [SIZE[0], SIZE[1], SIZE[0]]
    out[:, 3] = 1.0
    return out


def weights(**kw) -> np.ndarray:
    fp = solve_face(synthetic_face(**kw), SIZE)
    assert fp is not None
    return fp.expressions


def test_neutral_face_is_all_zero():
    w = weights()
    np.testing.assert_allclose(w, 0.0, atol=1e-4)
    fp = solve_face(synthetic_face(), SIZE)
    np.testing.assert_allclose(np.abs(fp.head_rotation[3]), 1.0, atol=1e-9)
    np.testing.assert_allclose(np.abs(fp.eye_rotations[:, 3]), 1.0, atol=1e-9)
    assert fp.jaw == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize(("fraction", "blink"), [(1.0, 0.0), (0.35, 1.0), (1.0 - 0.65 / 2, 0.5), (0.1, 1.0)])
def test_blink_from_known_eye_openings(fraction, blink):
    w = weights(ear=(0.34 * fraction, 0.34))
    assert w[Expression.BLINK_LEFT] == pytest.approx(blink, abs=1e-4)
    assert w[Expression.BLINK_RIGHT] == pytest.approx(0.0, abs=1e-4)
    w = weights(ear=(0.34, 0.34 * fraction))
    assert w[Expression.BLINK_RIGHT] == pytest.approx(blink, abs=1e-4)


@pytest.mark.parametrize(("gap", "open_"), [(0.0, 0.0), (0.275, 0.5), (0.55, 1.0), (0.9, 1.0)])
def test_mouth_open_and_jaw_from_known_lip_gaps(gap, open_):
    fp = solve_face(synthetic_face(gap=gap), SIZE)
    assert fp.expression(Expression.MOUTH_OPEN) == pytest.approx(open_, abs=1e-4)
    assert fp.jaw == pytest.approx(open_, abs=1e-4)


def test_weights_do_not_change_with_head_pose_distance_or_place():
    kw = dict(ear=(0.2, 0.3), gap=0.3, width=0.86, lift=0.03, brow=0.37, gaze=(0.3, 0.1))
    base = weights(**kw)
    turn = Rotation.from_euler("yxz", [35.0, -15.0, 20.0], degrees=True)
    moved = weights(turn=turn, scale_px=60.0, centre_px=(300.0, 500.0), **kw)
    np.testing.assert_allclose(moved, base, atol=1e-4)
    fp = solve_face(synthetic_face(turn=turn, **kw), SIZE)
    np.testing.assert_allclose(Rotation.from_quat(fp.head_rotation).as_matrix(), turn.as_matrix(), atol=1e-9)
    assert head_rotation(face_points(synthetic_face(turn=turn), SIZE)) is not None


@pytest.mark.parametrize("vowel", list(VOWEL_SHAPES))
def test_each_vowel_shape_wins_at_its_own_mouth(vowel):
    openness, width = VOWEL_SHAPES[vowel]
    w = weights(gap=openness * CFG.open_gap, width=0.8 * (1.0 + width * CFG.vowel_width))
    vowels = {v: w[v] for v in VOWEL_SHAPES}
    assert max(vowels, key=vowels.get) is vowel
    assert w[vowel] > 0.5


def test_closed_mouth_narrower_or_wider_than_neutral_is_no_vowel():
    for width in (0.68, 0.92):
        w = weights(width=width)
        assert max(w[v] for v in VOWEL_SHAPES) == pytest.approx(0.0, abs=1e-9)


def test_brows_and_smile():
    assert weights(brow=0.32 + CFG.brow_up)[Expression.BROWS_UP] == pytest.approx(1.0, abs=1e-4)
    assert weights(brow=0.32 + CFG.brow_up / 2)[Expression.BROWS_UP] == pytest.approx(0.5, abs=1e-4)
    w = weights(brow=0.32 - CFG.brow_down)
    assert w[Expression.BROWS_DOWN] == pytest.approx(1.0, abs=1e-4) and w[Expression.BROWS_UP] == 0.0
    assert weights(lift=CFG.smile_lift)[Expression.SMILE] == pytest.approx(1.0, abs=1e-4)
    assert weights(lift=-0.05)[Expression.SMILE] == 0.0


def test_eye_bones_follow_the_irises():
    # half an eye half-width towards the subject's left: yaw 0.5 * eye_yaw_deg about +Y
    fp = solve_face(synthetic_face(gaze=(0.5, 0.2)), SIZE)
    yaw, pitch, roll = Rotation.from_quat(fp.eye_rotations[0]).as_euler("YXZ", degrees=True)
    assert yaw == pytest.approx(0.5 * CFG.eye_yaw_deg, abs=1e-4) and abs(pitch) < 1e-4
    fp = solve_face(synthetic_face(gaze=(0.0, 0.6)), SIZE)  # looking up: the forward axis tilts to +Y
    fwd = Rotation.from_quat(fp.eye_rotations[1]).apply([0.0, 0.0, 1.0])
    assert math.degrees(math.asin(fwd[1])) == pytest.approx(0.4 * CFG.eye_pitch_deg, abs=1e-4)
    fp = solve_face(synthetic_face(gaze=(5.0, 0.2)), SIZE)  # beyond the limit
    assert Rotation.from_quat(fp.eye_rotations[0]).magnitude() == pytest.approx(math.radians(CFG.eye_limit_deg))


def test_calibration_takes_the_persons_neutral_face():
    cal = FaceCalibrator(seconds=2.0)
    narrow = synthetic_face(ear=(0.24, 0.24), width=0.7)
    assert solve_face(narrow, SIZE).expression(Expression.BLINK_LEFT) > 0.4  # population neutral
    for i in range(70):
        feats = solve_face(narrow if i % 10 else synthetic_face(ear=(0.05, 0.05)), SIZE).features  # with blinks
        neutral = cal.update(feats, i / 30.0)
    assert cal.calibrated and neutral.ear == pytest.approx((0.24, 0.24), abs=1e-4)
    fp = solve_face(narrow, SIZE, neutral, calibrated=True)
    np.testing.assert_allclose(fp.expressions, 0.0, atol=1e-4)
    cal.restart()
    assert not cal.calibrated and cal.update(None, 10.0) == neutral
    assert DEFAULT_NEUTRAL.ear == (0.34, 0.34)


def test_a_tiny_face_gives_a_head_but_no_expressions():
    turn = Rotation.from_euler("y", 20.0, degrees=True)
    fp = solve_face(synthetic_face(ear=(0.05, 0.05), turn=turn, scale_px=12.0), SIZE)  # 12 px between the eyes
    assert np.isnan(fp.expressions).all() and np.isnan(fp.jaw)
    np.testing.assert_allclose(np.abs(fp.eye_rotations[:, 3]), 1.0)
    np.testing.assert_allclose(Rotation.from_quat(fp.head_rotation).as_matrix(), turn.as_matrix(), atol=1e-3)
    assert fp.features.iod_px == pytest.approx(12.0, rel=1e-3)
    assert solve_face(synthetic_face(ear=(0.05, 0.05), scale_px=25.0), SIZE).expression(Expression.BLINK_LEFT) == 1.0


def test_no_face_is_none():
    assert solve_face(np.full((NUM_FACE_LANDMARKS, 4), np.nan, np.float32), SIZE) is None
