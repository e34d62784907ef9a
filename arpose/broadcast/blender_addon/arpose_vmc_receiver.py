"""arpose live receiver for Blender: drives an armature from the VMC protocol or the arpose raw
OSC stream, live, over UDP. One file, no dependencies (it carries its own OSC parser).

Install: Edit > Preferences > Add-ons > Install... > pick this file > enable "arpose live
receiver". Then in the 3D viewport's sidebar (N) > arpose tab: "Create arpose armature" (or pick
any T-pose armature whose bones use Unity HumanBodyBones names: Hips, Spine, LeftUpperArm ...),
set the port (39539 for ``arpose run ... --vmc 127.0.0.1``, 9000 for ``--osc 127.0.0.1``),
press Start. Stop ends listening (the pose stays).

Security: the receiver has no authentication, so it listens on 127.0.0.1 (this computer only)
unless another address is typed in "Listen on" on purpose; the panel then shows a warning.
It never shares its port (no ``SO_REUSEADDR``): a port another program holds is refused with
a message. Datagrams are bounded (:data:`MAX_PACKET_BYTES`, bundles nested at most
:data:`MAX_BUNDLE_DEPTH` deep); a datagram that is not valid OSC is counted in
``UdpReceiver.bad_packets`` and skipped, and no datagram can stop the receiver.

Frames: Blender is right-handed, Z up, a character faces -Y (its left is +X). VMC values are in
Unity's frame (left-handed, Y up, +Z forward, +X the avatar's right); the raw stream's bones are
in arpose's rig frame (right-handed, Y up, +Z forward, +X the subject's left). Quaternions in
this file are tuples ``(x, y, z, w)``; mathutils' ``(w, x, y, z)`` only at the bpy boundary.

Everything above the ``bpy`` section is pure Python and imports without Blender (tests run it).
"""

import errno
import math
import socket
import struct

bl_info = {
    "name": "arpose live receiver (VMC / OSC)",
    "author": "arpose",
    "version": (0, 1, 0),
    "blender": (2, 93, 0),
    "location": "View3D > Sidebar > arpose",
    "description": "Drive an armature live from arpose's VMC or raw OSC stream (UDP)",
    "category": "Animation",
}

try:  # Blender only; the pure part below works without it.
    import bpy
    from mathutils import Quaternion, Vector
except ImportError:  # pragma: no cover - outside Blender
    bpy = None

# --------------------------------------------------------------------------------------------
# The arpose skeleton (copy of arpose.skeleton.BONES; a test keeps them equal).
# name, parent, rest offset from the parent joint (rig frame, metres), end-site offset (leaves).
# --------------------------------------------------------------------------------------------
SKELETON = (
    ("Hips", None, (0.0, 0.93, 0.0), None),
    ("Spine", "Hips", (0.0, 0.1, 0.0), None),
    ("Chest", "Spine", (0.0, 0.125, 0.0), None),
    ("UpperChest", "Chest", (0.0, 0.125, 0.0), None),
    ("Neck", "UpperChest", (0.0, 0.15, 0.0), None),
    ("Head", "Neck", (0.0, 0.17, 0.0), (0.0, 0.13, 0.0)),
    ("LeftShoulder", "UpperChest", (0.0285, 0.15, 0.0), None),
    ("LeftUpperArm", "LeftShoulder", (0.1615, 0.0, 0.0), None),
    ("LeftLowerArm", "LeftUpperArm", (0.28, 0.0, 0.0), None),
    ("LeftHand", "LeftLowerArm", (0.25, 0.0, 0.0), (0.08, 0.0, 0.0)),
    ("RightShoulder", "UpperChest", (-0.0285, 0.15, 0.0), None),
    ("RightUpperArm", "RightShoulder", (-0.1615, 0.0, 0.0), None),
    ("RightLowerArm", "RightUpperArm", (-0.28, 0.0, 0.0), None),
    ("RightHand", "RightLowerArm", (-0.25, 0.0, 0.0), (-0.08, 0.0, 0.0)),
    ("LeftUpperLeg", "Hips", (0.09, 0.0, 0.0), None),
    ("LeftLowerLeg", "LeftUpperLeg", (0.0, -0.43, 0.0), None),
    ("LeftFoot", "LeftLowerLeg", (0.0, -0.42, 0.0), None),
    ("LeftToes", "LeftFoot", (0.0, -0.06, 0.105), (0.0, 0.0, 0.055)),
    ("RightUpperLeg", "Hips", (-0.09, 0.0, 0.0), None),
    ("RightLowerLeg", "RightUpperLeg", (0.0, -0.43, 0.0), None),
    ("RightFoot", "RightLowerLeg", (0.0, -0.42, 0.0), None),
    ("RightToes", "RightFoot", (0.0, -0.06, 0.105), (0.0, 0.0, 0.055)),
)
PARENT = {name: parent for name, parent, _, _ in SKELETON}
STANDARD_HIP_HEIGHT = SKELETON[0][2][1]
IDENTITY = (0.0, 0.0, 0.0, 1.0)

# --------------------------------------------------------------------------------------------
# Minimal OSC 1.0 parser (messages and nested bundles).
# --------------------------------------------------------------------------------------------


#: The largest datagram parsed: the largest UDP payload over IPv4.
MAX_PACKET_BYTES = 65507
#: How deep bundles may nest (senders use one level, sometimes two).
MAX_BUNDLE_DEPTH = 8


class OscError(ValueError):
    """A datagram that is not valid OSC (or exceeds the bounds above): the only error
    :func:`parse_packet` raises."""


class ReceiverError(Exception):
    """The receiver cannot listen (port in use, address not of this computer ...); the
    message says what to do."""


def _read_string(data: bytes, i: int) -> tuple[str, int]:
    end = data.find(b"\x00", i)
    if end < 0:
        raise OscError("unterminated OSC string")
    s = data[i:end].decode("utf-8", "replace")
    return s, (end + 4) & ~3


def parse_message(data: bytes) -> tuple[str, tuple]:
    """One OSC message -> ``(address, args)``. Types: i f s d h T F N b (blob as bytes)."""
    address, i = _read_string(data, 0)
    if not address.startswith("/"):
        raise OscError(f"not an OSC address: {address!r}")
    if i >= len(data):
        return address, ()
    tags, i = _read_string(data, i)
    if not tags.startswith(","):
        raise OscError("missing OSC type tags")
    args = []
    try:
        for t in tags[1:]:
            if t == "i":
                args.append(struct.unpack_from(">i", data, i)[0])
                i += 4
            elif t == "f":
                args.append(struct.unpack_from(">f", data, i)[0])
                i += 4
            elif t == "s":
                s, i = _read_string(data, i)
                args.append(s)
            elif t == "d":
                args.append(struct.unpack_from(">d", data, i)[0])
                i += 8
            elif t == "h":
                args.append(struct.unpack_from(">q", data, i)[0])
                i += 8
            elif t == "b":
                n = struct.unpack_from(">i", data, i)[0]
                if n < 0 or i + 4 + n > len(data):
                    raise OscError("truncated OSC blob")
                args.append(bytes(data[i + 4 : i + 4 + n]))
                i += 4 + ((n + 3) & ~3)
            elif t in "TF":
                args.append(t == "T")
            elif t == "N":
                args.append(None)
            else:
                raise OscError(f"unsupported OSC type tag {t!r}")
    except struct.error:
        raise OscError("truncated OSC message") from None
    return address, tuple(args)


def parse_packet(data: bytes) -> list:
    """A datagram (message or bundle, nested bundles flattened in order) -> ``[(address, args)]``.

    Raises :class:`OscError` (and nothing else) if it is not valid OSC, is larger than
    :data:`MAX_PACKET_BYTES` or nests bundles deeper than :data:`MAX_BUNDLE_DEPTH`.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise OscError(f"an OSC datagram is bytes, got {type(data).__name__}")
    if len(data) > MAX_PACKET_BYTES:
        raise OscError(f"datagram of {len(data)} bytes is larger than {MAX_PACKET_BYTES}")
    data = bytes(data)
    out = []
    _parse_element(data, 0, len(data), 0, out)
    return out


def _parse_element(data: bytes, start: int, end: int, depth: int, out: list) -> None:
    """Append the messages of the element ``data[start:end]`` to ``out`` (bundles by offset,
    not by copying, so a datagram costs time in proportion to its size)."""
    if not data.startswith(b"#bundle\x00", start, end):
        out.append(parse_message(data[start:end]))
        return
    if depth >= MAX_BUNDLE_DEPTH:
        raise OscError(f"OSC bundles nested deeper than {MAX_BUNDLE_DEPTH}")
    i = start + 16
    if i > end:
        raise OscError("truncated OSC bundle")
    while i + 4 <= end:
        n = struct.unpack_from(">i", data, i)[0]
        if n < 0 or i + 4 + n > end:
            raise OscError("truncated OSC bundle")
        _parse_element(data, i + 4, i + 4 + n, depth + 1, out)
        i += 4 + n


# --------------------------------------------------------------------------------------------
# Frames and quaternions (x, y, z, w).
# --------------------------------------------------------------------------------------------


def unity_to_blender_vec(v):
    """Unity (left-handed, Y up, +Z forward, +X right) -> Blender (Z up, forward -Y, +X left of
    a character facing the viewer): ``(x, y, z) -> (-x, -z, y)``."""
    return (-v[0], -v[2], v[1])


def unity_to_blender_quat(q):
    """Unity rotation -> Blender: ``(x, y, z, w) -> (x, z, -y, w)`` (un-mirror X, then +90 deg about X)."""
    return (q[0], q[2], -q[1], q[3])


def rig_to_blender_vec(v):
    """arpose rig frame (right-handed, Y up, +Z forward, +X subject's left) -> Blender: a
    +90 deg turn about X, ``(x, y, z) -> (x, -z, y)``."""
    return (v[0], -v[2], v[1])


def rig_to_blender_quat(q):
    return (q[0], -q[2], q[1], q[3])


def qmul(a, b):
    ax, ay, az, aw = a
    bx, by, bz, bw = b
    return (
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
        aw * bw - ax * bx - ay * by - az * bz,
    )


def qconj(q):
    return (-q[0], -q[1], -q[2], q[3])


def qnormalize(q):
    n = math.sqrt(sum(c * c for c in q))
    if not (n > 1e-9) or n != n:
        return IDENTITY
    return tuple(c / n for c in q)


def qrotate(q, v):
    x, y, z, _ = qmul(qmul(q, (v[0], v[1], v[2], 0.0)), qconj(q))
    return (x, y, z)


def global_rotations(local, root_rotation=IDENTITY):
    """``{bone: local rotation}`` (parent-relative, T-pose = identity, any one frame's axes) ->
    ``{bone: global rotation}`` by walking :data:`SKELETON`; missing bones count as identity."""
    out = {}
    for name, parent, _, _ in SKELETON:
        q = qnormalize(local.get(name, IDENTITY))
        out[name] = qmul(out[parent] if parent else root_rotation, q)
    return out


def pose_basis(global_q, parent_global_q, rest_q):
    """Blender pose-bone rotation (bone space) that gives a bone the global rotation
    ``global_q`` (T-pose relative, armature axes), when its nearest driven ancestor has
    ``parent_global_q`` and its rest orientation (``bone.matrix_local``) is ``rest_q``:
    ``rest^-1 * parent^-1 * global * rest``."""
    return qnormalize(qmul(qmul(qconj(rest_q), qmul(qconj(parent_global_q), global_q)), rest_q))


def pose_location(target_head, rest_head, rest_q):
    """Root pose-bone location (bone space) moving its head from ``rest_head`` to
    ``target_head`` (armature space, metres)."""
    d = tuple(t - r for t, r in zip(target_head, rest_head))
    return qrotate(qconj(rest_q), d)


def rest_joints_blender():
    """``{bone: (head, tail)}`` of the arpose T-pose in Blender axes (metres; feet at z ~ 0).
    Tails point at the first child's head, or along the end site for leaves."""
    heads, children = {}, {}
    for name, parent, off, _ in SKELETON:
        o = rig_to_blender_vec(off)
        heads[name] = o if parent is None else tuple(a + b for a, b in zip(heads[parent], o))
        if parent:
            children.setdefault(parent, []).append(name)
    out = {}
    for name, _, _, end in SKELETON:
        if name in children:
            tail = heads[children[name][0]]
        else:
            tail = tuple(a + b for a, b in zip(heads[name], rig_to_blender_vec(end)))
        out[name] = (heads[name], tail)
    return out


def _finite_or(v, fallback):
    """``v`` if all its components are finite numbers, else ``fallback`` (a position received
    as NaN or infinity keeps the previous one)."""
    return v if all(math.isfinite(c) for c in v) else fallback


class PoseState:
    """The latest pose received, in Blender axes.

    ``local``: ``{bone: local rotation (x, y, z, w)}``; ``root_rotation``; ``hips_target``:
    the Hips head in armature space (VMC: root + Hips local position; raw: rest head plus the
    displacement since the first frame), or None. ``frames`` counts completed frames.
    """

    def __init__(self, person: int = 0):
        self.person = person
        self.local = {}
        self.root_position = (0.0, 0.0, 0.0)
        self.root_rotation = IDENTITY
        self.hips_local_position = None
        self.hips_target = None
        self._raw_origin = None
        self.frames = 0
        self.messages = 0
        self.tracking = None
        self.timestamp = None  # sender's time of the latest frame, seconds

    def handle(self, address: str, args: tuple) -> None:
        """Apply one OSC message (VMC or arpose raw); unknown addresses are ignored."""
        self.messages += 1
        try:
            if address == "/VMC/Ext/Bone/Pos":
                name = args[0]
                self.local[name] = qnormalize(unity_to_blender_quat(args[4:8]))
                if name == "Hips":
                    self.hips_local_position = _finite_or(unity_to_blender_vec(args[1:4]), self.hips_local_position)
                    self._update_vmc_hips()
            elif address == "/VMC/Ext/Root/Pos":
                self.root_position = _finite_or(unity_to_blender_vec(args[1:4]), self.root_position)
                self.root_rotation = qnormalize(unity_to_blender_quat(args[4:8]))
                self._update_vmc_hips()
            elif address == "/VMC/Ext/OK" and len(args) >= 4:
                self.tracking = bool(args[3])
            elif address == "/VMC/Ext/T":
                self.timestamp = float(args[0])
                self.frames += 1
            elif address == "/arpose/frame":
                self.timestamp = float(args[1])
            elif address == "/arpose/frame/end":
                self.frames += 1
            elif address == "/arpose/person/bone" and args[0] == self.person:
                self.local[args[1]] = qnormalize(rig_to_blender_quat(args[2:6]))
            elif address == "/arpose/person/root" and args[0] == self.person:
                p = rig_to_blender_vec(args[1:4])
                if all(math.isfinite(c) for c in p):
                    if self._raw_origin is None:
                        self._raw_origin = p
                    hips_rest = rest_joints_blender()["Hips"][0]
                    self.hips_target = tuple(h + a - o for h, a, o in zip(hips_rest, p, self._raw_origin))
        except (IndexError, TypeError, ValueError, OverflowError):
            pass  # a malformed message from some other sender: ignore it

    def _update_vmc_hips(self):
        if self.hips_local_position is not None:
            off = qrotate(self.root_rotation, self.hips_local_position)
            self.hips_target = tuple(a + b for a, b in zip(self.root_position, off))


DEFAULT_HOST = "127.0.0.1"


def is_loopback(host: str) -> bool:
    """True if ``host`` only accepts datagrams from this computer (127.x.x.x, localhost, ::1)."""
    h = host.strip().lower()
    return h == "localhost" or h == "::1" or h.startswith("127.")


def listen_warning(host: str):
    """The panel's warning for a listening address other than this computer's loopback, or
    ``None`` for a loopback address."""
    if is_loopback(host):
        return None
    where = "every network interface" if host.strip() in ("", "0.0.0.0") else host.strip()
    return f"listening on {where}: anyone on the network can move the armature"


class UdpReceiver:
    """Non-blocking UDP socket on ``(host, port)`` (loopback by default, port never shared);
    :meth:`poll` drains it into a PoseState.

    ``bad_packets`` counts datagrams that were skipped (not valid OSC, over the bounds, or
    failing in any other way); ``last_error`` says why the latest one was.
    Raises :class:`ReceiverError` if it cannot listen.
    """

    def __init__(self, port: int, host: str = DEFAULT_HOST, person: int = 0):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            if hasattr(socket, "SO_EXCLUSIVEADDRUSE"):  # Windows: nobody else may bind it either
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_EXCLUSIVEADDRUSE, 1)
            self.sock.bind((host, port))
        except OSError as exc:
            self.sock.close()
            raise ReceiverError(_bind_message(exc, host, port)) from None
        self.sock.setblocking(False)
        self.state = PoseState(person)
        self.bad_packets = 0
        self.last_error = None

    def poll(self, max_packets: int = 1000) -> int:
        """Read every waiting datagram (at most ``max_packets``); returns how many were read.
        Never raises for what a datagram holds."""
        n = 0
        while n < max_packets:
            try:
                data = self.sock.recv(65535)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                break
            n += 1
            try:
                for address, args in parse_packet(data):
                    self.state.handle(address, args)
            except Exception as exc:  # OscError, or anything a crafted datagram provokes
                self.bad_packets += 1
                self.last_error = f"{type(exc).__name__}: {exc}"[:200]
        return n

    def close(self):
        self.sock.close()


def _bind_message(exc: OSError, host: str, port: int) -> str:
    if exc.errno in (errno.EADDRINUSE, getattr(errno, "WSAEADDRINUSE", -1)) or getattr(exc, "winerror", None) == 10048:
        return f"port {port} is in use by another program (close it, or choose another port)"
    if exc.errno in (errno.EADDRNOTAVAIL, getattr(errno, "WSAEADDRNOTAVAIL", -1)):
        return f"{host} is not an address of this computer (use {DEFAULT_HOST} for this computer only)"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"not allowed to listen on port {port} (choose a port above 1023)"
    if isinstance(exc, socket.gaierror):
        return f"unknown address {host!r} (use {DEFAULT_HOST} for this computer only)"
    return f"cannot listen on {host}:{port}: {exc.strerror or exc}"


# --------------------------------------------------------------------------------------------
# Blender (bpy) part.
# --------------------------------------------------------------------------------------------


def _wxyz(q):
    return (q[3], q[0], q[1], q[2])


def _xyzw(q):
    return (q.x, q.y, q.z, q.w)


def solve_armature(state: PoseState, bones, move_root: bool = True) -> dict:
    """Pose-bone values for an armature from ``state`` (pure; :func:`apply_to_armature` uses it).

    bones: ``[(name, parent name or None, rest rotation (x, y, z, w), rest head (3,))]`` in
        armature space (``bone.matrix_local``, ``bone.head_local``), any bone order. Bones whose
        names were not received are left alone; a driven bone's parent is its nearest driven
        ancestor, so an armature may lack some bones (e.g. UpperChest) or add others.
    Returns ``{name: (rotation_quaternion (x, y, z, w), location (3,) or None)}``.
    """
    globals_ = global_rotations(state.local, state.root_rotation)
    parent_of = {b[0]: b[1] for b in bones}
    out = {}
    for name, parent, rest_q, rest_head in bones:
        if name not in state.local:
            continue
        ancestor = parent
        while ancestor is not None and ancestor not in state.local:
            ancestor = parent_of.get(ancestor)
        parent_q = globals_[ancestor] if ancestor is not None else IDENTITY
        loc = None
        if name == "Hips" and ancestor is None and move_root and state.hips_target is not None:
            # Targets are for the standard body; scale them to this armature's hip height.
            k = rest_head[2] / STANDARD_HIP_HEIGHT if rest_head[2] > 0.1 else 1.0
            loc = pose_location(tuple(k * c for c in state.hips_target), rest_head, rest_q)
        out[name] = (pose_basis(globals_[name], parent_q, rest_q), loc)
    return out


def record_frame(start_time, timestamp, fps: float, frame_start: int) -> int:
    """Timeline frame for a received frame: ``frame_start`` at the first recorded timestamp,
    then the sender's time in scene frames (so recording follows real time, not poll rate)."""
    if start_time is None or timestamp is None:
        return frame_start
    return frame_start + int(round((timestamp - start_time) * fps))


def keyframe_armature(obj, names, frame: int) -> None:
    """Insert rotation (and Hips location) keyframes for the bones ``names`` at ``frame``."""
    for name in names:
        pb = obj.pose.bones[name]
        pb.keyframe_insert("rotation_quaternion", frame=frame)
        if name == "Hips":
            pb.keyframe_insert("location", frame=frame)


def apply_to_armature(obj, state: PoseState, move_root: bool = True) -> list:
    """Pose ``obj`` (a Blender armature object) from ``state``; returns the driven bones' names."""
    bones = [
        (b.name, b.parent.name if b.parent else None, _xyzw(b.matrix_local.to_quaternion()), tuple(b.head_local))
        for b in obj.data.bones
    ]
    solved = solve_armature(state, bones, move_root)
    for name, (q, loc) in solved.items():
        pb = obj.pose.bones[name]
        pb.rotation_mode = "QUATERNION"
        pb.rotation_quaternion = Quaternion(_wxyz(q))
        if loc is not None:
            pb.location = Vector(loc)
    return list(solved)


if bpy is not None:  # pragma: no cover - needs Blender

    def _armature_poll(self, obj):
        return obj.type == "ARMATURE"

    class ArposeReceiverSettings(bpy.types.PropertyGroup):
        armature: bpy.props.PointerProperty(name="Armature", type=bpy.types.Object, poll=_armature_poll)
        port: bpy.props.IntProperty(
            name="Port", default=39539, min=1, max=65535, description="UDP port: 39539 for --vmc, 9000 for --osc"
        )
        host: bpy.props.StringProperty(
            name="Listen on",
            default=DEFAULT_HOST,
            description="Address to listen on: 127.0.0.1 is this computer only; another address (0.0.0.0: every "
            "interface) lets anyone on that network move the armature",
        )
        person: bpy.props.IntProperty(
            name="Person id", default=0, min=0, description="Raw stream only: which person drives the armature"
        )
        move_root: bpy.props.BoolProperty(
            name="Move hips", default=True, description="Translate the Hips, not only rotate the bones"
        )
        record: bpy.props.BoolProperty(
            name="Record keyframes",
            default=False,
            description="Also keyframe every received frame, from the scene's start frame, timed by the sender's clock",
        )
        running: bpy.props.BoolProperty(default=False)
        status: bpy.props.StringProperty(default="stopped")

    class ARPOSE_OT_create_armature(bpy.types.Operator):
        """Add an armature with arpose's skeleton in T-pose (HumanBodyBones names)"""

        bl_idname = "arpose.create_armature"
        bl_label = "Create arpose armature"
        bl_options = {"REGISTER", "UNDO"}

        def execute(self, context):
            data = bpy.data.armatures.new("arpose")
            obj = bpy.data.objects.new("arpose", data)
            context.collection.objects.link(obj)
            context.view_layer.objects.active = obj
            bpy.ops.object.mode_set(mode="EDIT")
            joints = rest_joints_blender()
            for name, parent, _, _ in SKELETON:
                eb = data.edit_bones.new(name)
                eb.head, eb.tail = joints[name]
                if parent:
                    eb.parent = data.edit_bones[parent]
            bpy.ops.object.mode_set(mode="OBJECT")
            context.scene.arpose_receiver.armature = obj
            return {"FINISHED"}

    class ARPOSE_OT_start(bpy.types.Operator):
        """Listen on the port and drive the armature until Stop"""

        bl_idname = "arpose.start"
        bl_label = "Start"

        _timer = None
        _rx = None
        _t0 = None

        def execute(self, context):
            s = context.scene.arpose_receiver
            if s.armature is None:
                self.report({"ERROR"}, "pick an armature first (or Create arpose armature)")
                return {"CANCELLED"}
            try:
                self._rx = UdpReceiver(s.port, s.host, s.person)
            except ReceiverError as exc:
                self.report({"ERROR"}, str(exc))
                return {"CANCELLED"}
            s.running, s.status = True, f"listening on {s.host}:{s.port}"
            wm = context.window_manager
            self._timer = wm.event_timer_add(1.0 / 60.0, window=context.window)
            wm.modal_handler_add(self)
            return {"RUNNING_MODAL"}

        def modal(self, context, event):
            s = context.scene.arpose_receiver
            if not s.running or s.armature is None:
                self.cancel(context)
                return {"CANCELLED"}
            if event.type == "TIMER" and self._rx.poll():
                st = self._rx.state
                st.person = s.person
                names = apply_to_armature(s.armature, st, s.move_root)
                if s.record and names:
                    scene = context.scene
                    if self._t0 is None:
                        self._t0 = st.timestamp
                    fps = scene.render.fps / scene.render.fps_base
                    keyframe_armature(s.armature, names, record_frame(self._t0, st.timestamp, fps, scene.frame_start))
                s.status = (
                    f"{st.frames} frames, {len(names)} bones"
                    + ("" if st.tracking in (None, True) else ", tracking lost")
                    + (f", {self._rx.bad_packets} bad packets skipped" if self._rx.bad_packets else "")
                )
            return {"PASS_THROUGH"}

        def cancel(self, context):
            context.window_manager.event_timer_remove(self._timer)
            self._rx.close()
            s = context.scene.arpose_receiver
            s.running, s.status = False, "stopped"

    class ARPOSE_OT_stop(bpy.types.Operator):
        """Stop listening (the armature keeps its last pose)"""

        bl_idname = "arpose.stop"
        bl_label = "Stop"

        def execute(self, context):
            context.scene.arpose_receiver.running = False
            return {"FINISHED"}

    class ARPOSE_PT_panel(bpy.types.Panel):
        bl_label = "arpose live"
        bl_idname = "ARPOSE_PT_panel"
        bl_space_type = "VIEW_3D"
        bl_region_type = "UI"
        bl_category = "arpose"

        def draw(self, context):
            s = context.scene.arpose_receiver
            col = self.layout.column()
            col.prop(s, "armature")
            col.operator("arpose.create_armature", icon="ARMATURE_DATA")
            col.prop(s, "host")
            warning = listen_warning(s.host)
            if warning:
                col.label(text=warning, icon="ERROR")
            col.prop(s, "port")
            col.prop(s, "person")
            col.prop(s, "move_root")
            col.prop(s, "record")
            if s.running:
                col.operator("arpose.stop", icon="PAUSE")
            else:
                col.operator("arpose.start", icon="PLAY")
            col.label(text=s.status)

    _CLASSES = (ArposeReceiverSettings, ARPOSE_OT_create_armature, ARPOSE_OT_start, ARPOSE_OT_stop, ARPOSE_PT_panel)


def register():
    if bpy is None:
        raise RuntimeError("the arpose receiver add-on runs inside Blender")
    for cls in _CLASSES:
        bpy.utils.register_class(cls)
    bpy.types.Scene.arpose_receiver = bpy.props.PointerProperty(type=ArposeReceiverSettings)


def unregister():
    if bpy is None:
        return
    del bpy.types.Scene.arpose_receiver
    for cls in reversed(_CLASSES):
        bpy.utils.unregister_class(cls)


if __name__ == "__main__":  # pragma: no cover - run from Blender's text editor
    register()
