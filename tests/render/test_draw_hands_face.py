"""The skeleton drawing's hands and face: known points change exactly the expected pixels, the
flags turn them off, NaN (unseen) draws nothing."""

from __future__ import annotations

import numpy as np

from arpose.landmarks import HandLandmark as H
from arpose.landmarks import Side, empty_face, empty_hands, empty_image_landmarks, empty_world_landmarks
from arpose.render.draw import (
    FACE_OUTLINES,
    HAND_COLORS,
    IRIS_OUTLINES,
    DrawConfig,
    draw_face,
    draw_hands,
    draw_skeleton,
)
from arpose.types import Person

W, H_ = 640, 480


def _hand_with(points: dict[int, tuple[float, float]], side: Side = Side.RIGHT, conf: float = 0.9) -> np.ndarray:
    hands = empty_hands()
    for i, (x, y) in points.items():
        hands[side, i] = (x / W, y / H_, 0.0, conf)
    return hands


def test_a_hand_segment_draws_exactly_the_line_between_its_two_points():
    # the wrist and the thumb's CMC joint are connected; every other point unseen
    hands = _hand_with({H.WRIST: (100, 200), H.THUMB_CMC: (300, 200)})
    image = np.zeros((H_, W, 3), np.uint8)
    draw_hands(image, hands, DrawConfig(hand_point_radius=0))
    changed = np.argwhere(image.any(axis=2))
    assert len(changed)
    assert changed[:, 0].min() >= 199 and changed[:, 0].max() <= 201  # a 1 px anti-aliased line on row 200
    assert changed[:, 1].min() >= 99 and changed[:, 1].max() <= 301  # from one point to the other (+ its AA edge)
    colour = np.array(HAND_COLORS[Side.RIGHT])
    row = image[200, 101:300].astype(float)
    assert (row >= 0.85 * colour - 1).all() and (row <= colour).all()  # the segment in the right hand's colour
    assert (image[[199, 201], 101:300] <= 0.3 * colour + 1).all()  # only its faint anti-aliased edge beside it
    # with the points: discs coloured by confidence at both ends, nothing anywhere else
    dotted = np.zeros_like(image)
    draw_hands(dotted, hands, DrawConfig(hand_point_radius=3))
    extra = np.argwhere(dotted.any(axis=2) & ~image.any(axis=2))
    near_end = np.minimum(np.hypot(*(extra - (200, 100)).T), np.hypot(*(extra - (200, 300)).T))
    assert len(extra) and near_end.max() <= 4.5
    assert tuple(dotted[200, 100]) == (0, 255, 51)  # confidence 0.9: green, a little red (visibility_color)


def test_a_two_hand_person_draws_both_in_their_colours_and_the_flag_turns_them_off():
    left = _hand_with({H.INDEX_MCP: (50, 50), H.INDEX_PIP: (50, 150)}, Side.LEFT)
    right = _hand_with({H.INDEX_MCP: (400, 50), H.INDEX_PIP: (400, 150)}, Side.RIGHT)
    hands = np.where(np.isnan(left), right, left)
    person = Person(0, empty_image_landmarks(), empty_world_landmarks(), 0.0, hands=hands)
    image = np.zeros((H_, W, 3), np.uint8)
    draw_skeleton(image, person, DrawConfig(hand_point_radius=0))
    for x, side in ((50, Side.LEFT), (400, Side.RIGHT)):
        assert (image[100, x].astype(float) >= 0.85 * np.array(HAND_COLORS[side]) - 1).all()
    off = np.zeros_like(image)
    draw_skeleton(off, person, DrawConfig(hands=False))
    assert not off.any()  # no body seen, hands off: nothing drawn
    unseen = np.zeros_like(image)
    draw_skeleton(unseen, person.with_(hands=empty_hands()), DrawConfig())
    assert not unseen.any()


def test_the_face_outline_touches_only_its_subset_of_the_mesh():
    rng = np.random.default_rng(0)
    face = empty_face()
    face[:, 0] = rng.uniform(0.2, 0.8, len(face))
    face[:, 1] = rng.uniform(0.2, 0.8, len(face))
    face[:, 3] = 1.0
    used = sorted({i for line in FACE_OUTLINES + IRIS_OUTLINES for i in line})
    assert 100 < len(used) < 200  # a light subset of the 478 points
    image = np.zeros((H_, W, 3), np.uint8)
    draw_face(image, face, DrawConfig())
    # moving a point the outline does not use changes nothing; moving one it uses does
    unused = next(i for i in range(468) if i not in used)
    moved = face.copy()
    moved[unused, :2] = (0.05, 0.05)
    again = np.zeros_like(image)
    draw_face(again, moved, DrawConfig())
    np.testing.assert_array_equal(again, image)
    moved[used[0], :2] = (0.05, 0.05)
    draw_face(again := np.zeros_like(image), moved, DrawConfig())
    assert again[int(0.05 * H_) - 2 : int(0.05 * H_) + 3, int(0.05 * W) - 2 : int(0.05 * W) + 3].any()
    blank = np.zeros_like(image)
    draw_face(blank, empty_face(), DrawConfig())
    assert not blank.any()
    person = Person(0, empty_image_landmarks(), empty_world_landmarks(), 0.0, face=face)
    off = np.zeros_like(image)
    draw_skeleton(off, person, DrawConfig(face=False))
    assert not off.any()
