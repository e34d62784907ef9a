"""The Blender add-on's pure part, imported without bpy: its OSC parser against python-osc, the
VMC / raw -> Blender axis conversion with analytic poses, and the pose-bone maths."""

import importlib.util
import socket
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_message_builder import OscMessageBuilder
from scipy.spatial.transform import Rotation as R

import arpose.broadcast as broadcast
from arpose.broadcast.osc import encode_bundle, encode_message
from arpose.broadcast.raw import RawOscSink
from arpose.broadcast.vmc import VmcSink
from arpose.retarget.body import BodyPose
from arpose.skeleton import (
    BONE_INDEX,
    BONES,
    EYE_BONES,
    FINGER_BONES,
    NUM_BONES,
    REST_OFFSETS,
    forward_kinematics,
    rig_to_unity_position,
    rig_to_unity_quaternion,
)
from arpose.types import Frame, Person, PoseFrame

ADDON = Path(broadcast.__file__).parent / "blender_addon" / "arpose_vmc_receiver.py"


def load_addon(name="arpose_vmc_receiver"):
    spec = importlib.util.spec_from_file_location(name, ADDON)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def addon():
    """The add-on imported as if Blender were absent (bpy and mathutils unimportable)."""
    saved = {k: sys.modules.get(k) for k in ("bpy", "mathutils")}
    sys.modules.update({"bpy": None, "mathutils": None})  # None in sys.modules -> ImportError
    try:
        mod = load_addon()
    finally:
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v
    assert mod.bpy is None
    return mod


def test_installable_shape(addon):
    assert addon.bl_info["blender"] >= (2, 93, 0) and addon.bl_info["category"] == "Animation"
    assert callable(addon.register) and callable(addon.unregister)
    with pytest.raises(RuntimeError, match="inside Blender"):
        addon.register()
    assert "from __future__ import annotations" not in ADDON.read_text()  # breaks bpy properties


def test_skeleton_copy_matches_arpose(addon):
    assert [s[0] for s in addon.SKELETON] == [b.name for b in BONES]
    for (name, parent, off, end), b in zip(addon.SKELETON, BONES):
        assert parent == b.parent
        np.testing.assert_allclose(off, b.offset, atol=1e-9)
        assert (end is None) == (b.end is None)
        if end is not None:
            np.testing.assert_allclose(end, b.end, atol=1e-9)


def test_parser_reads_python_osc_messages_and_bundles(addon):
    mb = OscMessageBuilder("/x/y")
    for v, t in [
        (7, "i"),
        (1.5, "f"),
        ("héllo", "s"),
        (2.25, "d"),
        (True, "T"),
        (False, "F"),
        (b"\x01\x02\x03", "b"),
        (2**40, "h"),
        (None, "N"),
    ]:
        mb.add_arg(v, t)
    msg = mb.build()
    assert addon.parse_packet(msg.dgram) == [
        ("/x/y", (7, 1.5, "héllo", 2.25, True, False, b"\x01\x02\x03", 2**40, None))
    ]
    inner = OscBundleBuilder(IMMEDIATELY)
    inner.add_content(OscMessageBuilder("/b").build())
    outer = OscBundleBuilder(IMMEDIATELY)
    outer.add_content(msg)
    outer.add_content(inner.build())
    got = addon.parse_packet(outer.build().dgram)
    assert [a for a, _ in got] == ["/x/y", "/b"]
    ours = encode_bundle([encode_message("/VMC/Ext/Bone/Pos", "Hips", np.arange(7.0))])
    assert addon.parse_packet(ours) == [("/VMC/Ext/Bone/Pos", ("Hips", 0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0))]
    for bad in (
        b"",
        b"nope\x00\x00\x00\x00",
        b"/a\x00\x00,i\x00\x00\x00",
        b"#bundle\x00" + b"\x00" * 8 + b"\x00\x00\x01\x00",
    ):
        with pytest.raises(addon.OscError):
            addon.parse_packet(bad)


def test_axis_conversions_agree(addon):
    """Rig -> Blender directly equals rig -> Unity (arpose) -> Blender (add-on); axes map as named."""
    rng = np.random.default_rng(0)
    for v in rng.normal(size=(20, 3)):
        np.testing.assert_allclose(
            addon.unity_to_blender_vec(rig_to_unity_position(v)), addon.rig_to_blender_vec(v), atol=1e-12
        )
    for q in R.random(20, random_state=1).as_quat():
        a = addon.unity_to_blender_quat(rig_to_unity_quaternion(q))
        b = addon.rig_to_blender_quat(q)
        np.testing.assert_allclose(a, b, atol=1e-12)
        # The quaternion rotates Blender vectors like the rig rotation rotates rig vectors.
        v = rng.normal(size=3)
        np.testing.assert_allclose(
            addon.qrotate(b, addon.rig_to_blender_vec(v)), addon.rig_to_blender_vec(R.from_quat(q).apply(v)), atol=1e-9
        )
    assert addon.rig_to_blender_vec((0, 1, 0)) == (0, -0, 1)  # up -> Blender +Z
    assert addon.rig_to_blender_vec((0, 0, 1)) == (0, -1, 0)  # subject's forward -> -Y (Blender front)
    assert addon.rig_to_blender_vec((1, 0, 0)) == (1, -0, 0)  # subject's left -> +X
    assert addon.unity_to_blender_vec((1, 0, 0)) == (-1, -0, 0)  # avatar's right (Unity +X) -> Blender -X


def _body(rots, root=(0.0, 0.0, -3.0)):
    q = np.tile([0.0, 0.0, 0.0, 1.0], (NUM_BONES, 1))
    for name, r in rots.items():
        q[BONE_INDEX[name]] = r.as_quat()
    pos, _ = forward_kinematics(q, np.asarray(root, float))
    return BodyPose(q, np.asarray(root, float), pos, REST_OFFSETS.copy(), np.ones(NUM_BONES))


def _blender_fk(addon, state):
    """Global joint positions (Blender axes) of the arpose skeleton posed by ``state``."""
    g = addon.global_rotations(state.local, state.root_rotation)
    pos = {}
    for name, parent, off, _ in addon.SKELETON:
        if parent is None:
            pos[name] = np.array(state.hips_target)
        else:
            pos[name] = pos[parent] + np.array(addon.qrotate(g[parent], addon.rig_to_blender_vec(off)))
    return pos, g


def _receive(addon, sink_cls, frames, person=0):
    rx = addon.UdpReceiver(0, "127.0.0.1", person)
    port = rx.sock.getsockname()[1]
    sink = sink_cls("127.0.0.1", port)
    for f in frames:
        sink.write(f, None)
    sink.close()
    end = time.monotonic() + 5
    while rx.state.frames < len(frames) and time.monotonic() < end:
        rx.poll()
        time.sleep(0.005)
    rx.close()
    assert rx.state.frames == len(frames) and rx.bad_packets == 0
    return rx.state


POSES = {
    "arm_forward": ({"LeftUpperArm": R.from_euler("y", -90, degrees=True)}, [("LeftUpperArm", "LeftHand", (0, -1, 0))]),
    "arm_side_up": (
        {"RightUpperArm": R.from_euler("z", -90, degrees=True)},
        [("RightUpperArm", "RightHand", (0, 0, 1))],
    ),
    "t_pose": ({}, [("LeftUpperArm", "LeftHand", (1, 0, 0)), ("RightUpperArm", "RightHand", (-1, 0, 0))]),
    "knee_bent": ({"LeftLowerLeg": R.from_euler("x", 90, degrees=True)}, [("LeftLowerLeg", "LeftFoot", (0, 1, 0))]),
    "turned": ({"Hips": R.from_euler("y", 180, degrees=True)}, [("LeftUpperArm", "LeftHand", (-1, 0, 0))]),
}


@pytest.mark.parametrize("pose", sorted(POSES))
@pytest.mark.parametrize("sink_cls", [VmcSink, RawOscSink])
def test_stream_drives_blender_axes(addon, pose, sink_cls):
    """Both protocols, over loopback into the add-on's receiver, give the same Blender pose."""
    rots, checks = POSES[pose]
    b = _body(rots)
    people = (Person(0, np.full((33, 5), 0.5, np.float32), np.zeros((33, 3), np.float32), 0.9, body=b),)
    state = _receive(addon, sink_cls, [PoseFrame(Frame(np.zeros((2, 2, 3), np.uint8), 0.0, 0), people)])
    pos, _ = _blender_fk(addon, state)
    for a, c, want in checks:
        d = pos[c] - pos[a]
        np.testing.assert_allclose(d / np.linalg.norm(d), want, atol=1e-6, err_msg=f"{pose} {a}->{c}")
    np.testing.assert_allclose(pos["Hips"], (0, 0, 0.93), atol=1e-6)  # calibrated: hips over the origin
    np.testing.assert_allclose(pos["Head"] - pos["Neck"], (0, 0, 0.17), atol=1e-6)


def test_head_turn_in_blender(addon):
    b = _body({"Head": R.from_euler("y", 90, degrees=True)})  # subject turns to their left
    people = (Person(0, np.full((33, 5), 0.5, np.float32), np.zeros((33, 3), np.float32), 0.9, body=b),)
    state = _receive(addon, VmcSink, [PoseFrame(Frame(np.zeros((2, 2, 3), np.uint8), 0.0, 0), people)])
    _, g = _blender_fk(addon, state)
    np.testing.assert_allclose(addon.qrotate(g["Head"], (0, -1, 0)), (1, 0, 0), atol=1e-6)  # face towards +X (its left)


def test_solve_armature_reproduces_globals_on_any_rest_orientation(addon):
    """Simulate Blender's pose evaluation (rot_i = rot_parent * rest_p^-1 * rest_i * basis_i) on an
    armature with arbitrary bone rolls and no UpperChest: every driven bone ends up at its global
    rotation times its rest orientation, and the Hips head lands on the target."""
    rng = np.random.default_rng(5)
    state = addon.PoseState()
    for name, *_ in addon.SKELETON:
        state.local[name] = tuple(R.from_rotvec(rng.normal(scale=0.7, size=3)).as_quat())
    state.hips_target = (0.3, -0.2, 0.8)
    heads = {n: h for n, (h, _) in addon.rest_joints_blender().items()}
    bones = []
    for name, parent, *_ in addon.SKELETON:
        if name == "UpperChest":
            continue
        parent = "Chest" if parent == "UpperChest" else parent
        bones.append((name, parent, tuple(R.random(random_state=rng).as_quat()), heads[name]))
    del state.local["UpperChest"]  # a sender without UpperChest: its children follow Chest
    solved = addon.solve_armature(state, bones)
    g = addon.global_rotations(state.local, state.root_rotation)
    rest = {n: R.from_quat(q) for n, _, q, _ in bones}
    world = {}
    for name, parent, _, _ in bones:
        basis = R.from_quat(solved[name][0])
        world[name] = (world[parent] * rest[parent].inv() * rest[name] * basis) if parent else rest[name] * basis
        want = R.from_quat(g[name]) * rest[name]
        assert (world[name] * want.inv()).magnitude() < 1e-6, name
    loc = np.array(solved["Hips"][1])
    np.testing.assert_allclose(np.array(heads["Hips"]) + rest["Hips"].apply(loc), state.hips_target, atol=1e-9)


def test_garbage_datagrams_do_not_stop_the_receiver(addon):
    rx = addon.UdpReceiver(0, "127.0.0.1")
    port = rx.sock.getsockname()[1]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(b"garbage", ("127.0.0.1", port))
    s.sendto(encode_message("/VMC/Ext/Bone/Pos", "Hips"), ("127.0.0.1", port))  # too few args: ignored
    s.sendto(encode_message("/VMC/Ext/T", 1.0), ("127.0.0.1", port))
    s.close()
    end = time.monotonic() + 5
    while rx.state.frames < 1 and time.monotonic() < end:
        rx.poll()
        time.sleep(0.005)
    rx.close()
    assert rx.state.frames == 1 and rx.bad_packets == 1 and "Hips" not in rx.state.local


_IN_BLENDER = r"""
import importlib.util, json, sys
import bpy
spec = importlib.util.spec_from_file_location("arpose_vmc_receiver", sys.argv[1])
m = importlib.util.module_from_spec(spec)
spec.loader.exec_module(m)
m.register()
bpy.ops.wm.read_factory_settings(use_empty=True)
assert bpy.ops.arpose.create_armature() == {"FINISHED"}
obj = bpy.context.scene.arpose_receiver.armature
data = json.loads(sys.stdin.read())
st = m.PoseState()
st.local = {k: tuple(v) for k, v in data["local"].items()}
st.hips_target = tuple(data["hips"])
names = m.apply_to_armature(obj, st, feet="stream")  # the sent hip height, as the sender's own skeleton has it
bpy.context.view_layer.update()
heads = {pb.name: list(obj.matrix_world @ pb.head) for pb in obj.pose.bones}
m.keyframe_armature(obj, names, 7, moved={"Hips"})
curves = obj.animation_data.action.fcurves
keyed = sorted({fc.data_path for fc in curves})
frames = sorted({kp.co[0] for fc in curves for kp in fc.keyframe_points})
m.unregister()
print(json.dumps({"driven": len(names), "heads": heads, "keyed": len(keyed), "frames": frames}))
"""


def test_real_blender_poses_the_armature(addon):
    """With Blender's Python module installed: register, create the armature, drive it from a
    pose received over VMC, and compare Blender's own evaluation with the expected joints."""
    if importlib.util.find_spec("bpy") is None:
        pytest.skip("bpy (Blender as a Python module) is not installed")
    import json
    import subprocess

    rng = np.random.default_rng(11)
    b = _body({n: R.from_rotvec(rng.normal(scale=0.6, size=3)) for n, *_ in addon.SKELETON}, root=(0.4, 0.1, -2.0))
    people = (Person(0, np.full((33, 5), 0.5, np.float32), np.zeros((33, 3), np.float32), 0.9, body=b),)
    frames = [PoseFrame(Frame(np.zeros((2, 2, 3), np.uint8), 0.0, 0), people)]
    state = _receive(addon, VmcSink, frames)
    want, _ = _blender_fk(addon, state)
    payload = json.dumps({"local": state.local, "hips": state.hips_target})
    proc = subprocess.run(
        [sys.executable, "-c", _IN_BLENDER, str(ADDON)], input=payload, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["driven"] == NUM_BONES
    assert out["keyed"] == NUM_BONES + 1 and out["frames"] == [7.0]  # every rotation + the Hips location
    for name, p in want.items():
        np.testing.assert_allclose(out["heads"][name], p, atol=1e-5, err_msg=name)


def test_timestamps_and_record_frames(addon):
    st = addon.PoseState()
    st.handle("/VMC/Ext/T", (12.5,))
    assert st.timestamp == 12.5 and st.frames == 1
    st.handle("/arpose/frame", (3, 13.0, 1))
    st.handle("/arpose/frame/end", (3,))
    assert st.timestamp == 13.0 and st.frames == 2
    assert addon.record_frame(None, 5.0, 30.0, 1) == 1
    assert addon.record_frame(12.5, 13.0, 30.0, 1) == 16  # 0.5 s at 30 fps after the start frame
    assert addon.record_frame(12.5, 12.5 + 1 / 24, 24.0, 10) == 11


def _nested(message: bytes, depth: int) -> bytes:
    """``message`` wrapped in ``depth`` bundles (each: "#bundle", time tag, size, content)."""
    for _ in range(depth):
        message = b"#bundle\x00" + b"\x00" * 7 + b"\x01" + len(message).to_bytes(4, "big") + message
    return message


def test_listens_on_loopback_by_default_and_warns_for_any_other_address(addon):
    rx = addon.UdpReceiver(0)
    try:
        assert rx.sock.getsockname()[0] == "127.0.0.1"
    finally:
        rx.close()
    for host in ("127.0.0.1", "localhost", "127.0.1.1", "::1"):
        assert addon.is_loopback(host) and addon.listen_warning(host) is None
    assert (
        addon.listen_warning("0.0.0.0")
        == "listening on every network interface: anyone on the network can move the armature"
    )
    assert "192.168.1.20: anyone on the network" in addon.listen_warning("192.168.1.20")


@pytest.mark.parametrize("reuse", [False, True])
def test_a_taken_port_is_refused_with_a_message(addon, reuse):
    """No SO_REUSEADDR: even a program that set it keeps its port to itself."""
    other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    if reuse:
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    other.bind(("127.0.0.1", 0))
    port = other.getsockname()[1]
    try:
        with pytest.raises(addon.ReceiverError, match=f"^port {port} is in use by another program"):
            addon.UdpReceiver(port)
    finally:
        other.close()
    with pytest.raises(addon.ReceiverError, match="203.0.113.7 is not an address of this computer"):
        addon.UdpReceiver(0, "203.0.113.7")


def test_nesting_depth_and_size_are_bounded(addon):
    msg = encode_message("/VMC/Ext/T", 1.0)
    assert addon.parse_packet(_nested(msg, addon.MAX_BUNDLE_DEPTH)) == [("/VMC/Ext/T", (1.0,))]
    bomb = _nested(msg, 1500)  # the datagram: about 30 kB, RecursionError before
    assert 29_000 < len(bomb) < 31_000
    with pytest.raises(addon.OscError, match=f"nested deeper than {addon.MAX_BUNDLE_DEPTH}"):
        addon.parse_packet(bomb)
    with pytest.raises(addon.OscError, match="larger than 65507"):
        addon.parse_packet(encode_bundle([encode_message("/x", "a" * 70_000)]))
    with pytest.raises(addon.OscError, match="truncated OSC blob"):
        addon.parse_packet(b"/x\x00\x00,b\x00\x00\xff\xff\xff\xf8")  # negative blob size


def test_a_bundle_bomb_is_counted_and_the_receiver_keeps_going(addon):
    rx = addon.UdpReceiver(0)
    port = rx.sock.getsockname()[1]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.sendto(_nested(encode_message("/VMC/Ext/T", 1.0), 1500), ("127.0.0.1", port))
        s.sendto(encode_message("/VMC/Ext/T", "not a number"), ("127.0.0.1", port))  # valid OSC, bad value
        s.sendto(encode_message("/VMC/Ext/T", 2.0), ("127.0.0.1", port))
        end = time.monotonic() + 5
        while rx.state.frames < 1 and time.monotonic() < end:
            rx.poll()
            time.sleep(0.005)
    finally:
        s.close()
        rx.close()
    assert rx.state.frames == 1 and rx.state.timestamp == 2.0
    assert rx.bad_packets == 1 and "nested deeper" in rx.last_error


_IN_BLENDER_SECURITY = r"""
import importlib.util, json, socket, sys
import bpy
spec = importlib.util.spec_from_file_location("arpose_vmc_receiver", sys.argv[1])
m = importlib.util.module_from_spec(spec)
spec.loader.exec_module(m)
m.register()
bpy.ops.wm.read_factory_settings(use_empty=True)
s = bpy.context.scene.arpose_receiver
out = {"default_host": s.host}
labels = []

class Layout:  # records what the panel draws
    def column(self):
        return self
    def prop(self, data, name):
        pass
    def operator(self, name, icon=""):
        pass
    def label(self, text="", icon="NONE"):
        labels.append([text, icon])

class Panel:
    layout = Layout()

m.ARPOSE_PT_panel.draw(Panel(), bpy.context)
out["labels_loopback"] = labels[:]
labels.clear()
s.host = "0.0.0.0"
m.ARPOSE_PT_panel.draw(Panel(), bpy.context)
out["labels_any"] = labels[:]
s.host = "127.0.0.1"
assert bpy.ops.arpose.create_armature() == {"FINISHED"}
taken = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
taken.bind(("127.0.0.1", 0))
s.port = taken.getsockname()[1]
try:
    bpy.ops.arpose.start()
    out["start"] = "started"
except RuntimeError as exc:
    out["start"] = str(exc)
out["port"] = s.port
out["running"] = s.running
m.unregister()
print(json.dumps(out))
"""


def test_real_blender_panel_warns_and_start_refuses_a_taken_port():
    if importlib.util.find_spec("bpy") is None:
        pytest.skip("bpy (Blender as a Python module) is not installed")
    import json
    import subprocess

    proc = subprocess.run(
        [sys.executable, "-c", _IN_BLENDER_SECURITY, str(ADDON)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["default_host"] == "127.0.0.1"
    assert not any(icon == "ERROR" for _, icon in out["labels_loopback"])
    assert [t for t, icon in out["labels_any"] if icon == "ERROR"] == [
        "listening on every network interface: anyone on the network can move the armature"
    ]
    assert f"port {out['port']} is in use by another program" in out["start"] and not out["running"]


def _run_in_blender(script: str, *args: str) -> dict:
    """Run ``script`` in a fresh Python with real ``bpy`` (argv: the add-on, then ``args``); its
    last stdout line is JSON."""
    if importlib.util.find_spec("bpy") is None:
        pytest.skip("bpy (Blender as a Python module) is not installed")
    import json
    import subprocess

    proc = subprocess.run(
        [sys.executable, "-c", script, str(ADDON), *args], capture_output=True, text=True, timeout=180
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


_PRELUDE = r"""
import importlib.util, json, os, socket, sys, time
import bpy
spec = importlib.util.spec_from_file_location("arpose_vmc_receiver", sys.argv[1])
m = importlib.util.module_from_spec(spec)
spec.loader.exec_module(m)
m.register()
bpy.ops.wm.read_factory_settings(use_empty=True)
scene = bpy.context.scene
s = scene.arpose_receiver

def free_port():
    k = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    k.bind(("127.0.0.1", 0))
    port = k.getsockname()[1]
    k.close()
    return port

def finish(out):
    print(json.dumps(out))
    sys.stdout.flush()
    os._exit(0)  # bpy 4.5 as a module can hang in its exit handlers after an import
"""

_IN_BLENDER_HEADLESS = (
    _PRELUDE
    + r"""
import numpy as np
from scipy.spatial.transform import Rotation as R
from arpose.broadcast.vmc import VmcSink
from arpose.retarget.body import BodyPose
from arpose.skeleton import BONE_INDEX, NUM_BONES, REST_OFFSETS, forward_kinematics
from arpose.types import Frame, Person, PoseFrame

out = {}
try:
    m.pump(scene)
except m.ReceiverError as exc:
    out["pump_before_start"] = str(exc)
assert bpy.ops.arpose.create_armature() == {"FINISHED"}
obj = s.armature
obj.pose.bones["LeftUpperArm"].keyframe_insert("rotation_quaternion", frame=1)  # an animation the user had
users_action = obj.animation_data.action.name
obj.pose.bones["LeftLowerArm"].rotation_mode = "XYZ"
scene.render.fps = 30
s.port, s.record = free_port(), True
out["start"] = sorted(bpy.ops.arpose.start())
session = m._SESSIONS[scene.as_pointer()]
out["timer_registered"] = session.timer is not None and bpy.app.timers.is_registered(session.timer)
out["running"] = s.running
out["pump_idle"] = m.pump(scene)

sink = VmcSink("127.0.0.1", s.port)
for k in range(3):  # the forearm bends forward, 30 degrees more each frame
    q = np.tile([0.0, 0.0, 0.0, 1.0], (NUM_BONES, 1))
    q[BONE_INDEX["LeftLowerArm"]] = R.from_euler("y", -30 * (k + 1), degrees=True).as_quat()
    root = np.array([0.1 * k, 0.0, -3.0])
    body = BodyPose(q, root, forward_kinematics(q, root)[0], REST_OFFSETS.copy(), np.ones(NUM_BONES))
    person = Person(0, np.full((33, 5), 0.5, np.float32), np.zeros((33, 3), np.float32), 0.9, body=body)
    sink.write(PoseFrame(Frame(np.zeros((2, 2, 3), np.uint8), k / 30, k), (person,)))
sink.close()
time.sleep(0.3)
out["timer_returns"] = session.timer()  # what Blender's timer loop calls: it pumps
out["status"] = s.status
out["pump_after_timer"] = m.pump(scene)
action = obj.animation_data.action
out["take"] = action.name
out["kept"] = bpy.data.actions[users_action].use_fake_user and users_action != action.name
out["paths"] = sorted({fc.data_path for fc in action.fcurves})
out["frames"] = sorted({kp.co[0] for fc in action.fcurves for kp in fc.keyframe_points})
forearm = []
for f in (1, 2, 3):
    scene.frame_set(f)
    a, b = (obj.matrix_world @ obj.pose.bones[n].head for n in ("LeftLowerArm", "LeftHand"))
    forearm.append(list((b - a).normalized()))
out["forearm"] = forearm
out["stop"] = sorted(bpy.ops.arpose.stop())
out["timer_after_stop"] = bpy.app.timers.is_registered(session.timer)
out["running_after_stop"] = s.running
try:
    m.pump(scene)
except m.ReceiverError as exc:
    out["pump_after_stop"] = str(exc)
s.armature = None
m.start(scene)
try:
    m.pump(scene)
except m.ArmatureError as exc:
    out["pump_without_armature"] = str(exc)
m.stop(scene)
finish(out)
"""
)


@pytest.mark.slow
def test_real_blender_without_a_window_start_uses_timers_and_pump_applies_and_records():
    """bpy as a module has no event loop: Start falls back to bpy.app.timers (its function, called
    as Blender would, pumps); pump(scene) applies every frame received, and with "Record
    keyframes" keys each at the sender's time into a new action, in each bone's rotation mode, with
    the Hips' location; the user's action is kept; Stop ends the timer; misuse is a typed error."""
    out = _run_in_blender(_IN_BLENDER_HEADLESS)
    assert out["pump_before_start"] == "not listening: press Start in the arpose panel, or call start(scene) first"
    assert out["start"] == ["FINISHED"] and out["timer_registered"] and out["running"]  # not modal: no events
    assert out["pump_idle"] == 0
    assert out["timer_returns"] == pytest.approx(1 / 60) and out["pump_after_timer"] == 0
    assert (
        out["status"].startswith("3 frames, 22 of 54 bones (humanoid)")  # the arpose armature has fingers and eyes
        and "recording into 'arpose take'" in out["status"]
    )
    assert out["take"] == "arpose take" and out["kept"]
    rotation = {p for p in out["paths"] if ".rotation_" in p}
    assert len(rotation) == 22 and 'pose.bones["LeftLowerArm"].rotation_euler' in rotation
    assert set(out["paths"]) - rotation == {'pose.bones["Hips"].location'}
    assert out["frames"] == [1.0, 2.0, 3.0]  # 1/30 s apart at 30 fps, from the scene's start frame
    for k, d in enumerate(out["forearm"]):  # Blender evaluates the keys: 30, 60, 90 degrees forward (-Y)
        a = np.radians(30 * (k + 1))
        np.testing.assert_allclose(d, [np.cos(a), -np.sin(a), 0.0], atol=1e-5)
    assert out["stop"] == ["FINISHED"] and not out["timer_after_stop"] and not out["running_after_stop"]
    assert out["pump_after_stop"].startswith("not listening")
    assert out["pump_without_armature"] == "no armature chosen: pick one in the arpose panel (Armature)"


_IN_BLENDER_MAP = (
    _PRELUDE
    + r"""
tmp = sys.argv[2]
bpy.ops.import_scene.gltf(filepath=sys.argv[3])
obj = next(o for o in scene.objects if o.type == "ARMATURE")
s.armature = obj
calls = []

class Layout:  # records what the panel draws
    def column(self):
        return self
    def prop(self, data, name):
        pass
    def operator(self, name, icon=""):
        calls.append(["operator", name])
    def label(self, text="", icon="NONE"):
        calls.append(["label", text])
    def prop_search(self, data, name, search_data, search_name, text=""):
        calls.append(["search", name, search_data == obj.data, search_name, text])

class Panel:
    layout = Layout()

out = {}
m.ARPOSE_PT_bone_map.draw(Panel(), bpy.context)
out["empty"] = calls[:]
out["auto"] = sorted(bpy.ops.arpose.auto_map())
bmap = obj.arpose_bone_map
out["filled"] = {h: getattr(bmap, h) for h in m.HUMANOID_BONES}
out["scheme"] = bmap.scheme
calls.clear()
m.ARPOSE_PT_bone_map.draw(Panel(), bpy.context)
out["drawn"] = calls[:]
path = os.path.join(tmp, "cesium.json")
out["save"] = sorted(bpy.ops.arpose.save_map(filepath=path))
out["saved"] = json.load(open(path))
bmap.LeftUpperArm = "leg_joint_L_1"  # a mistake, then the saved map back
bmap.Neck = ""
out["load"] = sorted(bpy.ops.arpose.load_map(filepath=path))
out["loaded"] = {h: getattr(bmap, h) for h in m.HUMANOID_BONES}
bad = os.path.join(tmp, "bad.json")
open(bad, "w").write('{"Hips": "x", "Tail": "y"}')
try:
    bpy.ops.arpose.load_map(filepath=bad)
    out["bad"] = "loaded"
except RuntimeError as exc:
    out["bad"] = str(exc)
out["after_bad"] = {h: getattr(bmap, h) for h in m.HUMANOID_BONES}
other = os.path.join(tmp, "other.json")
open(other, "w").write(m.map_to_json({"Hips": "Skeleton_torso_joint_1", "Head": "no_such_bone"}))
out["missing"] = m.load_map(obj, other)
finish(out)
"""
)


@pytest.mark.slow
def test_real_blender_bone_map_panel_auto_map_and_files(tmp_path, media):
    """CesiumMan as Blender imports it: the Bone map panel has a bone search field per humanoid
    bone over the armature's bones; Auto-map fills them from the names; Save writes JSON that Load
    reads back; a bad file is refused with its one-line reason and the map stays as it was; a map
    naming a bone the armature lacks loads and says which."""
    out = _run_in_blender(_IN_BLENDER_MAP, str(tmp_path), str(media / "models" / "CesiumMan.glb"))
    searches = [c for c in out["drawn"] if c[0] == "search"]
    assert [c[1] for c in searches] == [b.name for b in BONES + FINGER_BONES + EYE_BONES]
    labels = [c[1] for c in out["drawn"] if c[0] == "label"]
    assert labels[-3:] == ["Body", "Fingers", "Eyes"]
    assert all(c[2] and c[3] == "bones" and c[4] == c[1] for c in searches)
    assert ["operator", "arpose.auto_map"] in out["empty"] and ["operator", "arpose.save_map"] in out["empty"]
    assert out["auto"] == ["FINISHED"] and out["scheme"] == "cesium_man"
    filled = {h: b for h, b in out["filled"].items() if b}
    assert len(filled) == 19 and filled["LeftUpperArm"] == "Skeleton_arm_joint_L__4_"
    assert (
        out["save"] == ["FINISHED"] and out["saved"]["bones"] == filled and out["saved"]["format"] == "arpose-bone-map"
    )
    assert out["load"] == ["FINISHED"] and out["loaded"] == out["filled"]
    assert "bad.json: unknown humanoid bones Tail" in out["bad"] and "\n" not in out["bad"].strip()
    assert out["after_bad"] == out["filled"]
    assert out["missing"] == ["no_such_bone"]


_IN_BLENDER_SOLVER = (
    _PRELUDE
    + r"""
import numpy as np
from scipy.spatial.transform import Rotation as R
rng = np.random.default_rng(int(sys.argv[2]))
out = {}
for path in sys.argv[3:]:
    sc = bpy.data.scenes.new(os.path.basename(path))
    bpy.context.window.scene = sc
    bpy.ops.import_scene.gltf(filepath=path)
    obj = next(o for o in sc.objects if o.type == "ARMATURE")
    cal = m.calibrate_object(obj)
    local = {b: tuple(R.from_rotvec(rng.normal(scale=0.5, size=3)).as_quat()) for b in m.HUMANOID_BONES}
    frame = m.ReceivedFrame(local, m.IDENTITY, (0.3, -0.2, 0.9), 0.0, True)
    for feet in ("floor", "stream"):
        basis, posed = m.solve_pose(cal, frame, m._current(obj), True, feet)
        m._write(obj, basis)
        bpy.context.view_layer.update()
        errors = []
        for pb in obj.pose.bones:
            want = m.affine_apply(cal.matrix, posed[pb.name][1])
            errors.append(float(np.linalg.norm(np.subtract(obj.matrix_world @ pb.head, want))))
            q = obj.matrix_world.to_quaternion() @ pb.matrix.to_quaternion()
            w = m.qmul(cal.rotation, posed[pb.name][0])
            errors.append(abs(abs(q.w * w[3] + q.x * w[0] + q.y * w[1] + q.z * w[2]) - 1.0))
        out[f"{obj.name} {feet}"] = {"bones": len(obj.pose.bones), "driven": len(basis), "scale": cal.scale,
                                     "max_error": max(errors)}
finish(out)
"""
)


@pytest.mark.slow
def test_real_blender_evaluates_the_solved_pose_as_the_add_on_predicts(media):
    """CesiumMan (rotated -90 degrees, parented) and RobotExpressive (scaled 100, its unmapped bones
    posed by its imported animation), as Blender's glTF importer makes them: after a random pose is
    applied, Blender's own evaluation puts every bone (driven or not) where the add-on's forward
    pass said, in world (to 1e-5 of the rig's size), and turned as it said."""
    models = [str(media / "models" / f) for f in ("CesiumMan.glb", "RobotExpressive.glb")]
    out = _run_in_blender(_IN_BLENDER_SOLVER, "7", *models)
    assert sorted(out) == ["Armature floor", "Armature stream", "RobotArmature floor", "RobotArmature stream"]
    for key, r in out.items():
        assert r["driven"] == (19 if key.startswith("Armature") else 17 + 16)  # RobotExpressive: + 16 finger bones
        assert r["max_error"] < 1e-5 * max(1.0, r["scale"]), (key, r)
