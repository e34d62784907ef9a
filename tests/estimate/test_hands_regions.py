"""Hand and face regions and handedness as pure functions (no models): known geometry."""

from __future__ import annotations

import math

import numpy as np
import pytest

from arpose.errors import ConfigError
from arpose.estimate.face import FACE_BOX_SCALE, face_box_from_pose
from arpose.estimate.hands import HandsConfig, hand_roi_from_landmarks, hand_roi_from_pose, subject_side
from arpose.landmarks import HandLandmark as HL
from arpose.landmarks import PoseLandmark as L
from arpose.landmarks import Side, empty_image_landmarks

SIZE = (640, 480)


def test_subject_side_from_the_models_handedness():
    # a geometric right hand in a camera image is the subject's right; in a mirrored one, the left
    assert subject_side(0.9) is Side.RIGHT
    assert subject_side(0.1) is Side.LEFT
    assert subject_side(0.9, mirrored=True) is Side.LEFT
    assert subject_side(0.1, mirrored=True) is Side.RIGHT


def _pose_hand(wrist, index, pinky, side=Side.LEFT):
    pose = empty_image_landmarks()
    w, i, p = (
        (L.LEFT_WRIST, L.LEFT_INDEX, L.LEFT_PINKY)
        if side is Side.LEFT
        else (L.RIGHT_WRIST, L.RIGHT_INDEX, L.RIGHT_PINKY)
    )
    for lm, xy in ((w, wrist), (i, index), (p, pinky)):
        pose[lm, :2] = np.array(xy) / SIZE
        pose[lm, 3] = 0.9
    return pose


def test_hand_region_from_the_pose_points_the_hand_up():
    # hand pointing straight up in the image: no rotation; centre at (2 index + pinky) / 3
    pose = _pose_hand((320, 300), (330, 240), (300, 240))
    roi = hand_roi_from_pose(pose, Side.LEFT, SIZE)
    middle = np.array([(2 * 330 + 300) / 3, 240.0])
    d = np.hypot(*(middle - (320, 300)))
    assert roi.rotation == pytest.approx(0.0, abs=1e-6)
    assert roi.width * SIZE[0] == pytest.approx(2.7 * 2 * d, rel=1e-5)
    assert roi.height * SIZE[1] == pytest.approx(2.7 * 2 * d, rel=1e-5)
    # shifted by 0.1 of the (unscaled) size towards the wrist (image y down = +shift_y * -1)
    assert roi.y_center * SIZE[1] == pytest.approx(240.0 - 0.1 * 2 * d, rel=1e-5)
    # pointing to the image's right: a quarter turn
    pose = _pose_hand((300, 240), (360, 250), (360, 220), side=Side.RIGHT)
    assert hand_roi_from_pose(pose, Side.RIGHT, SIZE).rotation == pytest.approx(math.pi / 2, abs=0.2)


def test_hand_region_from_landmarks_is_upright_for_an_upright_hand():
    lm = np.zeros((21, 3))
    lm[HL.WRIST] = (330, 400, 0)
    for k, x in zip((HL.INDEX_MCP, HL.MIDDLE_MCP, HL.RING_MCP, HL.PINKY_MCP), (350, 330, 310, 290)):
        lm[k] = (x, 300, 0)
        lm[k + 1] = (x, 260, 0)
    lm[HL.THUMB_CMC], lm[HL.THUMB_MCP], lm[HL.THUMB_IP], lm[HL.THUMB_TIP] = (
        (350, 380, 0),
        (370, 350, 0),
        (380, 330, 0),
        (390, 310, 0),
    )
    lm[:, :2] /= SIZE
    roi = hand_roi_from_landmarks(lm, SIZE)
    assert roi.rotation == pytest.approx(0.0, abs=1e-6)
    assert roi.width == pytest.approx(roi.height * SIZE[1] / SIZE[0], rel=1e-6)  # square in pixels
    turned = lm.copy()
    turned[:, 0], turned[:, 1] = (lm[:, 1] * SIZE[1]) / SIZE[0], (SIZE[0] - lm[:, 0] * SIZE[0]) / SIZE[1]
    # a quarter turn of the hand gives a quarter turn of the region (whatever the sign convention)
    assert abs(hand_roi_from_landmarks(turned, SIZE).rotation) == pytest.approx(math.pi / 2, abs=1e-6)


def test_face_box_from_the_pose():
    pose = empty_image_landmarks()
    pts = {
        L.NOSE: (320, 200),
        L.LEFT_EYE: (340, 185),
        L.RIGHT_EYE: (300, 185),
        L.LEFT_EAR: (360, 195),
        L.RIGHT_EAR: (280, 195),
    }
    for lm, xy in pts.items():
        pose[lm, :2] = np.array(xy) / SIZE
        pose[lm, 3] = 0.99
    x0, y0, side = face_box_from_pose(pose, SIZE)
    assert side == pytest.approx(FACE_BOX_SCALE * 80.0)
    assert (x0 + side / 2, y0 + side / 2) == pytest.approx((320.0, 192.5))
    pose[[L.NOSE, L.LEFT_EYE, L.RIGHT_EYE], 3] = 0.1  # only the ears seen: not enough
    assert face_box_from_pose(pose, SIZE) is None
    assert face_box_from_pose(empty_image_landmarks(), SIZE) is None


@pytest.mark.parametrize(
    "kw", [dict(min_presence=1.5), dict(search_interval=-1.0), dict(wrist_gate=0.0), dict(threads=0)]
)
def test_hands_config_rejects_bad_values(kw):
    with pytest.raises(ConfigError):
        HandsConfig(**kw)
