import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from arpose.retarget.geometry import (
    angle_between,
    angles_between,
    bases,
    continuous,
    frame_rotation,
    frame_rotations,
    geodesic_degrees,
    matrices_to_quats,
    quat_multiply,
    swing,
    swings,
    units,
)

X, Y, Z = np.eye(3)


def test_swing_takes_a_to_b_without_twist_including_the_180_degree_branch():
    for a, b in ((X, Y), (X, X), (X, -X), (Y, -Y), (np.array([1.0, 2.0, 3.0]), np.array([-1.0, -2.0, -3.0]))):
        r = swing(a, b)
        assert np.allclose(r @ (a / np.linalg.norm(a)), b / np.linalg.norm(b))
        assert np.allclose(r @ r.T, np.eye(3)) and np.linalg.det(r) == pytest.approx(1.0)
    assert np.allclose(swing(X, Y) @ Z, Z)  # the axis is a x b: nothing else turns
    assert swing(np.zeros(3), X) is None and swing(np.full(3, np.nan), X) is None


def test_frame_rotation_maps_the_rest_pair_onto_the_observed_pair():
    r = Rotation.from_euler("zyx", [30, -50, 70], degrees=True).as_matrix()
    g = frame_rotation(X, Z + 0.3 * X, r @ X, r @ (Z + 0.3 * X) + 0.01 * (r @ X))
    assert np.allclose(g, r)
    assert frame_rotation(X, X, Y, Z) is None  # degenerate rest pair
    assert frame_rotation(X, Z, Y, 2 * Y) is None  # degenerate observed pair


def test_quaternion_helpers_agree_with_scipy_and_handle_nan():
    a, b = Rotation.random(4, random_state=0), Rotation.random(4, random_state=1)
    assert np.allclose(quat_multiply(a.as_quat(), b.as_quat()), (a * b).as_quat())
    assert np.allclose(np.abs(np.sum(matrices_to_quats(a.as_matrix()) * a.as_quat(), axis=-1)), 1.0, atol=1e-12)
    assert geodesic_degrees([0, 0, 0, 1.0], Rotation.from_euler("y", 90, degrees=True).as_quat()) == pytest.approx(90)
    assert geodesic_degrees(-a.as_quat(), a.as_quat()).max() < 1e-6  # q and -q are one rotation
    assert np.isnan(geodesic_degrees([np.nan] * 4, [0, 0, 0, 1.0]))
    assert np.isnan(angle_between(np.zeros(3), X)) and angle_between(X, Y) == pytest.approx(90)


def test_continuous_flips_only_rows_pointing_away():
    q = np.array([[0, 0, 0, 1.0], [0, 0, 0, -1.0], [1.0, 0, 0, 0]])
    ref = np.array([[0, 0, 0, 1.0], [0, 0, 0, 1.0], [np.nan] * 4])
    out = continuous(q, ref)
    assert np.array_equal(out, [[0, 0, 0, 1.0], [0, 0, 0, 1.0], [1.0, 0, 0, 0]])
    assert np.array_equal(q[1], [0, 0, 0, -1.0])  # input untouched


def test_matrices_to_quats_equals_scipy_on_every_branch():
    # random rotations take all four branches (largest of m00, m11, m22, trace); plus the
    # 180 degree turns about each axis and the identity, where the branch choice is tight
    m = np.concatenate(
        [
            Rotation.random(2000, random_state=2).as_matrix(),
            np.eye(3)[None],
            np.diag([1.0, -1.0, -1.0])[None],
            np.diag([-1.0, 1.0, -1.0])[None],
            np.diag([-1.0, -1.0, 1.0])[None],
        ]
    )
    q = matrices_to_quats(m.reshape(2, 1002, 3, 3))
    assert q.shape == (2, 1002, 4)
    assert np.abs(q.reshape(-1, 4) - Rotation.from_matrix(m).as_quat()).max() < 1e-14
    assert np.isnan(matrices_to_quats(np.full((3, 3), np.nan))).all()


def test_batched_helpers_give_nan_rows_where_the_single_ones_give_none():
    a = np.array([X, X, X, np.zeros(3), [np.nan, 0.0, 0.0], [1.0, 2.0, 3.0]])
    b = np.array([Y, X, -X, Y, Y, [-1.0, 2.5, 0.3]])
    batch = swings(a, b)
    for k in range(len(a)):
        single = swing(a[k], b[k])
        assert (single is None) == bool(np.isnan(batch[k]).all())
        if single is not None:
            assert np.abs(batch[k] - single).max() < 1e-15
            assert np.allclose(batch[k] @ units(a[k]), units(b[k]))
    assert np.isnan(angles_between(a, b)[[3, 4]]).all()
    assert np.allclose(angles_between(a, b)[:3], [90.0, 0.0, 180.0])
    f = frame_rotations(bases(np.array([X, X]), np.array([Z, X])), np.array([Y, Y]), np.array([X, X]))
    assert np.allclose(f[0], frame_rotation(X, Z, Y, X)) and np.isnan(f[1]).all()
