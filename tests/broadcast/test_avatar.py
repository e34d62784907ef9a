"""VMC to a given avatar (``--vmc-avatar``): reading .vrm / .glb / .gltf rest skeletons, and what a
receiver that copies every received local transform (EVMC4U with its default Bone Position
Synchronize) ends up with.

The receiver here is written independently of arpose.broadcast.avatar: it reads the file's
node transforms with pygltflib (or trimesh), converts each received Unity local transform back
to the file's axes, sets it on the bone's node as EVMC4U does (``localPosition``,
``localRotation``) and evaluates the node tree. Known answers: a VRM 0.x file of arpose's own
skeleton at 0.8 scale receives the default stream with every position x 0.8; a VRM 1.0 file of
the same skeleton with random rest rotations ends with the default stream's joints; limbs point
where arpose's skeleton points them."""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
from pygltflib import GLTF2, Node, Scene
from pythonosc.osc_packet import OscPacket
from scipy.spatial.transform import Rotation as R

from arpose.broadcast.avatar import TRACKER_BONES, read_avatar, standard_avatar
from arpose.broadcast.vmc import TRACKER_SERIAL_PREFIX, VmcSink
from arpose.errors import ConfigError, InputError
from arpose.retarget.body import BodyPose
from arpose.retarget.model_poses import random_model_pose
from arpose.skeleton import (
    BONE_INDEX,
    BONE_NAMES,
    NUM_BONES,
    PARENTS,
    REST_OFFSETS,
    RIG_BONE_NAMES,
    forward_kinematics,
)
from arpose.types import Frame, Person, PoseFrame

MODELS = {"CesiumMan": "cesium_man", "RobotExpressive": "robot_expressive"}
LIMBS = [
    (f"{s}{a}", f"{s}{b}")
    for s in ("Left", "Right")
    for a, b in (("UpperArm", "LowerArm"), ("LowerArm", "Hand"), ("UpperLeg", "LowerLeg"), ("LowerLeg", "Foot"))
]
MIRROR = {"+z": np.diag([-1.0, 1.0, 1.0]), "-z": np.diag([1.0, 1.0, -1.0])}


# --------------------------------------------------------------------------------------------
# sending


def body(q=None, root=(0.0, 0.1, -3.0), offsets=REST_OFFSETS, floor=float("nan")):
    """A BodyPose from ``(B, 4)`` local rotations (rig frame; None: the T-pose)."""
    q = np.tile([0.0, 0.0, 0.0, 1.0], (NUM_BONES, 1)) if q is None else np.asarray(q, float)
    pos, _ = forward_kinematics(q, np.asarray(root, float), offsets)
    return BodyPose(q, np.asarray(root, float), pos, np.asarray(offsets, float), np.ones(NUM_BONES), floor_height=floor)


def send(bodies, **sink_kw):
    """Each body through a VmcSink (one frame each); the frames as python-osc decodes the
    datagrams: a list of ``[(address, args), ...]``."""
    sink = VmcSink("127.0.0.1", 39539, **sink_kw)
    sent = []
    sink.sender.send = lambda datagram, family, addr: sent.append(datagram) or True
    lm = np.full((33, 5), 0.5, np.float32)
    for k, b in enumerate(bodies):
        person = Person(0, lm, np.zeros((33, 3), np.float32), 0.9, body=b)
        sink.write(PoseFrame(Frame(np.zeros((2, 2, 3), np.uint8), k / 30, k), (person,)), None)
    sink.close()
    frames, cur = [], []
    for d in sent:
        for m in OscPacket(d).messages:
            cur.append((m.message.address, tuple(m.message.params)))
            if m.message.address == "/VMC/Ext/T":
                frames.append(cur)
                cur = []
    assert not cur
    return frames


def bones_of(frame):
    return {a[0]: (np.array(a[1:4]), np.array(a[4:8])) for ad, a in frame if ad == "/VMC/Ext/Bone/Pos"}


def root_of(frame):
    return np.array(next(a for ad, a in frame if ad == "/VMC/Ext/Root/Pos")[1:4])


# --------------------------------------------------------------------------------------------
# an independent receiver


def _trs(node) -> np.ndarray:
    if node.matrix:
        return np.array(node.matrix, float).reshape(4, 4).T
    m = np.eye(4)
    m[:3, :3] = R.from_quat(node.rotation or [0, 0, 0, 1]).as_matrix() * np.array(node.scale or [1, 1, 1], float)
    m[:3, 3] = node.translation or [0, 0, 0]
    return m


@functools.lru_cache(maxsize=8)
def _file_nodes(path: str):
    """(names, local TRS matrices, parent indices) of a file's nodes (pygltflib parses the JSON
    slowly: once per file)."""
    g = GLTF2().load(path) if path.endswith((".glb", ".gltf")) else GLTF2().load_binary(path)
    parent = [-1] * len(g.nodes)
    for i, n in enumerate(g.nodes):
        for c in n.children or []:
            parent[c] = i
    return [n.name for n in g.nodes], [_trs(n) for n in g.nodes], parent


@functools.lru_cache(maxsize=8)
def rig(path, vrm=None):
    """The avatar read once per test session (pygltflib takes ~0.6 s on RobotExpressive)."""
    return read_avatar(path, None if vrm is None else f"vrm{vrm}")


class FileReceiver:
    """An avatar as a Unity receiver loads it from its file: every node's local transform from the
    file; ``apply`` sets received Bone/Pos local transforms on the mapped nodes (position and
    rotation, keeping the node's scale) and Root/Pos on the model root, as EVMC4U does."""

    def __init__(self, path, bone_nodes: dict[str, str], facing: str = "+z"):
        names, local, parent = _file_nodes(str(path))
        self.names, self.local, self.parent = names, list(local), parent
        self.node = {b: self.names.index(n) for b, n in bone_nodes.items() if n in self.names}
        self.m = MIRROR[facing]
        self.root = np.zeros(3)

    def apply(self, frame):
        self.root = self.m @ root_of(frame)
        for bone, (p, q) in bones_of(frame).items():
            if bone not in self.node:  # the avatar has no such bone: ignored (GetBoneTransform is null)
                continue
            i = self.node[bone]
            scale = np.linalg.norm(self.local[i][:3, :3], axis=0)
            m = np.eye(4)
            m[:3, :3] = (self.m @ R.from_quat(q).as_matrix() @ self.m) * scale
            m[:3, 3] = self.m @ p
            self.local[i] = m

    def world(self, i) -> np.ndarray:
        m = self.local[i]
        return m if self.parent[i] < 0 else self.world(self.parent[i]) @ m

    def joint(self, bone) -> np.ndarray:
        """Unity world position of a bone's joint (the model root's displacement included)."""
        return self.m @ (self.world(self.node[bone])[:3, 3] + self.root)

    def rotation(self, bone) -> R:
        """File-frame world rotation of a bone's node."""
        w = self.world(self.node[bone])[:3, :3]
        return R.from_matrix(w / np.linalg.norm(w, axis=0))


def normalised_fk(frame):
    """Global Unity positions and rotations of a normalised rig (each bone's parent is its
    nearest received ancestor in arpose's hierarchy) from one received frame."""
    root = root_of(frame)
    local = {b: (p, R.from_quat(q)) for b, (p, q) in bones_of(frame).items()}
    gp, gr = {}, {}
    for i, name in enumerate(BONE_NAMES):
        if name not in local:
            continue
        j = PARENTS[i]
        while j >= 0 and BONE_NAMES[j] not in local:
            j = PARENTS[j]
        pp, pr = (root, R.identity()) if j < 0 else (gp[BONE_NAMES[j]], gr[BONE_NAMES[j]])
        gp[name] = pp + pr.apply(local[name][0])
        gr[name] = pr * local[name][1]
    return gp, gr


def unit(v):
    return v / np.linalg.norm(v)


def arpose_directions(q):
    """Unity-frame unit directions of arpose's limb segments for local rotations ``q``."""
    gp, _ = forward_kinematics(q, np.zeros(3), REST_OFFSETS)
    gp = gp * [-1.0, 1.0, 1.0]
    return {(a, b): unit(gp[BONE_INDEX[b]] - gp[BONE_INDEX[a]]) for a, b in LIMBS}


def random_poses(n, seed):
    rng = np.random.default_rng(seed)
    return [random_model_pose(rng) for _ in range(n)]


# --------------------------------------------------------------------------------------------
# synthetic VRM files


def write_vrm(path, kind, world_rest=None, rest_rotations=None, scale=1.0, facing="+z", bones=BONE_NAMES):
    """arpose's skeleton (``scale`` x its rest offsets) as a VRM file of ``kind`` ``"vrm0"`` /
    ``"vrm1"``, facing ``facing``; ``rest_rotations`` (``(B, 4)`` world rest rotations) makes the
    nodes non-normalised while their joints stay where the skeleton has them."""
    flip = np.diag([-1.0, 1.0, -1.0]) if facing == "-z" else np.eye(3)
    joints, _ = forward_kinematics(
        np.tile([0, 0, 0, 1.0], (NUM_BONES, 1)), REST_OFFSETS[0] * scale, REST_OFFSETS * scale
    )
    joints = joints @ flip.T
    rots = [R.identity()] * NUM_BONES if rest_rotations is None else [R.from_quat(r) for r in rest_rotations]
    nodes = []
    for i, name in enumerate(BONE_NAMES):
        p = PARENTS[i]
        parent_rot = rots[p] if p >= 0 else R.identity()
        offset = joints[i] - (joints[p] if p >= 0 else 0.0)
        local_rot = parent_rot.inv() * rots[i]
        nodes.append(
            Node(
                name=f"J_{name}",
                translation=[float(v) for v in parent_rot.inv().apply(offset)],
                rotation=[float(v) for v in local_rot.as_quat()],
                children=[j for j in range(NUM_BONES) if PARENTS[j] == i],
            )
        )
    g = GLTF2()
    g.nodes = nodes
    g.scenes = [Scene(nodes=[0])]
    g.scene = 0
    lower = {b: b[0].lower() + b[1:] for b in bones}
    if kind == "vrm0":
        g.extensions = {"VRM": {"humanoid": {"humanBones": [{"bone": lower[b], "node": BONE_INDEX[b]} for b in bones]}}}
        g.extensionsUsed = ["VRM"]
    else:
        human = {lower[b]: {"node": BONE_INDEX[b]} for b in bones}
        g.extensions = {"VRMC_vrm": {"specVersion": "1.0", "humanoid": {"humanBones": human}}}
        g.extensionsUsed = ["VRMC_vrm"]
    assert g.save_binary(str(path))
    return path


BONE_NODES = {b: f"J_{b}" for b in BONE_NAMES}


# --------------------------------------------------------------------------------------------
# reading


def test_reads_the_shared_models(media):
    cesium = read_avatar(media / "models" / "CesiumMan.glb")
    assert (cesium.kind, cesium.convention, cesium.facing) == ("gltf", "vrm1", "+z")
    assert set(cesium.bone_names) == set(RIG_BONE_NAMES["cesium_man"])  # 19: no shoulders or upper chest
    # Its hip joints are 0.614 m up (the scene is Z-up under a rotated root: read in world terms).
    assert cesium.hip_height == pytest.approx(0.614, abs=1e-3)
    assert cesium.leg_length == pytest.approx(0.542, abs=1e-3)

    robot = read_avatar(media / "models" / "RobotExpressive.glb")
    assert robot.node_names[0] == "Body" and robot.bones[0] == "Hips"
    # Its feet hang from the armature's root (IK targets) and its hands are separate meshes:
    # they are not in the leg / arm chains, so they are not driven.
    assert not {"LeftFoot", "RightFoot", "LeftHand", "RightHand"} & set(robot.bone_names)
    assert len(robot.bone_names) == 15 and "Hips" in robot.node_names  # the node "Hips" is a spine link
    # Rest = the bind pose (inverse bind matrices): standing, 1.54 m legs, hips 1.54 m up.
    assert robot.hip_height == pytest.approx(1.537, abs=1e-3) and robot.leg_length == pytest.approx(1.539, abs=1e-3)


def test_gltf_with_an_external_buffer_reads_like_the_glb(media, tmp_path):
    from pygltflib import BufferFormat

    g = GLTF2().load(str(media / "models" / "CesiumMan.glb"))
    g._path = tmp_path
    g.convert_buffers(BufferFormat.BINFILE)
    g.save_json(str(tmp_path / "cesium.gltf"))
    assert (tmp_path / "0.bin").is_file()
    a, b = read_avatar(tmp_path / "cesium.gltf"), read_avatar(media / "models" / "CesiumMan.glb")
    assert a.node_names == b.node_names
    np.testing.assert_array_equal(a.translations, b.translations)
    np.testing.assert_allclose(a.targets, b.targets, atol=1e-12)


def test_vrm_files_choose_the_convention_and_an_option_overrides_it(tmp_path):
    v0 = read_avatar(write_vrm(tmp_path / "a.vrm", "vrm0", facing="-z"))
    v1 = read_avatar(write_vrm(tmp_path / "b.vrm", "vrm1"))
    assert (v0.kind, v0.convention, v0.facing) == ("vrm0", "vrm0", "-z")
    assert (v1.kind, v1.convention, v1.facing) == ("vrm1", "vrm1", "+z")
    assert read_avatar(tmp_path / "b.vrm", "vrm0").convention == "vrm0"
    assert v0.bone_names == v1.bone_names == BONE_NAMES


@pytest.mark.parametrize(
    "make, error, words",
    [
        (lambda d: d / "missing.vrm", InputError, "cannot read"),
        (
            lambda d: (d / "junk.glb").write_bytes(b"glTF\x02\x00\x00\x00garbage") and d / "junk.glb",
            InputError,
            "not a readable",
        ),
        (lambda d: (d / "text.gltf").write_text("{not json") and d / "text.gltf", InputError, "not a readable"),
        (lambda d: d / "model.fbx", ConfigError, "expected a .vrm, .glb, .gltf"),
        (lambda d: write_vrm(d / "legless.vrm", "vrm1", bones=("Hips", "Spine", "Head")), InputError, "LeftUpperLeg"),
    ],
)
def test_bad_avatar_files_are_one_line_errors(tmp_path, make, error, words):
    path = make(tmp_path)
    with pytest.raises(error) as e:
        VmcSink("127.0.0.1", 39539, avatar=path)
    assert words in str(e.value) and "\n" not in str(e.value) and str(path.name) in str(e.value)


def test_vrm_option_needs_an_avatar_and_is_0_or_1(tmp_path):
    from arpose.spec import PipelineSpec, VmcOutput, spec_from_toml, spec_to_toml

    with pytest.raises(ConfigError, match="--vmc-avatar"):
        VmcSink("127.0.0.1", 39539, vrm="1")
    with pytest.raises(ConfigError, match="0 or 1"):
        VmcSink("127.0.0.1", 39539, avatar=write_vrm(tmp_path / "a.vrm", "vrm1"), vrm="2")
    for out in (VmcOutput(vrm="1"), VmcOutput(avatar="a.vrm", vrm="x")):
        with pytest.raises(ConfigError, match="--vmc-vrm"):
            PipelineSpec().with_output(out).validate()
    spec = PipelineSpec().with_output(VmcOutput(avatar="a.vrm", vrm="0", trackers=True)).validate()
    text = spec_to_toml(spec)
    assert 'avatar = "a.vrm"' in text and 'vrm = "0"' in text and "trackers = true" in text
    assert spec_from_toml(text) == spec


# --------------------------------------------------------------------------------------------
# known answers on synthetic VRMs


def test_vrm0_file_of_arposes_skeleton_at_0_8_scale_gets_the_default_stream_scaled(tmp_path):
    """A VRM 0.x avatar (facing -Z in its file, normalised) built from arpose's skeleton at 0.8
    scale: every position of the stream is the default stream's x 0.8, every rotation the same."""
    path = write_vrm(tmp_path / "small.vrm", "vrm0", scale=0.8, facing="-z")
    bodies = [body(q, root=(0.1 * k, 0.05 * k, -3.0 + 0.1 * k)) for k, q in enumerate(random_poses(4, 1))]
    for default, small in zip(send(bodies), send(bodies, avatar=path)):
        assert [m[0] for m in default] == [m[0] for m in small]
        np.testing.assert_allclose(root_of(small), 0.8 * root_of(default), atol=1e-6)
        a, b = bones_of(default), bones_of(small)
        assert list(a) == list(b) == list(BONE_NAMES)
        for name in BONE_NAMES:
            np.testing.assert_allclose(b[name][0], 0.8 * a[name][0], atol=1e-6, err_msg=name)
            assert abs(abs(np.dot(b[name][1], a[name][1])) - 1) < 1e-6, name


def test_vrm1_file_with_rest_rotations_moves_like_the_default_stream(tmp_path):
    """VRM 1.0 bones carry rest rotations (here random) that a VRM 1.0 receiver keeps: the sent
    local rotations are relative to them, so the receiver's joints and bone rotations (relative
    to each bone's rest) are the default stream's. Forced to VRM 0.x form, the same file sends
    exactly the default stream (its normalised rig is arpose's skeleton)."""
    rest = R.random(NUM_BONES, random_state=5).as_quat()
    path = write_vrm(tmp_path / "rotated.vrm", "vrm1", rest_rotations=rest)
    bodies = [body(q, root=(0.2, 0.1, -2.5)) for q in random_poses(5, 2)]
    default = send(bodies)
    original = send(bodies, avatar=path)
    normalised = send(bodies, avatar=path, vrm="0")
    for d, o, n in zip(default, original, normalised):
        gp, gr = normalised_fk(d)
        rx = FileReceiver(path, BONE_NODES)
        rest_rot = {b: rx.rotation(b) for b in BONE_NAMES}
        rx.apply(o)
        for name in BONE_NAMES:
            np.testing.assert_allclose(rx.joint(name), gp[name], atol=2e-6, err_msg=name)
            # world rotation relative to the rest, in Unity axes = the default stream's global rotation
            delta = rx.rotation(name) * rest_rot[name].inv()
            m = MIRROR["+z"]
            got = R.from_matrix(m @ delta.as_matrix() @ m)
            assert (got * gr[name].inv()).magnitude() < 1e-5, name
        for name in BONE_NAMES:
            np.testing.assert_allclose(bones_of(n)[name][0], bones_of(d)[name][0], atol=1e-6)
            assert abs(abs(np.dot(bones_of(n)[name][1], bones_of(d)[name][1])) - 1) < 1e-6


# --------------------------------------------------------------------------------------------
# the shared glTF models


@pytest.mark.parametrize("model", sorted(MODELS))
def test_every_bone_position_sent_is_the_files_rest_offset(media, model):
    """Read independently (trimesh's scene graph): every Bone/Pos position but the Hips' is that
    node's own local translation in the file, mirrored into Unity axes, whatever the pose."""
    import trimesh

    path = media / "models" / f"{model}.glb"
    scene = trimesh.load(str(path), force="scene")
    table = RIG_BONE_NAMES[MODELS[model]]
    bodies = [body(q, root=(0.3 * k, 0.05, -3.0)) for k, q in enumerate(random_poses(3, 3))]
    for frame in send(bodies, avatar=path):
        got = bones_of(frame)
        assert "Hips" in got and len(got) == len(rig(path).bone_names)
        for name, (position, _) in got.items():
            if name == "Hips":
                continue
            node = table[name]
            parent = scene.graph.transforms.parents[node]
            local = np.linalg.inv(scene.graph.get(parent)[0]) @ scene.graph.get(node)[0]
            np.testing.assert_allclose(position, local[:3, 3] * [-1, 1, 1], rtol=1e-6, atol=1e-8, err_msg=name)


@pytest.mark.parametrize("vrm", [None, "0"])
@pytest.mark.parametrize("model", sorted(MODELS))
def test_limbs_point_where_arpose_points_them(media, model, vrm):
    """Arms and legs of both models, with their own proportions, rest rotations, A-pose (Cesium)
    and x100 scaled, rotated armature (Robot), point along arpose's limb directions for random
    poses; in VRM 0.x form (a normalised receiver) as in the file's own bones."""
    path = media / "models" / f"{model}.glb"
    poses = random_poses(6, 4)
    frames = send([body(q) for q in poses], avatar=rig(path, vrm))
    checked = 0
    for q, frame in zip(poses, frames):
        want = arpose_directions(q)
        if vrm is None:
            rx = FileReceiver(path, RIG_BONE_NAMES[MODELS[model]])
            rx.apply(frame)
            joint = {b: rx.joint(b) for b in bones_of(frame)}
        else:
            joint, _ = normalised_fk(frame)
        for (a, b), d in want.items():
            if a in joint and b in joint:
                np.testing.assert_allclose(unit(joint[b] - joint[a]), d, atol=2e-5, err_msg=f"{model} {a}->{b}")
                checked += 1
    assert checked == 6 * (8 if model == "CesiumMan" else 4)  # Robot: no hands, no feet


def test_standing_person_stands_the_avatar_on_its_floor(media):
    """A T-posed person of arpose's proportions standing with the hips 0.93 m above a known floor
    stands the avatar at its own rest hip height (heights scale by standing hip heights), feet
    on its floor (the rest pose's knees bend slightly: straight legs reach 1.5 cm lower)."""
    path = media / "models" / "CesiumMan.glb"
    avatar = rig(path)
    frame = send([body(root=(0.0, 0.4, -3.0), floor=0.4 - 0.93)], avatar=avatar)[0]
    rx = FileReceiver(path, RIG_BONE_NAMES["cesium_man"])
    rx.apply(frame)
    centre = 0.5 * (rx.joint("LeftUpperLeg") + rx.joint("RightUpperLeg"))
    assert centre[1] == pytest.approx(avatar.hip_height, abs=1e-6)
    for toe in ("LeftToes", "RightToes"):
        assert abs(rx.joint(toe)[1] - 0.021) < 0.02  # the file's toes are 2.1 cm up


def test_position_sync_keeps_the_avatar_and_the_default_stream_reshapes_it(media):
    """EVMC4U copies every received local position (Bone Position Synchronize, on by default).
    With --vmc-avatar every bone keeps the file's length; the default stream (no avatar file)
    gives CesiumMan arpose's standard bones instead (0.42 m shins for its 0.28 m ones)."""
    path = media / "models" / "CesiumMan.glb"
    table = RIG_BONE_NAMES["cesium_man"]
    rest = FileReceiver(path, table)
    length = lambda rx, a, b: float(np.linalg.norm(rx.joint(b) - rx.joint(a)))  # noqa: E731
    pairs = [
        (BONE_NAMES[PARENTS[BONE_INDEX[b]]], b)
        for b in table
        if b != "Hips" and BONE_NAMES[PARENTS[BONE_INDEX[b]]] in table
    ]
    q = random_poses(1, 5)[0]
    kept = FileReceiver(path, table)
    kept.apply(send([body(q)], avatar=rig(path))[0])
    reshaped = FileReceiver(path, table)
    reshaped.apply(send([body(q)])[0])
    for a, b in pairs:
        assert length(kept, a, b) == pytest.approx(length(rest, a, b), abs=1e-6), (a, b)
    assert length(rest, "LeftLowerLeg", "LeftFoot") == pytest.approx(0.276, abs=1e-3)
    assert length(reshaped, "LeftLowerLeg", "LeftFoot") == pytest.approx(0.42, abs=1e-6)


# --------------------------------------------------------------------------------------------
# trackers


@pytest.mark.parametrize("model", sorted(MODELS))
def test_trackers_are_the_avatars_joints_in_unity_world(media, model):
    path = media / "models" / f"{model}.glb"
    table = RIG_BONE_NAMES[MODELS[model]]
    poses = random_poses(3, 6)
    bodies = [body(q, root=(0.25 * k, 0.1, -3.0 + 0.2 * k)) for k, q in enumerate([None, *poses])]
    frames = send(bodies, avatar=rig(path), trackers=True)
    for k, frame in enumerate(frames):
        addresses = [a for a, _ in frame]
        n_bones = addresses.count("/VMC/Ext/Bone/Pos")
        assert addresses == ["/VMC/Ext/Root/Pos"] + ["/VMC/Ext/Bone/Pos"] * n_bones + ["/VMC/Ext/Tra/Pos"] * 6 + [
            "/VMC/Ext/OK",
            "/VMC/Ext/T",
        ]
        trackers = {a[0]: (np.array(a[1:4]), np.array(a[4:8])) for ad, a in frame if ad == "/VMC/Ext/Tra/Pos"}
        assert sorted(trackers) == sorted(TRACKER_SERIAL_PREFIX + b for b in TRACKER_BONES)
        rx = FileReceiver(path, table)
        rx.apply(frame)
        q = bodies[k].local_rotations
        _, glob = forward_kinematics(q, np.zeros(3), REST_OFFSETS)
        for b in TRACKER_BONES:
            position, rotation = trackers[TRACKER_SERIAL_PREFIX + b]
            if b in bones_of(frame):
                np.testing.assert_allclose(position, rx.joint(b), atol=2e-5, err_msg=b)
            want = glob[BONE_INDEX[b]] * [1, -1, -1, 1]  # the rig's global rotation in Unity axes
            assert abs(abs(np.dot(rotation, want)) - 1) < 1e-6, b
            if k == 0:  # T-pose: trackers are unrotated
                assert abs(abs(rotation[3]) - 1) < 1e-7
    if model == "RobotExpressive":  # no hand or foot bones: the lower arm's and leg's ends stand in
        rx = FileReceiver(path, table)
        rx.apply(frames[0])
        ankle = rx.m @ (rx.world(rx.names.index("LowerLegL_end"))[:3, 3] + rx.root)
        got = [a for ad, a in frames[0] if ad == "/VMC/Ext/Tra/Pos" and a[0] == TRACKER_SERIAL_PREFIX + "LeftFoot"][0]
        np.testing.assert_allclose(got[1:4], ankle, atol=2e-5)


def test_default_stream_trackers_are_the_standard_skeletons_joints():
    frames = send([body(q, root=(0.5, 0.0, -3.0)) for q in random_poses(2, 7)], trackers=True)
    for frame in frames:
        gp, _ = normalised_fk(frame)
        for ad, a in frame:
            if ad == "/VMC/Ext/Tra/Pos":
                np.testing.assert_allclose(a[1:4], gp[a[0][len(TRACKER_SERIAL_PREFIX) :]], atol=2e-6)


def test_standard_avatar_is_arposes_skeleton():
    std = standard_avatar()
    assert std.bone_names == BONE_NAMES and std.identity_rest
    assert std.hip_height == pytest.approx(0.93) and std.leg_length == pytest.approx(0.85)
    assert math.isclose(std.rest_translations()["LeftUpperArm"][0], -REST_OFFSETS[BONE_INDEX["LeftUpperArm"], 0])
