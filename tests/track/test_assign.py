"""Pure matching functions: analytic boxes, distances and assignments."""

import numpy as np
import pytest

from arpose.track import assign, box_of, cost_matrix, iou, landmark_distance, visible_points


def test_iou_analytic():
    a = np.array([0.0, 0.0, 2.0, 2.0])
    assert iou(a, a) == pytest.approx(1.0)
    assert iou(a, np.array([1.0, 0.0, 3.0, 2.0])) == pytest.approx(2 / 6)
    assert iou(a, np.array([5.0, 5.0, 6.0, 6.0])) == 0.0
    assert iou(a, np.full(4, np.nan)) == 0.0


def test_visible_points_are_pixels_with_nan_for_hidden():
    lm = np.zeros((33, 5), np.float32)
    lm[:, 0], lm[:, 1], lm[:, 3] = 0.5, 0.25, 0.9
    lm[3, 3] = 0.2
    lm[4, 3] = np.nan
    pts = visible_points(lm, (640, 480), 0.5)
    assert pts[0].tolist() == [320.0, 120.0]
    assert np.isnan(pts[3]).all() and np.isnan(pts[4]).all()
    assert lm[3, 0] == 0.5  # input untouched


def test_box_of_ignores_nan_rows():
    pts = np.array([[1.0, 2.0], [np.nan, np.nan], [3.0, -1.0]])
    assert box_of(pts).tolist() == [1.0, -1.0, 3.0, 2.0]
    assert np.isnan(box_of(np.full((3, 2), np.nan))).all()


def test_landmark_distance_is_scale_free():
    rng = np.random.default_rng(0)
    a = rng.uniform(0, 100, (33, 2))
    shift = np.array([3.0, 4.0])  # 5 px
    d = landmark_distance(a, a + shift)
    box = box_of(a)
    assert d == pytest.approx(5.0 / np.hypot(*(box[2:] - box[:2])))
    assert landmark_distance(a * 10, a * 10 + shift * 10) == pytest.approx(d)
    few = a.copy()
    few[3:] = np.nan
    assert landmark_distance(a, few) == np.inf


def test_cost_matrix_prefers_the_same_person_and_forbids_strangers():
    rng = np.random.default_rng(1)
    p = rng.uniform(0, 100, (33, 2))
    q = p + [400.0, 0.0]
    c = cost_matrix([p, q], [q + 1.0, p + 1.0])
    assert c[0, 1] < 0.2 and c[1, 0] < 0.2
    assert c[0, 0] > 2.0 and c[1, 1] > 2.0
    hidden = np.full((33, 2), np.nan)
    assert cost_matrix([p], [hidden])[0, 0] == np.inf


def test_assign_is_the_global_optimum_not_greedy():
    # greedy would take (0, 0) = 1 first and then be left with (1, 1) = 10: total 11;
    # the optimum is (0, 1) + (1, 0) = 2 + 2 = 4
    cost = np.array([[1.0, 2.0], [2.0, 10.0]])
    pairs, rows, cols = assign(cost, max_cost=20.0)
    assert pairs == [(0, 1), (1, 0)] and rows == [] and cols == []


def test_assign_gates_by_max_cost_and_inf():
    cost = np.array([[0.1, np.inf], [np.inf, 5.0], [np.inf, np.inf]])
    pairs, rows, cols = assign(cost, max_cost=1.0)
    assert pairs == [(0, 0)] and rows == [1, 2] and cols == [1]


@pytest.mark.parametrize("shape", [(0, 3), (2, 0), (0, 0)])
def test_assign_empty(shape):
    pairs, rows, cols = assign(np.zeros(shape), 1.0)
    assert pairs == [] and rows == list(range(shape[0])) and cols == list(range(shape[1]))
