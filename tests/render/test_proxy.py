"""The depth-only body proxy: capsules fitted to the skeleton (known answers)."""

from __future__ import annotations

import numpy as np

from arpose.render.frames import BodyFrames
from arpose.render.overlay import demo_body
from arpose.render.proxy import CAPSULES, HEAD_RADII, proxy_shapes, rotations_z_to
from arpose.skeleton import BONE_INDEX


def test_rotations_take_z_to_each_direction_including_minus_z():
    rng = np.random.default_rng(3)
    d = np.concatenate([rng.normal(size=(20, 3)), [[0, 0, 1.0], [0, 0, -1.0], [1e-12, 0, -1.0]]])
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    r = rotations_z_to(d)
    np.testing.assert_allclose(r @ [0, 0, 1.0], d, atol=1e-6)
    np.testing.assert_allclose(r @ np.transpose(r, (0, 2, 1)), np.broadcast_to(np.eye(3), r.shape), atol=1e-6)
    np.testing.assert_allclose(np.linalg.det(r), 1.0, atol=1e-6)


def test_capsules_join_the_joints_and_scale_with_the_body():
    frames = demo_body(0.4)
    for scale in (1.0, 1.3):
        f = BodyFrames(frames.positions, frames.rotations, frames.local_rotations, scale)
        shapes = proxy_shapes(f, inflate=1.2)
        cyl = shapes["cylinder"]
        assert len(cyl) == len(CAPSULES)
        k = [i for i, c in enumerate(CAPSULES) if (c.a, c.b) == ("LeftUpperArm", "LeftLowerArm")][0]
        ends = cyl[k, :3, :3] @ np.array([[0, 0, -0.5], [0, 0, 0.5]]).T + cyl[k, :3, 3:4]
        np.testing.assert_allclose(
            ends.T, f.positions[[BONE_INDEX["LeftUpperArm"], BONE_INDEX["LeftLowerArm"]]], atol=1e-9
        )
        radius = np.linalg.norm(cyl[k, :3, 0])
        assert radius == np.float64(CAPSULES[k].radius * scale * 1.2)
        head = shapes["sphere"][-1]
        np.testing.assert_allclose(np.linalg.norm(head[:3, :3], axis=0), np.array(HEAD_RADII) * scale, atol=1e-12)


def test_unknown_bones_drop_their_capsules():
    frames = demo_body()
    pos = frames.positions.copy()
    pos[BONE_INDEX["LeftLowerArm"]] = np.nan
    shapes = proxy_shapes(BodyFrames(pos, frames.rotations, frames.local_rotations, 1.0))
    used = [c for c in CAPSULES if "LeftLowerArm" not in (c.a, c.b)]
    assert len(shapes["cylinder"]) == len(used)
    assert np.isfinite(shapes["sphere"]).all()
