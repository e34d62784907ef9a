"""`arpose run ... --vmc --vmc-avatar --vmc-trackers` on a real clip, received over loopback UDP by
the ``vmcp`` package (PyPI; its osc4py3 backend parses the OSC): every message of the run decodes
into a vmcp event, and every bone position sent is the avatar file's rest offset (the file read
independently with trimesh)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from arpose.app.cli import main
from arpose.skeleton import RIG_BONE_NAMES

CLIP = ("videos", "single_dance_woman.mp4")  # 42 frames, one dancer
MODELS = {"CesiumMan": "cesium_man", "RobotExpressive": "robot_expressive"}


def free_udp_port() -> int:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.fixture(scope="module")
def vmcp_system():
    """One vmcp OSC system (osc4py3 backend) for the module: osc4py3 keeps a process-wide
    dispatcher that cannot be started again after it terminates."""
    from vmcp.osc import OSC
    from vmcp.osc.backend.osc4py3 import as_comthreads as backend

    osc = OSC(backend)
    osc.open()
    yield osc
    osc.close()


class VmcpReceiver:
    """A vmcp receiver channel on 127.0.0.1:port collecting vmcp events, plus every raw OSC
    message osc4py3 dispatched on it (to prove none failed to become an event). Handlers only
    see their own channel's messages (vmcp filters by channel name)."""

    def __init__(self, osc, port: int) -> None:
        from vmcp.events import (
            BoneTransformEvent,
            DeviceTransformEvent,
            RelativeTimeEvent,
            RootTransformEvent,
            StateEvent,
        )
        from vmcp.facades import on_receive

        self.osc = osc
        self.events: list = []
        self.raw: list = []
        backend = osc.backend
        rx = osc.create_receiver("127.0.0.1", port, f"arpose-test-{port}").open()
        for event in (RootTransformEvent, BoneTransformEvent, DeviceTransformEvent, StateEvent, RelativeTimeEvent):
            on_receive(rx, event, self.events.append)
        # osc4py3's "*" spans "/" too: this sees every message whatever its address.
        rx.register_handler("/*", lambda *a: self.raw.append(a), backend.ARG_ADDRESS + backend.ARG_DATA)

    def pump_until(self, proc: subprocess.Popen, settle: float = 1.0) -> None:
        while proc.poll() is None:
            self.osc.run()
            time.sleep(0.001)
        end = time.monotonic() + settle
        while time.monotonic() < end:
            self.osc.run()
            time.sleep(0.005)


def run_to_vmcp(osc, args: list[str]) -> tuple[VmcpReceiver, str]:
    port = free_udp_port()
    rx = VmcpReceiver(osc, port)
    proc = subprocess.Popen(
        [sys.executable, "-m", "arpose", *args, "--no-progress", "--vmc", f"127.0.0.1:{port}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    rx.pump_until(proc)
    err = proc.stderr.read()
    assert proc.wait() == 0, err
    return rx, err


def rest_offsets(path, table) -> dict[str, np.ndarray]:
    """Each mapped node's local translation in the file, Unity axes (X mirrored)."""
    import trimesh

    scene = trimesh.load(str(path), force="scene")
    out = {}
    for bone, node in table.items():
        parent = scene.graph.transforms.parents[node]
        local = np.linalg.inv(scene.graph.get(parent)[0]) @ scene.graph.get(node)[0]
        out[bone] = local[:3, 3] * [-1.0, 1.0, 1.0]
    return out


@pytest.mark.slow
@pytest.mark.parametrize("model", [None, *sorted(MODELS)])
def test_vmcp_decodes_every_message_and_bone_positions_are_the_files(media, vmcp_system, model):
    from vmcp.events import BoneTransformEvent, DeviceTransformEvent, RelativeTimeEvent, RootTransformEvent, StateEvent

    args = ["run", str(media.joinpath(*CLIP)), "--vmc-trackers"]
    if model is not None:
        path = media / "models" / f"{model}.glb"
        args += ["--vmc-avatar", str(path)]
    rx, err = run_to_vmcp(vmcp_system, args)
    assert "42 frames" in err and "0 dropped" in err
    events = rx.events
    # Every message osc4py3 parsed became a vmcp event (vmcp raises on anything malformed).
    assert len(rx.raw) == len(events) > 0
    kinds = [type(e) for e in events]
    frames = kinds.count(RelativeTimeEvent)
    # The first half second (5 frames at 10 fps) is status only, calibrating, until the body settles.
    posed = kinds.count(RootTransformEvent)
    assert frames == 42 and kinds.count(StateEvent) == frames and posed == frames - 5
    bones = [e for e in events if isinstance(e, BoneTransformEvent)]
    trackers = [e for e in events if isinstance(e, DeviceTransformEvent)]
    # arpose's 22; CesiumMan's 19 (no shoulders, no upper chest); RobotExpressive's 15 (its feet
    # hang outside the legs and its hands are separate meshes).
    n_bones = {None: 22, "CesiumMan": 19, "RobotExpressive": 15}[model]
    assert len(bones) == posed * n_bones and len(trackers) == posed * 6
    assert len(events) == posed * (1 + n_bones + 6 + 2) + (frames - posed) * 2
    assert {t.joint for t in trackers} == {
        f"arpose_{b}" for b in ("Head", "Hips", "LeftHand", "RightHand", "LeftFoot", "RightFoot")
    }
    assert all(t.device_type.value == "Tra" and not t.is_local for t in trackers)
    states = [e for e in events if isinstance(e, StateEvent)]
    assert all(s.model_state.value == 1 and s.tracking_state.value == 1 for s in states)
    assert [s.calibration_state.value for s in states] == [2] * (frames - posed) + [3] * posed
    for e in bones + trackers + [e for e in events if isinstance(e, RootTransformEvent)]:
        values = [e.position.x, e.position.y, e.position.z, e.rotation.x, e.rotation.y, e.rotation.z, e.rotation.w]
        assert np.all(np.isfinite(values))
    if model is None:
        return
    want = rest_offsets(path, RIG_BONE_NAMES[MODELS[model]])
    for e in bones:
        name = e.joint.value
        if name != "Hips":
            got = np.array([e.position.x, e.position.y, e.position.z])
            np.testing.assert_allclose(got, want[name], rtol=1e-6, atol=1e-8, err_msg=name)


def test_avatar_options_are_one_line_errors(media, tmp_path, capsys):
    clip = str(media.joinpath(*CLIP))
    junk = tmp_path / "avatar.glb"
    junk.write_bytes(b"not a model")
    cases = [
        (["--vmc-avatar", str(junk)], "need --vmc HOST[:PORT]"),
        (["--vmc", "127.0.0.1", "--vmc-vrm", "1"], "needs --vmc-avatar FILE"),
        (["--vmc", "127.0.0.1", "--vmc-avatar", str(junk)], "not a readable glTF / VRM file"),
        (["--vmc", "127.0.0.1", "--vmc-avatar", str(tmp_path / "none.vrm")], "cannot read the file"),
    ]
    for extra, words in cases:
        assert main(["run", clip, "--no-progress", *extra]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("arpose: error:") and words in err and "\n" not in err, err
