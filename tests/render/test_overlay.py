"""Prop rendering with pyrender (EGL, headless): placement on a body with a known pose, the
cropped viewport, occlusion by the body proxy and the mask, the avatar, compositing."""

from __future__ import annotations

import numpy as np
import pytest

from arpose.build import OverlayRenderer, skeleton_renderer
from arpose.render.avatar import Avatar, AvatarConfig
from arpose.render.frames import BodyFrames
from arpose.render.overlay import (
    OverlayConfig,
    PropRenderer,
    _body_pose,
    _person_for,
    composite,
    demo_body,
    project_world,
    viewport_for,
)
from arpose.render.props import load_manifest, select_props
from arpose.render.proxy import HEAD_CENTER, HEAD_RADII
from arpose.skeleton import BONE_INDEX
from arpose.types import Camera, Frame, PoseFrame

CAM = Camera.from_fov(640, 480, 60.0)
BG = np.full((480, 640, 3), (255, 0, 255), dtype=np.uint8)  # magenta: no prop is that colour
PROPS = load_manifest()


def _person(t=0.7, distance=2.6, mask=None, body=True):
    p = _person_for(_body_pose(demo_body(t, distance)), CAM, mask)
    return p if body else p.with_(body=None)


def _drawn(image):
    return np.any(image != BG, axis=2)


def _render(names, person, **cfg):
    with PropRenderer(CAM, select_props(names, PROPS), OverlayConfig(**cfg)) as r:
        out = r.render(BG, [person])
        return out, r.stats


def _box(frames: BodyFrames, bone: str, lo, hi):
    """Pixel box of a box given in the bone's frame (metres)."""
    from scipy.spatial.transform import Rotation

    i = BONE_INDEX[bone]
    corners = np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])])
    world = frames.positions[i] + Rotation.from_quat(frames.rotations[i]).apply(corners)
    px, _ = project_world(world, CAM)
    return px.min(axis=0), px.max(axis=0)


@pytest.mark.parametrize("body", [True, False], ids=["retargeted-body", "retargeted-per-frame"])
def test_crown_renders_inside_the_known_head_region(body):
    frames = demo_body(0.7)
    out, stats = _render("crown", _person(body=body))
    ys, xs = np.nonzero(_drawn(out))
    assert xs.size > 300
    lo, hi = _box(frames, "Head", (-0.15, -0.05, -0.15), (0.15, 0.25, 0.15))
    assert lo[0] <= xs.min() and xs.max() <= hi[0] and lo[1] <= ys.min() and ys.max() <= hi[1]
    eyes_y = project_world(frames.positions[[BONE_INDEX["Head"]]] + [[0, 0.035, 0]], CAM)[0][0, 1]
    assert ys.max() < eyes_y  # it sits above the eyes
    head_x = project_world(frames.positions[[BONE_INDEX["Head"]]], CAM)[0][0, 0]
    assert abs(xs.mean() - head_x) < 3.0  # centred on the head
    assert stats.viewport[2] * stats.viewport[3] < 0.05 * 640 * 480  # only a small viewport rendered


def test_shoulders_on_a_person_without_body_render_as_on_the_stages_body():
    from arpose.retarget import RetargetStage
    from arpose.retarget.model_poses import random_model_pose
    from arpose.skeleton import forward_kinematics

    local = random_model_pose(np.random.default_rng(4))
    local[0] = [0.0, 0.0, 0.0, 1.0]  # facing the camera: both pads in view
    pos, rot = forward_kinematics(local, np.array([0.0, -0.05, -2.6]))
    person = _person_for(_body_pose(BodyFrames(pos, rot, local, 1.0)), CAM, None).with_(body=None)
    staged = RetargetStage(camera=CAM).process(PoseFrame(Frame(BG, 0.0, 0), (person,))).people[0]
    assert staged.body is not None
    with PropRenderer(CAM, select_props("shoulders", PROPS)) as r:
        here, there = r.render(BG, [person]), r.render(BG, [staged])
    xs = np.nonzero(_drawn(here))[1]
    hips_x = project_world(pos[[0]], CAM)[0][0, 0]
    assert (xs < hips_x).sum() > 100 and (xs > hips_x).sum() > 100  # a pad on each shoulder
    np.testing.assert_array_equal(here, there)


def test_cropped_viewport_matches_a_full_frame_render():
    person = _person()
    crop, s1 = _render("crown,glasses,sword", person, max_render_px=0)
    full, s2 = _render("crown,glasses,sword", person, crop_viewport=False, max_render_px=0)
    assert s2.viewport == (0, 0, 640, 480) and s1.viewport[2] * s1.viewport[3] < 640 * 480 / 2
    diff = np.abs(crop.astype(int) - full.astype(int)).max(axis=2)
    assert (diff > 40).mean() < 0.0005  # same picture; at most a few edge pixels differ


def test_downscaled_render_lands_in_the_same_place():
    person = _person()
    a, _ = _render("crown,cape", person, max_render_px=0, occlusion=False)
    b, stats = _render("crown,cape", person, max_render_px=8000, occlusion=False)
    assert stats.viewport[2] * stats.viewport[3] > 4 * 8000  # rendered at under half resolution
    ya, xa = np.nonzero(_drawn(a))
    yb, xb = np.nonzero(_drawn(b))
    assert abs(xa.mean() - xb.mean()) < 0.5 and abs(ya.mean() - yb.mean()) < 2.0  # edges blur, no shift
    assert abs(xa.size - xb.size) < 0.1 * xa.size


@pytest.mark.parametrize("max_px", [0, 8000], ids=["full-res", "downscaled"])
def test_cape_behind_the_torso_is_hidden_but_shows_beside_it(max_px):
    frames = demo_body(0.7)
    person = _person()
    hidden, _ = _render("cape", person, max_render_px=max_px)
    whole, _ = _render("cape", person, occlusion=False)
    # the torso's middle: between the flanks, from the chest to the hips
    (x0, y0), (x1, y1) = _box(frames, "Spine", (-0.08, 0.0, 0.0), (0.08, 0.3, 0.0))
    torso = (slice(int(y0) + 2, int(y1) - 2), slice(int(x0) + 2, int(x1) - 2))
    assert _drawn(whole)[torso].mean() > 0.95  # without occlusion the cape covers the torso
    assert _drawn(hidden)[torso].mean() == 0.0  # with it, none of the cape shows there
    assert _drawn(hidden).sum() > 0.15 * _drawn(whole).sum()  # the parts beside the body remain


def test_back_of_the_crown_is_hidden_by_the_head():
    frames = demo_body(0.0)  # head turned 0 degrees: facing the camera
    person = _person(t=0.0)
    hidden, _ = _render("crown", person)
    whole, _ = _render("crown", person, occlusion=False)
    gone = _drawn(whole) & ~_drawn(hidden)
    assert gone.sum() > 30
    # every hidden pixel lies inside the head ellipsoid's outline
    lo, hi = _box(frames, "Head", np.subtract(HEAD_CENTER, HEAD_RADII) * 1.5, np.add(HEAD_CENTER, HEAD_RADII) * 1.5)
    ys, xs = np.nonzero(gone)
    assert lo[0] <= xs.min() and xs.max() <= hi[0] and lo[1] <= ys.min() and ys.max() <= hi[1]
    # the front of the band stays: the crown's lowest row is still drawn
    assert _drawn(hidden)[np.nonzero(_drawn(whole))[0].max()].any()


def test_the_mask_trims_the_proxy():
    nobody = np.zeros((480, 640), dtype=np.float32)
    everyone = np.ones((480, 640), dtype=np.float32)
    whole, _ = _render("cape", _person(), occlusion=False)
    masked_out, _ = _render("cape", _person(mask=nobody))  # the mask says no person: nothing hidden
    masked_in, _ = _render("cape", _person(mask=everyone))
    assert np.array_equal(masked_out, whole)
    assert _drawn(masked_in).sum() < 0.7 * _drawn(whole).sum()


def test_non_occludable_parts_are_never_hidden(tmp_path):
    import json

    import trimesh

    trimesh.creation.box([0.3, 0.3, 0.02]).export(tmp_path / "plate.obj")
    (tmp_path / "m.json").write_text(
        json.dumps(
            {
                "props": {
                    "plate": {
                        "parts": [{"mesh": "plate.obj", "bone": "Chest", "offset": [0, 0, -0.3], "occludable": False}]
                    }
                }
            }
        )
    )
    plate = select_props("plate", load_manifest(tmp_path / "m.json"))
    with PropRenderer(CAM, plate) as r:
        out = r.render(BG, [_person()])
    with PropRenderer(CAM, plate, OverlayConfig(occlusion=False)) as r:
        ref = r.render(BG, [_person()])
    assert _drawn(out).sum() > 1000 and np.array_equal(out, ref)


def test_no_props_output_equals_the_skeleton_only_output():
    person = _person()
    pf = PoseFrame(Frame(BG.copy(), 0.0, 0), (person,))
    with PropRenderer(CAM, []) as r:
        assert r.render(pf.frame.image, pf.people) is pf.frame.image
        np.testing.assert_array_equal(OverlayRenderer(skeleton_renderer, r)(pf, 30.0), skeleton_renderer(pf, 30.0))
    with PropRenderer(CAM, select_props("crown", PROPS)) as r:  # and props do change it
        assert not np.array_equal(OverlayRenderer(skeleton_renderer, r)(pf, 30.0), skeleton_renderer(pf, 30.0))
        assert r.render(BG, []) is BG  # nobody in the frame: untouched


def test_avatar_follows_the_rotations_beside_or_over_the_person():
    frames = demo_body(0.7)
    over = Avatar(AvatarConfig("over")).pose(frames, CAM)
    np.testing.assert_allclose(over[0], frames.positions, atol=1e-9)  # same rig, same rotations
    beside = Avatar(AvatarConfig("beside")).pose(frames, CAM)
    np.testing.assert_allclose(
        beside[0] - frames.positions, np.tile([0.9, 0, 0], (len(frames.positions), 1)), atol=1e-9
    )  # person at the image centre-left: avatar to the right
    out, stats = _render("crown", _person(), avatar="beside")
    assert stats.passes == 3
    hips_px = project_world(beside[0][[0]], CAM)[0][0]
    assert _drawn(out)[int(hips_px[1]) - 5 : int(hips_px[1]) + 5, int(hips_px[0]) - 5 : int(hips_px[0]) + 5].all()


def test_composite_is_premultiplied_over_with_the_nearer_layer_on_top():
    crop = np.full((1, 3, 3), 100, dtype=np.uint8)
    a = np.array([[[200, 0, 0, 255], [100, 0, 0, 128], [0, 0, 0, 0]]], dtype=np.uint8)  # red layer (RGB)
    b = np.array([[[0, 0, 200, 255], [0, 0, 0, 0], [0, 0, 0, 0]]], dtype=np.uint8)  # blue layer
    da = np.array([[2.0, 2.0, 0.0]])
    db = np.array([[1.0, 0.0, 0.0]])
    out = composite(crop, a, da, b, db)
    assert out[0, 0].tolist() == [200, 0, 0]  # blue (nearer) wins; BGR order
    assert out[0, 1].tolist() == [50, 50, 150]  # half-covered red over grey
    assert out[0, 2].tolist() == [100, 100, 100]
    assert composite(crop, a, da)[0, 0].tolist() == [0, 0, 200]


def test_viewport_is_padded_rounded_and_clipped():
    pts = np.array([[0.0, 0.0, -2.0], [0.1, 0.1, -2.0]])
    x, y, w, h = viewport_for(pts, CAM, pad=2, quantum=32)
    assert w % 32 == 0 and h % 32 == 0 and x <= 320 - 2 and y + h <= 480
    assert viewport_for(np.array([[0.0, 0.0, 1.0]]), CAM, 2, 32) == (0, 0, 640, 480)  # behind the camera
    assert viewport_for(np.array([[50.0, 0.0, -2.0], [51.0, 0, -2.0]]), CAM, 2, 32) is None  # off-screen
