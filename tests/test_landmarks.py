import numpy as np

from arpose.landmarks import CONNECTIONS, MIRROR_PERMUTATION, NAMES, PoseLandmark, torso_size


def test_names_follow_blazepose_order():
    assert len(NAMES) == 33
    assert NAMES[0] == "nose" and NAMES[15] == "left_wrist" and NAMES[32] == "right_foot_index"
    # Odd indices from 11 on are the subject's left.
    for lm in PoseLandmark:
        if lm >= 11:
            assert lm.name.startswith("LEFT") == (lm % 2 == 1), lm


def test_mirror_permutation_swaps_sides_and_is_an_involution():
    assert MIRROR_PERMUTATION[PoseLandmark.LEFT_WRIST] == PoseLandmark.RIGHT_WRIST
    assert MIRROR_PERMUTATION[PoseLandmark.MOUTH_LEFT] == PoseLandmark.MOUTH_RIGHT
    assert MIRROR_PERMUTATION[PoseLandmark.NOSE] == PoseLandmark.NOSE
    assert np.array_equal(MIRROR_PERMUTATION[MIRROR_PERMUTATION], np.arange(33))


def test_connections_are_mediapipes_pose_connections():
    """The drawn skeleton is MediaPipe's own graph: the same 35 unordered pairs, none repeated."""
    import mediapipe as mp

    ours = [frozenset(map(int, c)) for c in CONNECTIONS]
    theirs = {frozenset(map(int, c)) for c in mp.solutions.pose.POSE_CONNECTIONS}
    assert all(isinstance(a, PoseLandmark) and isinstance(b, PoseLandmark) for a, b in CONNECTIONS)
    assert len(ours) == len(set(ours)) == 35 and all(len(c) == 2 for c in ours)
    assert set(ours) == theirs


def test_torso_size_of_a_unit_square_torso():
    p = np.zeros((33, 3))
    p[PoseLandmark.LEFT_SHOULDER] = (1, 0, 0)
    p[PoseLandmark.RIGHT_SHOULDER] = (0, 0, 0)
    p[PoseLandmark.LEFT_HIP] = (1, 1, 0)
    p[PoseLandmark.RIGHT_HIP] = (0, 1, 0)
    assert np.isclose(torso_size(p), np.sqrt(2))
