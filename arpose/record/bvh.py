"""BVH (Biovision Hierarchy) motion files: a reader with forward kinematics, and a writer
for the humanoid skeleton of :mod:`arpose.skeleton`.

Conventions (both directions)
-----------------------------
* ``CHANNELS`` give each joint's own Euler order: ``Zrotation Xrotation Yrotation`` means the
  local rotation is ``R = Rz @ Rx @ Ry`` applied to column vectors (intrinsic rotations in
  the listed order; scipy ``Rotation.from_euler("ZXY", [z, x, y], degrees=True)``). Angles
  are degrees.
* A joint's local translation is its ``OFFSET``; position channels (``Xposition`` ...), when
  present, replace the matching offset component (the root's position channels give its
  position in the file's world frame, as Blender's importer reads them).
* ``global_rotation[j] = global_rotation[parent] * local_rotation[j]`` and
  ``position[j] = position[parent] + global_rotation[parent].apply(translation[j])``.
* Quaternions are ``(x, y, z, w)``. Positions are in the file's units (the writer writes
  metres in the rig frame of :mod:`arpose.skeleton`: right-handed, +Y up, +Z the subject's
  forward, +X the subject's left).
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from ..errors import InputError

ROTATION_CHANNELS = ("Xrotation", "Yrotation", "Zrotation")
POSITION_CHANNELS = ("Xposition", "Yposition", "Zposition")
_VALID_CHANNELS = frozenset(ROTATION_CHANNELS + POSITION_CHANNELS)
_TOKEN = re.compile(r"\{|\}|[^\s{}]+")


@dataclass(frozen=True)
class BvhJoint:
    """One joint of a BVH hierarchy.

    name: the joint's name. parent: index of the parent joint in :attr:`BvhData.joints`
    (-1 for the root). offset: ``(3,)`` float64, file units, the joint relative to its
    parent at rest (parent's frame). channels: channel names in file order.
    channel_start: column of the first channel in :attr:`BvhData.motion`.
    end_site: ``(3,)`` float64 End Site offset (file units, this joint's frame) or ``None``.
    """

    name: str
    parent: int
    offset: np.ndarray
    channels: tuple[str, ...]
    channel_start: int
    end_site: np.ndarray | None = None

    @property
    def rotation_order(self) -> str:
        """The rotation channels' axes in file order, e.g. ``"ZXY"`` (empty if none)."""
        return "".join(c[0] for c in self.channels if c in ROTATION_CHANNELS)


@dataclass(frozen=True)
class BvhData:
    """A parsed BVH file.

    joints: every joint in declaration order (parents before children).
    frame_time: seconds per frame (``Frame Time``).
    motion: ``(F, C)`` float64, one row per frame, channels in file order (``C`` = the sum
    of every joint's channel count; rotations in degrees, positions in file units).
    """

    joints: tuple[BvhJoint, ...]
    frame_time: float
    motion: np.ndarray

    @property
    def num_frames(self) -> int:
        return int(self.motion.shape[0])

    @property
    def num_channels(self) -> int:
        return int(self.motion.shape[1])

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(j.name for j in self.joints)

    @property
    def parents(self) -> np.ndarray:
        """``(J,)`` parent indices (-1 for the root)."""
        return np.array([j.parent for j in self.joints], dtype=np.intp)

    @property
    def fps(self) -> float:
        return 1.0 / self.frame_time

    def index(self, name: str) -> int:
        """Index of the joint called ``name``. Raises :class:`KeyError` if absent."""
        for i, j in enumerate(self.joints):
            if j.name == name:
                return i
        raise KeyError(name)


def _fail(path: Path | str, what: str) -> InputError:
    return InputError(f"not a valid BVH file: {path}: {what}")


def parse_bvh(text: str, source: str = "<string>") -> BvhData:
    """Parse BVH text (see :func:`read_bvh`). ``source`` names the text in error messages."""
    body = text.lstrip("\ufeff \t\r\n")
    if not body.startswith("HIERARCHY"):
        raise _fail(source, "it does not start with HIERARCHY (is it a BVH motion file?)")
    split = re.search(r"^\s*MOTION\s*$", body, flags=re.MULTILINE)
    if split is None:
        raise _fail(source, "no MOTION section (the file is truncated or not a BVH file)")
    tokens = _TOKEN.findall(body[len("HIERARCHY") : split.start()])
    joints = _parse_hierarchy(tokens, source)
    _, frame_time, motion = _parse_motion(body[split.end() :], sum(len(j.channels) for j in joints), source)
    return BvhData(joints=tuple(joints), frame_time=frame_time, motion=motion)


def _parse_hierarchy(tokens: list[str], source: str) -> list[BvhJoint]:
    joints: list[BvhJoint] = []
    pos = 0
    n_channels = 0

    def expect(word: str) -> None:
        nonlocal pos
        if pos >= len(tokens) or tokens[pos] != word:
            got = tokens[pos] if pos < len(tokens) else "end of hierarchy"
            raise _fail(source, f"expected {word!r} in HIERARCHY, got {got!r}")
        pos += 1

    def numbers(k: int, what: str) -> np.ndarray:
        nonlocal pos
        try:
            vals = np.array([float(t) for t in tokens[pos : pos + k]], dtype=np.float64)
        except ValueError:
            raise _fail(source, f"{what} needs {k} numbers, got {' '.join(tokens[pos : pos + k])!r}") from None
        if vals.size != k or not np.all(np.isfinite(vals)):
            raise _fail(source, f"{what} needs {k} finite numbers")
        pos += k
        return vals

    def joint(parent: int) -> None:
        nonlocal pos, n_channels
        name_tokens = []
        while pos < len(tokens) and tokens[pos] != "{":
            name_tokens.append(tokens[pos])
            pos += 1
        name = " ".join(name_tokens)
        if not name:
            raise _fail(source, "a joint has no name")
        expect("{")
        expect("OFFSET")
        offset = numbers(3, f"OFFSET of {name}")
        channels: tuple[str, ...] = ()
        start = n_channels
        if pos < len(tokens) and tokens[pos] == "CHANNELS":
            pos += 1
            try:
                k = int(tokens[pos])
            except (IndexError, ValueError):
                raise _fail(source, f"CHANNELS of {name} needs a count") from None
            pos += 1
            channels = tuple(tokens[pos : pos + k])
            bad = [c for c in channels if c not in _VALID_CHANNELS]
            if len(channels) != k or bad or len(set(channels)) != k:
                raise _fail(
                    source,
                    f"CHANNELS of {name} must list {k} distinct names from "
                    f"{', '.join(sorted(_VALID_CHANNELS))}, got {' '.join(channels)!r}",
                )
            pos += k
            n_channels += k
        index = len(joints)
        joints.append(BvhJoint(name, parent, offset, channels, start))
        end_site = None
        while pos < len(tokens) and tokens[pos] != "}":
            word = tokens[pos]
            if word == "JOINT":
                pos += 1
                joint(index)
            elif word == "End":
                pos += 1
                expect("Site")
                expect("{")
                expect("OFFSET")
                end_site = numbers(3, f"End Site OFFSET of {name}")
                expect("}")
            else:
                raise _fail(source, f"unexpected {word!r} inside joint {name}")
        expect("}")
        if end_site is not None:
            j = joints[index]
            joints[index] = BvhJoint(j.name, j.parent, j.offset, j.channels, j.channel_start, end_site)

    expect("ROOT")
    joint(-1)
    if pos != len(tokens):
        raise _fail(source, f"unexpected {tokens[pos]!r} after the root joint (only one ROOT is supported)")
    return joints


def _parse_motion(text: str, n_channels: int, source: str) -> tuple[int, float, np.ndarray]:
    lines = text.splitlines()
    header: dict[str, str] = {}
    i = 0
    while i < len(lines) and len(header) < 2:
        line = lines[i].strip()
        i += 1
        if not line:
            continue
        m = re.match(r"^(Frames|Frame Time)\s*:\s*(\S+)\s*$", line)
        if m is None:
            raise _fail(source, f"expected 'Frames:' and 'Frame Time:' after MOTION, got {line[:40]!r}")
        header[m.group(1)] = m.group(2)
    if "Frames" not in header or "Frame Time" not in header:
        raise _fail(source, "MOTION lacks 'Frames:' or 'Frame Time:' (the file is truncated)")
    try:
        frames = int(header["Frames"])
        frame_time = float(header["Frame Time"])
    except ValueError:
        raise _fail(source, f"bad Frames / Frame Time values {header['Frames']!r} / {header['Frame Time']!r}") from None
    if frames < 0 or not (math.isfinite(frame_time) and frame_time > 0):
        raise _fail(source, f"Frames must be >= 0 and Frame Time > 0, got {frames} and {frame_time}")
    rows = [ln for ln in lines[i:] if ln.strip()]
    if len(rows) < frames:
        raise InputError(
            f"BVH file is truncated: {source}: the header says {frames} frames but only {len(rows)} "
            f"motion lines follow (re-export or re-copy the file)"
        )
    if len(rows) > frames:
        raise _fail(source, f"the header says {frames} frames but {len(rows)} motion lines follow")
    motion = np.empty((frames, n_channels), dtype=np.float64)
    for f, row in enumerate(rows):
        vals = row.split()
        if len(vals) != n_channels:
            what = "truncated" if f == frames - 1 and len(vals) < n_channels else "malformed"
            raise InputError(
                f"BVH file is {what}: {source}: motion line {f + 1} has {len(vals)} values, the hierarchy "
                f"declares {n_channels} channels"
            )
        try:
            motion[f] = [float(v) for v in vals]
        except ValueError:
            raise _fail(source, f"motion line {f + 1} holds a value that is not a number") from None
    if not np.all(np.isfinite(motion)):
        raise _fail(source, "the motion holds NaN or infinite values")
    return frames, frame_time, motion


def read_input_bytes(path: Path, what: str) -> bytes:
    """The bytes of an input file; :class:`InputError` naming ``what`` ("BVH file", "take")
    if it is missing, a folder or unreadable."""
    if not path.exists():
        raise InputError(f"{what} not found: {path} (check the path)")
    if path.is_dir():
        raise InputError(f"expected a {what}, got a folder: {path}")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {what}: {path} ({exc.strerror})") from None


def read_bvh(path: str | os.PathLike[str]) -> BvhData:
    """Read a BVH file.

    Returns :class:`BvhData` (joints with name, parent index, offset ``(3,)``, channels and
    End Site offset; ``frame_time`` in seconds; ``motion`` ``(F, C)`` float64 in file channel
    order, degrees and file units).

    Raises :class:`InputError` if the file is missing, unreadable, not a BVH file, malformed,
    or truncated (fewer motion lines or values than the header declares).
    """
    p = Path(path)
    raw = read_input_bytes(p, "BVH file")
    if not raw.strip():
        raise InputError(f"BVH file is empty: {p}")
    if b"\x00" in raw[:4096]:
        raise _fail(p, "it is a binary file (is it a BVH motion file?)")
    return parse_bvh(raw.decode("utf-8", errors="replace"), source=str(p))


def local_transforms(data: BvhData) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame local translations ``(F, J, 3)`` (file units, parent frame) and local
    rotations ``(F, J, 4)`` ``(x, y, z, w)`` of every joint, honouring each joint's channel
    order (see the module doc)."""
    n = data.num_frames
    trans = np.empty((n, len(data.joints), 3))
    rots = np.empty((n, len(data.joints), 4))
    for j, joint in enumerate(data.joints):
        trans[:, j] = joint.offset
        axes, cols = [], []
        for k, ch in enumerate(joint.channels):
            col = joint.channel_start + k
            if ch in POSITION_CHANNELS:
                trans[:, j, POSITION_CHANNELS.index(ch)] = data.motion[:, col]
            else:
                axes.append(ch[0])
                cols.append(col)
        if axes:
            rots[:, j] = Rotation.from_euler("".join(axes).upper(), data.motion[:, cols], degrees=True).as_quat()
        else:
            rots[:, j] = (0.0, 0.0, 0.0, 1.0)
    return trans, rots


def bvh_fk(data: BvhData) -> tuple[np.ndarray, np.ndarray]:
    """Forward kinematics of every frame.

    Returns ``(positions, rotations)``: ``positions`` ``(F, J, 3)`` float64 global joint
    positions in file units and the file's world frame; ``rotations`` ``(F, J, 4)`` global
    joint rotations ``(x, y, z, w)``.
    """
    trans, local = local_transforms(data)
    n, nj = trans.shape[:2]
    pos = np.empty((n, nj, 3))
    grot: list[Rotation] = []
    for j, joint in enumerate(data.joints):
        r = Rotation.from_quat(local[:, j]) if n else Rotation.identity(0)
        if joint.parent < 0:
            grot.append(r)
            pos[:, j] = trans[:, j]
        else:
            gp = grot[joint.parent]
            grot.append(gp * r if n else r)
            pos[:, j] = pos[:, joint.parent] + (gp.apply(trans[:, j]) if n else 0.0)
    rot = np.stack([g.as_quat().reshape(n, 4) for g in grot], axis=1) if n else np.empty((0, nj, 4))
    return pos, rot


def end_site_positions(data: BvhData, positions: np.ndarray, rotations: np.ndarray) -> dict[int, np.ndarray]:
    """Global End Site positions ``{joint index: (F, 3)}`` from :func:`bvh_fk`'s output."""
    out = {}
    for j, joint in enumerate(data.joints):
        if joint.end_site is not None:
            out[j] = positions[:, j] + Rotation.from_quat(rotations[:, j]).apply(joint.end_site)
    return out


# ----------------------------------------------------------------------------- writing

#: Euler order of the rotation channels the writer emits (``R = Rz @ Rx @ Ry``).
WRITE_ORDER = "ZXY"


def _fmt3(v: np.ndarray) -> str:
    return " ".join(f"{x:.6f}" for x in v)


def _joint_tree(fingers: bool = False) -> tuple[tuple[str, ...], tuple[tuple[int, ...], ...]]:
    """Names and children of the written skeleton: the body's :data:`arpose.skeleton.BONES`
    (indices ``0 .. B-1``) and, with ``fingers``, the 30 :data:`arpose.skeleton.FINGER_BONES`
    after them (indices ``B .. B+29``), the proximal bones children of ``LeftHand`` /
    ``RightHand``."""
    from ..skeleton import BONE_NAMES, CHILDREN, FINGER_BONES, NUM_BONES

    if not fingers:
        return BONE_NAMES, CHILDREN
    names = BONE_NAMES + tuple(b.name for b in FINGER_BONES)
    index = {n: i for i, n in enumerate(names)}
    children = [list(c) for c in CHILDREN] + [[] for _ in FINGER_BONES]
    for k, b in enumerate(FINGER_BONES):
        children[index[b.parent]].append(NUM_BONES + k)
    return names, tuple(tuple(c) for c in children)


def skeleton_hierarchy(offsets: np.ndarray, end_offsets: np.ndarray, fingers: bool = False) -> str:
    """The ``HIERARCHY`` section of the humanoid skeleton of :mod:`arpose.skeleton`.

    offsets: ``(B, 3)`` rest offsets, metres, rig frame (T-pose, +Y up, +Z forward); the
    root's is its rest position. end_offsets: ``(B, 3)`` End Site offsets for leaf bones (NaN
    rows for the others). The root has 6 channels (positions, then ZXY rotations); every
    other joint 3 (``Zrotation Xrotation Yrotation``).
    fingers: ``offsets`` and ``end_offsets`` are ``(B + 30, 3)``, the body's then the finger
    bones' (:data:`arpose.skeleton.FINGER_BONES` order; End Sites at the distal bones'
    fingertips); the finger chains hang under ``LeftHand`` / ``RightHand``, which then have no
    End Site.
    """
    names, children = _joint_tree(fingers)

    rot = " ".join(f"{a}rotation" for a in WRITE_ORDER)
    lines = ["HIERARCHY"]

    def emit(i: int, depth: int) -> None:
        pad = "  " * depth
        kind = "ROOT" if depth == 0 else "JOINT"
        lines.append(f"{pad}{kind} {names[i]}")
        lines.append(f"{pad}{{")
        lines.append(f"{pad}  OFFSET {_fmt3(offsets[i])}")
        if depth == 0:
            lines.append(f"{pad}  CHANNELS 6 Xposition Yposition Zposition {rot}")
        else:
            lines.append(f"{pad}  CHANNELS 3 {rot}")
        for c in children[i]:
            emit(c, depth + 1)
        if not children[i]:
            end = end_offsets[i]
            if not np.all(np.isfinite(end)) or np.linalg.norm(end) < 1e-4:
                raise ValueError(f"leaf bone {names[i]} needs a non-zero End Site offset")
            lines.extend([f"{pad}  End Site", f"{pad}  {{", f"{pad}    OFFSET {_fmt3(end)}", f"{pad}  }}"])
        lines.append(f"{pad}}}")

    emit(0, 0)
    return "\n".join(lines) + "\n"


def declaration_order(fingers: bool = False) -> list[int]:
    """Bone indices in the depth-first order :func:`skeleton_hierarchy` declares them (with
    ``fingers``, finger bone ``k`` is index ``B + k``)."""
    _, children = _joint_tree(fingers)
    order: list[int] = []

    def visit(i: int) -> None:
        order.append(i)
        for c in children[i]:
            visit(c)

    visit(0)
    return order


def euler_channels(local_rotations: np.ndarray) -> np.ndarray:
    """``(F, B, 4)`` local quaternions ``(x, y, z, w)`` to ``(F, B, 3)`` degrees in
    :data:`WRITE_ORDER` (Z, X, Y), unwrapped over frames so no channel jumps by 360."""
    q = np.asarray(local_rotations, dtype=np.float64)
    f, b = q.shape[:2]
    eul = Rotation.from_quat(q.reshape(-1, 4)).as_euler(WRITE_ORDER, degrees=True).reshape(f, b, 3)
    if f > 1:
        eul = np.degrees(np.unwrap(np.radians(eul), axis=0))
    return eul


def body_scale(offsets: np.ndarray) -> float:
    """The person's size relative to :data:`arpose.skeleton.REST_OFFSETS`: the median ratio of
    their bone lengths to the default's (1 if that is not a positive number). End Sites and
    finger bones are scaled by it."""
    from ..skeleton import REST_OFFSETS

    off = np.asarray(offsets, dtype=np.float64)
    rest_len = np.linalg.norm(REST_OFFSETS[1:], axis=1)
    scale = float(np.median(np.linalg.norm(off[1:], axis=1)[rest_len > 0] / rest_len[rest_len > 0]))
    return scale if math.isfinite(scale) and scale > 0 else 1.0


def skeleton_bvh_text(
    local_rotations: np.ndarray,
    root_positions: np.ndarray,
    frame_time: float,
    offsets: np.ndarray | None = None,
    end_offsets: np.ndarray | None = None,
    finger_rotations: np.ndarray | None = None,
) -> str:
    """A whole BVH file for the humanoid skeleton.

    local_rotations: ``(F, B, 4)`` quaternions ``(x, y, z, w)``, each bone relative to its
    parent, identity = T-pose rest (the root's relative to the rig / world frame).
    root_positions: ``(F, 3)`` metres, the Hips joint in the rig / world frame (+Y up).
    frame_time: seconds per frame. offsets: ``(B, 3)`` rest offsets (default
    :data:`arpose.skeleton.REST_OFFSETS`). end_offsets: ``(B, 3)`` End Sites (default the
    skeleton's, scaled like ``offsets``, :func:`body_scale`).
    finger_rotations: ``(F, 30, 4)`` local rotations ``(x, y, z, w)`` of the finger bones
    (:data:`arpose.skeleton.FINGER_BONES` order, rig frame, identity = the rest hand, as
    ``Person.fingers.local_rotations``), or None for the body alone (the file is then exactly
    what it was before fingers existed). The finger bones' offsets and fingertip End Sites are
    :data:`arpose.skeleton.FINGER_REST_OFFSETS` and the skeleton's ends times
    :func:`body_scale`. Raises ``ValueError`` on NaN or bad shapes.
    """
    from ..skeleton import END_OFFSETS, FINGER_BONES, FINGER_REST_OFFSETS, NUM_BONES, NUM_FINGER_BONES, REST_OFFSETS

    q = np.asarray(local_rotations, dtype=np.float64)
    root = np.asarray(root_positions, dtype=np.float64)
    if q.ndim != 3 or q.shape[1:] != (NUM_BONES, 4) or root.shape != (q.shape[0], 3):
        raise ValueError(
            f"expected (F, {NUM_BONES}, 4) rotations and (F, 3) root positions, got {q.shape} and {root.shape}"
        )
    if not (np.all(np.isfinite(q)) and np.all(np.isfinite(root))):
        raise ValueError("rotations and root positions must be finite (fill missing frames first)")
    if not (math.isfinite(frame_time) and frame_time > 0):
        raise ValueError(f"frame_time must be > 0, got {frame_time}")
    off = REST_OFFSETS if offsets is None else np.asarray(offsets, dtype=np.float64)
    scale = body_scale(off)
    if end_offsets is None:
        end_offsets = END_OFFSETS * scale
    ends = np.asarray(end_offsets, dtype=np.float64)
    fingers = finger_rotations is not None
    if fingers:
        fq = np.asarray(finger_rotations, dtype=np.float64)
        if fq.shape != (q.shape[0], NUM_FINGER_BONES, 4) or not np.all(np.isfinite(fq)):
            raise ValueError(f"expected finite (F, {NUM_FINGER_BONES}, 4) finger rotations, got {fq.shape}")
        q = np.concatenate([q, fq], axis=1)
        off = np.concatenate([off, FINGER_REST_OFFSETS * scale])
        finger_ends = np.array([b.end if b.end else (np.nan,) * 3 for b in FINGER_BONES], dtype=np.float64)
        ends = np.concatenate([ends, finger_ends * scale])
    eul = euler_channels(q)[:, declaration_order(fingers)]  # columns in the HIERARCHY's (depth-first) order
    motion = np.concatenate([root, eul.reshape(q.shape[0], -1)], axis=1)
    rows = "\n".join(" ".join(f"{v:.6f}" for v in row) for row in motion)
    return (
        skeleton_hierarchy(off, ends, fingers)
        + f"MOTION\nFrames: {q.shape[0]}\nFrame Time: {frame_time:.8f}\n"
        + rows
        + ("\n" if rows else "")
    )


def write_text_atomic(path: Path, text: str, force: bool = True) -> Path:
    """Write ``text`` to ``path`` through :class:`arpose.record.output.PendingOutput` (as
    ``NAME.partial.EXT``, then renamed), so a failure never leaves half a file. Empty text
    writes nothing. Raises :class:`arpose.errors.OutputError`."""
    from ..errors import OutputError
    from .output import PendingOutput

    pending = PendingOutput(path, force=force)
    try:
        with pending.open("w", newline="\n") as fh:
            fh.write(text)
    except OSError as exc:
        pending.discard()
        raise OutputError(f"cannot write {path} ({exc.strerror})") from None
    return pending.finish(1 if text else 0).path


def write_bvh(
    path: str | os.PathLike[str],
    local_rotations: np.ndarray,
    root_positions: np.ndarray,
    frame_time: float,
    offsets: np.ndarray | None = None,
    force: bool = False,
) -> Path:
    """Write :func:`skeleton_bvh_text` to ``path`` (atomically). Raises
    :class:`arpose.errors.OutputError` if it exists without ``force`` or cannot be written."""
    return write_text_atomic(
        Path(path), skeleton_bvh_text(local_rotations, root_positions, frame_time, offsets), force=force
    )
