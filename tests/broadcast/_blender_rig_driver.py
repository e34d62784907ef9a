"""Run inside real ``bpy`` (a subprocess of the tests): import glTF rigs with Blender's own
importer, one scene each, register the arpose add-on, and for each job stream VMC into every
scene over loopback UDP while calling the add-on's ``pump(scene)`` with "Record keyframes" on;
then play each recorded take back frame by frame (``scene.frame_set``, Blender's own
evaluation) and report world positions.

    python _blender_rig_driver.py ADDON JOBS_JSON MODEL [MODEL ...]

The sender sends to one port; a relay here copies each datagram, unchanged, to every scene's
receiver (so one run of the pipeline drives every rig). Jobs: ``{"kind": "truth", "motion":
NAME, "seconds": S[, "feet": "floor" | "stream"]}`` sends the performer's ground truth through arpose's real VMC sender
(``VmcSink``, default stream) frame by frame; ``{"kind": "command", "argv": [...]}`` runs an
arpose command whose ``PORT`` arguments are replaced by the sender's port (``arpose run ...
--vmc 127.0.0.1:PORT``) and pumps until it exits. Prints one JSON line: per model its bone map,
scale, floor and per job the frames applied, the status line, the recorded take and frames,
and per frame the world positions of the Hips joint, each wrist (the Hand joint, or the mean of
the lower arm's child joints when the rig has no hand) and the foot and toe joints, plus their
rest positions.
"""

import importlib.util
import json
import os
import socket
import subprocess
import sys
import time

import bpy

SIDES = ("Left", "Right")


def free_port() -> int:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Relay:
    """A UDP socket on a free loopback port forwarding every datagram to ``ports``."""

    def __init__(self, ports):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]
        self.ports = ports
        self.datagrams = 0

    def forward(self):
        while True:
            try:
                data = self.sock.recv(65535)
            except BlockingIOError:
                return
            self.datagrams += 1
            for p in self.ports:
                self.sock.sendto(data, ("127.0.0.1", p))

    def close(self):
        self.sock.close()


def pump_all(m, scenes, relay):
    relay.forward()
    return [m.pump(sc) for sc in scenes]


def send_truth(m, scenes, relay, motion, seconds):
    import numpy as np

    from arpose.broadcast.vmc import VmcSink
    from arpose.performer import PerformerSource
    from arpose.retarget.body import BodyPose
    from arpose.types import Frame, Person, PoseFrame

    src = PerformerSource(motion, seconds=seconds)
    truth = src.truth
    floor = -src.placement.camera_height  # the stage floor in world
    sink = VmcSink("127.0.0.1", relay.port)
    image = np.zeros((2, 2, 3), np.uint8)
    applied = [0] * len(scenes)
    try:
        for k in range(len(truth)):
            body = BodyPose(
                truth.local_rotations[k],
                truth.root_position[k],
                truth.joint_positions[k],
                truth.offsets,
                np.ones(len(truth.offsets)),
                floor_height=floor,
            )
            person = Person(0, np.full((33, 5), 0.5, np.float32), np.zeros((33, 3), np.float32), 0.9, body=body)
            sink.write(PoseFrame(Frame(image, float(truth.timestamps[k]), k), (person,)))
            end = time.monotonic() + 2.0
            got = [0] * len(scenes)
            while min(got) == 0 and time.monotonic() < end:  # every scene has this frame
                got = [a + b for a, b in zip(got, pump_all(m, scenes, relay))]
                time.sleep(0.0005)
            applied = [a + b for a, b in zip(applied, got)]
    finally:
        sink.close()
    return applied


def run_command(m, scenes, relay, argv):
    argv = [a.replace("PORT", str(relay.port)) for a in argv]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    applied = [0] * len(scenes)
    while proc.poll() is None:
        applied = [a + b for a, b in zip(applied, pump_all(m, scenes, relay))]
        time.sleep(0.005)
    end = time.monotonic() + 0.5
    while time.monotonic() < end:
        applied = [a + b for a, b in zip(applied, pump_all(m, scenes, relay))]
        time.sleep(0.01)
    err = proc.stderr.read().decode(errors="replace")
    if proc.returncode != 0:
        raise SystemExit(f"{argv} exited {proc.returncode}: {err[-1500:]}")
    return applied


def setup_model(m, scene, model):
    """Import ``model`` into ``scene`` (Blender's glTF importer, default options) and choose its
    armature for the receiver; returns the armature and its calibration."""
    bpy.context.window.scene = scene
    bpy.ops.import_scene.gltf(filepath=model)
    arm = next(o for o in scene.objects if o.type == "ARMATURE")
    scene.render.fps, scene.render.fps_base, scene.frame_start = 30, 1.0, 1
    s = scene.arpose_receiver
    s.armature, s.record = arm, True
    return arm, m.calibrate_object(arm)  # fills the empty bone map from the names, as Start does


def points(arm, cal, get_head):
    """World positions of the measured joints, ``get_head(bone name)`` in armature space."""
    mw = arm.matrix_world
    out = {"Hips": list(mw @ get_head(cal.mapping["Hips"]))}
    for side in SIDES:
        if side + "Hand" in cal.mapping:
            wrist = get_head(cal.mapping[side + "Hand"])
        else:
            kids = [c.name for c in arm.data.bones[cal.mapping[side + "LowerArm"]].children]
            wrist = sum((get_head(c) for c in kids[1:]), get_head(kids[0])) / len(kids)
        out[side + "Wrist"] = list(mw @ wrist)
        for b in ("Foot", "Toes"):
            if side + b in cal.mapping:
                out[side + b] = list(mw @ get_head(cal.mapping[side + b]))
    return out


def main():
    addon, jobs, models = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3:]
    spec = importlib.util.spec_from_file_location("arpose_vmc_receiver", addon)
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    m.register()
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scenes, rigs, reports = [], [], []
    for i, model in enumerate(models):
        scene = bpy.context.scene if i == 0 else bpy.data.scenes.new(os.path.basename(model))
        arm, cal = setup_model(m, scene, model)
        scenes.append(scene)
        rigs.append((arm, cal))
        reports.append(
            {
                "model": os.path.basename(model),
                "armature": arm.name,
                "matrix_world": [list(r) for r in arm.matrix_world],
                "mapping": cal.mapping,
                "scheme": arm.arpose_bone_map.scheme,
                "scale": cal.scale,
                "floor": cal.floor,
                "rest": points(arm, cal, lambda n, arm=arm: arm.data.bones[n].head_local),
                "jobs": [],
            }
        )
    for job in jobs:
        ports = []
        for scene in scenes:
            scene.arpose_receiver.feet = job.get("feet", "floor").upper()
            scene.arpose_receiver.port = free_port()
            m.start(scene)
            ports.append(scene.arpose_receiver.port)
        relay = Relay(ports)
        t0 = time.perf_counter()
        try:
            if job["kind"] == "truth":
                applied = send_truth(m, scenes, relay, job["motion"], job["seconds"])
            else:
                applied = run_command(m, scenes, relay, job["argv"])
        finally:
            relay.close()
        seconds = time.perf_counter() - t0
        for scene, (arm, cal), report, n in zip(scenes, rigs, reports, applied):
            status = scene.arpose_receiver.status
            m.stop(scene)
            bpy.context.window.scene = scene
            action = arm.animation_data.action
            keyed = sorted({fc.data_path for fc in action.fcurves})
            frames = sorted({int(round(kp.co[0])) for fc in action.fcurves for kp in fc.keyframe_points})
            per_frame = []
            for f in frames:
                scene.frame_set(f)
                per_frame.append(points(arm, cal, lambda name, arm=arm: arm.pose.bones[name].head))
            report["jobs"].append(
                {
                    "job": job,
                    "applied": n,
                    "datagrams": relay.datagrams,
                    "seconds": seconds,
                    "status": status,
                    "take": action.name,
                    "keyed": keyed,
                    "frames": frames,
                    "points": {k: [p[k] for p in per_frame] for k in per_frame[0]} if per_frame else {},
                }
            )
    for report in reports:
        report["kept_actions"] = sorted(a.name for a in bpy.data.actions if a.use_fake_user)
    print(json.dumps(reports))
    sys.stdout.flush()
    # bpy 4.5 as a module can hang in its exit handlers after an import; the work is done.
    os._exit(0)


if __name__ == "__main__":
    main()
