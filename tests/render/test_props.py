"""Props: the shipped manifest and GLBs, user manifests, and posing parts on bones."""

from __future__ import annotations

import json
import runpy
from pathlib import Path

import numpy as np
import pytest
import trimesh
from scipy.spatial.transform import Rotation

from arpose.errors import ConfigError, InputError
from arpose.landmarks import PoseLandmark
from arpose.render.frames import BodyFrames
from arpose.render.overlay import demo_body
from arpose.render.props import assets_dir, load_manifest, parse_manifest, part_pose, select_props
from arpose.skeleton import BONE_INDEX, BONE_NAMES, NUM_BONES, forward_kinematics

REPO = Path(__file__).resolve().parents[2]


def test_builtin_props_cover_the_issue_list_and_load():
    props = load_manifest()
    for name in ("crown", "glasses", "helmet", "shoulders", "sword", "wand", "cape", "wings"):
        assert name in props
    for prop in props.values():
        for part in prop.parts:
            assert part.bone in BONE_NAMES
            mesh = trimesh.load(part.mesh, force="scene")
            assert len(mesh.geometry) >= 1 and mesh.bounds is not None
    shoulders = props["shoulders"]
    assert {p.bone for p in shoulders.parts} == {"LeftUpperArm", "RightUpperArm"}
    total = sum(p.stat().st_size for p in assets_dir().glob("*.glb"))
    assert total < 200_000  # small assets


def test_generator_reproduces_the_shipped_manifest_and_meshes(tmp_path):
    mod = runpy.run_path(str(REPO / "assets" / "make_props.py"))
    assert mod["main"](tmp_path) == 0
    assert json.loads((tmp_path / "props.json").read_text()) == json.loads((assets_dir() / "props.json").read_text())
    for glb in assets_dir().glob("*.glb"):
        a = trimesh.load(glb, force="scene")
        b = trimesh.load(tmp_path / glb.name, force="scene")
        np.testing.assert_allclose(a.bounds, b.bounds, atol=1e-6)


def test_select_props_by_name_all_and_unknown():
    props = load_manifest()
    assert [p.name for p in select_props("crown, glasses", props)] == ["crown", "glasses"]
    assert [p.name for p in select_props(["glasses", "glasses"], props)] == ["glasses"]
    assert len(select_props("all", props)) == len(props)
    assert select_props("", props) == [] and select_props(None, props) == []
    with pytest.raises(ConfigError, match="unknown prop.*nosuch.*available: crown"):
        select_props("crown,nosuch", props)


def _user_manifest(tmp_path: Path, **part) -> Path:
    box = trimesh.creation.box([0.1, 0.1, 0.1])
    box.export(tmp_path / "box.obj")
    entry = {"mesh": "box.obj", "bone": "Head"} | part
    path = tmp_path / "mine.json"
    path.write_text(json.dumps({"version": 1, "props": {"box": {"parts": [entry]}, "crown": {"parts": [entry]}}}))
    return path


def test_user_manifest_adds_and_overrides(tmp_path):
    path = _user_manifest(
        tmp_path,
        offset=[0, 0.2, 0],
        rotation_deg=[0, 90, 0],
        scale=2,
        occludable=False,
        landmarks=["left_ear", "right_ear"],
    )
    props = load_manifest(path)
    assert "glasses" in props  # built-ins kept
    part = props["box"].parts[0]
    assert part.mesh == str(tmp_path / "box.obj") and not part.occludable
    assert part.scale == (2.0, 2.0, 2.0) and part.offset == (0.0, 0.2, 0.0)
    assert part.landmarks == (int(PoseLandmark.LEFT_EAR), int(PoseLandmark.RIGHT_EAR))
    assert props["crown"].parts[0].mesh.endswith("box.obj")  # same name: the user's wins


@pytest.mark.parametrize(
    "part, error, match",
    [
        ({"bone": "Tail"}, ConfigError, "unknown bone 'Tail'"),
        ({"offset": [0, 1]}, ConfigError, "offset must be a list of 3"),
        ({"scale": -1}, ConfigError, "scale must be positive"),
        ({"landmarks": ["elbow"]}, ConfigError, "unknown landmark 'elbow'"),
        ({"colour": "red"}, ConfigError, "unknown field"),
        ({"mesh": "missing.glb"}, InputError, "mesh file not found"),
        ({"rotation_deg": [0, 0, 0], "rotation_quat": [0, 0, 0, 1]}, ConfigError, "not both"),
    ],
)
def test_bad_manifest_entries_name_the_problem(tmp_path, part, error, match):
    with pytest.raises(error, match=match):
        load_manifest(_user_manifest(tmp_path, **part))


def test_bad_json_and_missing_manifest(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_manifest(bad)
    with pytest.raises(InputError, match="not found"):
        load_manifest(tmp_path / "none.json")
    with pytest.raises(ConfigError, match="'props' object"):
        parse_manifest({"version": 1}, tmp_path)


def test_part_pose_follows_bone_offset_rotation_and_body_scale(tmp_path):
    props = load_manifest(_user_manifest(tmp_path, offset=[0.0, 0.1, 0.0], rotation_deg=[0, 90, 0]))
    part = props["box"].parts[0]
    local = np.tile([0.0, 0.0, 0.0, 1.0], (NUM_BONES, 1))
    local[BONE_INDEX["Head"]] = Rotation.from_euler("x", 90, degrees=True).as_quat()  # head pitched
    pos, rot = forward_kinematics(local, np.array([0.3, -0.1, -3.0]))
    for scale in (1.0, 1.2):
        frames = BodyFrames(pos, rot, local, scale)
        m = part_pose(frames, part)
        r_head = Rotation.from_quat(rot[BONE_INDEX["Head"]]).as_matrix()
        # the offset (bone +Y) turned by the head's pitch (+Y -> +Z), scaled with the body
        np.testing.assert_allclose(m[:3, 3], pos[BONE_INDEX["Head"]] + scale * np.array([0.0, 0.0, 0.1]), atol=1e-9)
        np.testing.assert_allclose(
            m[:3, :3], scale * r_head @ Rotation.from_euler("y", 90, degrees=True).as_matrix(), atol=1e-9
        )
    nan_rot = rot.copy()
    nan_rot[BONE_INDEX["Head"]] = np.nan
    assert part_pose(BodyFrames(pos, nan_rot, local, 1.0), part) is None  # unknown bone: not drawn


def test_landmark_anchor_uses_the_landmarks_mean(tmp_path):
    props = load_manifest(_user_manifest(tmp_path, landmarks=["nose"]))
    frames = demo_body()
    lms = np.zeros((33, 3))
    lms[PoseLandmark.NOSE] = (0.5, 1.0, -2.0)
    m = part_pose(
        BodyFrames(frames.positions, frames.rotations, frames.local_rotations, 1.0, lms), props["box"].parts[0]
    )
    np.testing.assert_allclose(m[:3, 3], (0.5, 1.0, -2.0))
    assert part_pose(frames, props["box"].parts[0]) is None  # no landmarks known


def test_baked_lighting_shades_faces_by_the_key_light():
    from trimesh.visual.material import PBRMaterial

    from arpose.render.props import BAKE_AMBIENT, BAKE_DIFFUSE, BAKE_LIGHT, bake_lighting

    box = trimesh.creation.box([1.0, 1.0, 1.0])
    box.visual = trimesh.visual.TextureVisuals(
        material=PBRMaterial(baseColorFactor=[200, 100, 50, 255], metallicFactor=0.0)
    )
    baked, double = bake_lighting(box)
    assert not double and len(baked.faces) == len(box.faces)
    colours = baked.visual.vertex_colors[baked.faces[:, 0]].astype(float)
    for face, normal in enumerate(box.face_normals):
        shade = BAKE_AMBIENT + BAKE_DIFFUSE * max(0.0, normal @ BAKE_LIGHT)
        np.testing.assert_allclose(colours[face, :3], np.clip(np.array([200, 100, 50]) * shade, 0, 255), atol=1.0)
    front = colours[np.argmax(box.face_normals @ [0, 0, 1]), 0]
    back = colours[np.argmax(box.face_normals @ [0, 0, -1]), 0]
    assert front > back == pytest.approx(200 * BAKE_AMBIENT, abs=1)
