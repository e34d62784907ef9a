"""AR props: the manifest (which bone each part is worn on, offset, rotation, scale,
occlusion), loading meshes, and posing parts on a body.

Manifest format (JSON)
----------------------
::

    {"version": 1,
     "props": {
       "crown": {"description": "gold crown",
                 "parts": [{"mesh": "crown.glb", "bone": "Head", "offset": [0, 0.075, 0.005]}]},
       "shoulders": {"parts": [
           {"mesh": "pauldron.glb", "bone": "LeftUpperArm", "offset": [0.02, 0.04, 0]},
           {"mesh": "pauldron.glb", "bone": "RightUpperArm", "offset": [-0.02, 0.04, 0],
            "rotation_deg": [0, 180, 0]}]}}}

Per part: ``mesh`` (GLB/glTF/OBJ/PLY/STL path, relative to the manifest's folder), ``bone``
(a name of :data:`arpose.skeleton.BONE_NAMES`), optional ``offset`` ``[x, y, z]`` metres in the
bone's frame (rig axes at rest: +Y up, +Z the subject's forward, +X the subject's left) for
the default 1.72 m body (scaled with the person), ``rotation_deg`` ``[x, y, z]`` extrinsic XYZ
Euler degrees or ``rotation_quat`` ``[x, y, z, w]`` (mesh to bone frame), ``scale`` (number or
``[sx, sy, sz]``), ``occludable`` (default true: the body hides the parts behind it), and
``landmarks`` (BlazePose names such as ``["left_ear", "right_ear"]``): anchor the part at
their mean instead of the bone's joint (the offset and rotation still use the bone's frame),
and ``fit`` with ``fit_width``: fit the part to the face mesh or a hand when they are seen
(``"eyes"`` on the Head: glasses on the outer eye corners and the nose bridge; ``"ring_finger"``
on LeftHand / RightHand: a ring on that hand's ring finger; :mod:`arpose.render.frames`,
:func:`part_pose`).

Meshes are modelled in the bone's rest frame with their origin at the attachment point
(see ``assets/make_props.py``). The built-in manifest is ``assets/props.json``.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np
from scipy.spatial.transform import Rotation

from ..errors import ConfigError, InputError
from ..landmarks import PoseLandmark
from ..skeleton import BONE_INDEX, BONE_NAMES
from .frames import FITS, BodyFrames

MESH_EXTENSIONS = frozenset({".glb", ".gltf", ".obj", ".ply", ".stl", ".off"})


def assets_dir() -> Path:
    """Folder of the built-in props: the repository's ``assets/`` (a checkout or an editable
        install), else ``<prefix>/share/arpose/assets`` where a wheel installs them (prefix: the
    environment's, or the user base for ``pip install --user``).
        Raises :class:`InputError` if neither holds the manifest (a broken install)."""
    import site

    share = [Path(base) / "share" / "arpose" / "assets" for base in (sys.prefix, site.getuserbase())]
    for folder in (Path(__file__).resolve().parents[2] / "assets", *share):
        if (folder / "props.json").is_file():
            return folder
    raise InputError("built-in props not found (reinstall arpose, or pass --props-manifest FILE.json)")


def builtin_manifest_path() -> Path:
    return assets_dir() / "props.json"


@dataclass(frozen=True)
class PropPart:
    """One rigid mesh worn on one bone.

    mesh: absolute path of the mesh file. bone: skeleton bone name.
    offset: ``(3,)`` metres, bone frame, default body. rotation: ``(4,)`` ``(x, y, z, w)``
    mesh frame to bone frame. scale: ``(3,)``. occludable: the body hides it where in front.
    landmarks: landmark indices whose mean anchors the part (empty: the bone's joint).
    fit: ``""`` (the bone), ``"eyes"`` or ``"ring_finger"`` (:data:`arpose.render.frames.FITS`).
    fit_width: metres of the mesh that span the fitted width (the mesh is scaled uniformly): the
        outer eye corners (``"eyes"``) or the ring finger's knuckle to its neighbours' (about a
        finger's width, ``"ring_finger"``).
    """

    mesh: str
    bone: str
    offset: tuple[float, float, float] = (0.0, 0.0, 0.0)
    rotation: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 1.0)
    scale: tuple[float, float, float] = (1.0, 1.0, 1.0)
    occludable: bool = True
    landmarks: tuple[int, ...] = ()
    fit: str = ""
    fit_width: float = 0.0

    @property
    def bone_index(self) -> int:
        return BONE_INDEX[self.bone]

    def local_matrix(self) -> np.ndarray:
        """``(4, 4)`` mesh frame to bone frame for the default body (rotation, scale, offset)."""
        m = np.eye(4)
        m[:3, :3] = Rotation.from_quat(self.rotation).as_matrix() * np.asarray(self.scale)
        m[:3, 3] = self.offset
        return m


@dataclass(frozen=True)
class Prop:
    """A named prop: one or more parts (e.g. a pauldron on each shoulder)."""

    name: str
    parts: tuple[PropPart, ...]
    description: str = ""


def _vec3(value, what: str, default) -> tuple[float, float, float]:
    if value is None:
        return default
    if isinstance(value, (int, float)):
        return (float(value),) * 3
    arr = np.asarray(value, dtype=np.float64) if isinstance(value, (list, tuple)) else None
    if arr is None or arr.shape != (3,) or not np.isfinite(arr).all():
        raise ConfigError(f"{what} must be a list of 3 finite numbers, got {value!r}")
    return tuple(float(x) for x in arr)  # type: ignore[return-value]


def _part(raw: Mapping, base: Path, where: str) -> PropPart:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: a part must be an object with 'mesh' and 'bone', got {raw!r}")
    unknown = set(raw) - {
        "mesh",
        "bone",
        "offset",
        "rotation_deg",
        "rotation_quat",
        "scale",
        "occludable",
        "landmarks",
        "fit",
        "fit_width",
    }
    if unknown:
        raise ConfigError(f"{where}: unknown field(s) {sorted(unknown)}; see docs/overlays.md for the manifest format")
    if "mesh" not in raw or "bone" not in raw:
        raise ConfigError(f"{where}: every part needs 'mesh' (a file) and 'bone' (one of {', '.join(BONE_NAMES)})")
    bone = raw["bone"]
    if bone not in BONE_INDEX:
        raise ConfigError(f"{where}: unknown bone {bone!r}; use one of {', '.join(BONE_NAMES)}")
    mesh = Path(os.path.expanduser(str(raw["mesh"])))
    mesh = mesh if mesh.is_absolute() else base / mesh
    if mesh.suffix.lower() not in MESH_EXTENSIONS:
        raise ConfigError(f"{where}: mesh {mesh.name!r} must be one of {', '.join(sorted(MESH_EXTENSIONS))}")
    if not mesh.is_file():
        raise InputError(f"{where}: mesh file not found: {mesh} (paths are relative to the manifest's folder)")
    if "rotation_deg" in raw and "rotation_quat" in raw:
        raise ConfigError(f"{where}: give rotation_deg or rotation_quat, not both")
    if "rotation_quat" in raw:
        q = np.asarray(raw["rotation_quat"], dtype=np.float64)
        if q.shape != (4,) or not np.isfinite(q).all() or np.linalg.norm(q) < 1e-9:
            raise ConfigError(f"{where}: rotation_quat must be 4 numbers (x, y, z, w), got {raw['rotation_quat']!r}")
        rotation = tuple(Rotation.from_quat(q).as_quat())
    else:
        rotation = tuple(
            Rotation.from_euler(
                "xyz", _vec3(raw.get("rotation_deg"), f"{where}: rotation_deg", (0.0, 0.0, 0.0)), degrees=True
            ).as_quat()
        )
    scale = _vec3(raw.get("scale"), f"{where}: scale", (1.0, 1.0, 1.0))
    if min(scale) <= 0:
        raise ConfigError(f"{where}: scale must be positive, got {raw.get('scale')!r}")
    occludable = raw.get("occludable", True)
    if not isinstance(occludable, bool):
        raise ConfigError(f"{where}: occludable must be true or false, got {occludable!r}")
    lms: list[int] = []
    for name in raw.get("landmarks", []) or []:
        try:
            lms.append(int(PoseLandmark[str(name).upper()]))
        except KeyError:
            raise ConfigError(f"{where}: unknown landmark {name!r}; use BlazePose names such as 'left_ear'") from None
    fit = raw.get("fit", "") or ""
    if fit not in ("", *FITS):
        raise ConfigError(f"{where}: fit must be one of {', '.join(FITS)}, got {fit!r}")
    if fit == "eyes" and bone != "Head":
        raise ConfigError(f"{where}: fit 'eyes' needs bone 'Head', got {bone!r}")
    if fit == "ring_finger" and bone not in ("LeftHand", "RightHand"):
        raise ConfigError(f"{where}: fit 'ring_finger' needs bone 'LeftHand' or 'RightHand', got {bone!r}")
    fit_width = raw.get("fit_width", 0.0)
    if fit and (isinstance(fit_width, bool) or not isinstance(fit_width, (int, float)) or not fit_width > 0):
        raise ConfigError(f"{where}: fit {fit!r} needs fit_width, the mesh's width in metres (> 0), got {fit_width!r}")
    return PropPart(
        str(mesh),
        bone,
        _vec3(raw.get("offset"), f"{where}: offset", (0.0, 0.0, 0.0)),
        rotation,
        scale,
        occludable,
        tuple(lms),
        str(fit),
        float(fit_width) if fit else 0.0,
    )  # type: ignore[arg-type]


def parse_manifest(data: Mapping, base: Path, source: str = "manifest") -> dict[str, Prop]:
    """Props from a parsed manifest (see the module docstring). ``base``: folder mesh paths
    are relative to. Raises :class:`ConfigError` / :class:`InputError` naming the bad entry."""
    if not isinstance(data, Mapping) or not isinstance(data.get("props"), Mapping):
        raise ConfigError(f"{source}: expected an object with a 'props' object, see docs/overlays.md")
    out: dict[str, Prop] = {}
    for name, entry in data["props"].items():
        where = f"{source}: prop {name!r}"
        if not isinstance(entry, Mapping):
            raise ConfigError(f"{where}: must be an object with 'parts'")
        if "," in name or not name.strip():
            raise ConfigError(f"{where}: prop names must be non-empty and contain no commas")
        raw_parts = entry.get("parts")
        if raw_parts is None and "mesh" in entry:  # a single part given inline
            raw_parts = [{k: v for k, v in entry.items() if k != "description"}]
        if not isinstance(raw_parts, list) or not raw_parts:
            raise ConfigError(f"{where}: needs a non-empty 'parts' list")
        parts = tuple(_part(p, base, f"{where} part {i}") for i, p in enumerate(raw_parts))
        out[name] = Prop(name, parts, str(entry.get("description", "")))
    return out


def load_manifest(path: str | os.PathLike | None = None, include_builtin: bool = True) -> dict[str, Prop]:
    """The built-in props, plus (overriding by name) those of the manifest at ``path``."""
    props: dict[str, Prop] = {}
    sources = ([builtin_manifest_path()] if include_builtin else []) + ([Path(path)] if path else [])
    for p in sources:
        p = Path(p)
        if not p.is_file():
            raise InputError(f"props manifest not found: {p}")
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ConfigError(f"props manifest {p} is not valid JSON: {exc}") from None
        props.update(parse_manifest(data, p.parent, str(p)))
    return props


def select_props(names: str | Iterable[str] | None, available: Mapping[str, Prop]) -> list[Prop]:
    """Props by name: a comma-separated string or a list; ``"all"`` selects every prop;
    empty or None selects none. Raises :class:`ConfigError` for unknown names."""
    if names is None:
        return []
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",")]
    names = [n for n in names if n]
    if names == ["all"]:
        return list(available.values())
    unknown = [n for n in names if n not in available]
    if unknown:
        raise ConfigError(f"unknown prop(s) {', '.join(unknown)}; available: {', '.join(available)} (or 'all')")
    return [available[n] for n in dict.fromkeys(names)]


def part_pose(frames: BodyFrames, part: PropPart, fitted: tuple[np.ndarray, float] | None = None) -> np.ndarray | None:
    """``(4, 4)`` mesh-to-*world* matrix of ``part`` on a body, or None if its bone (or
    anchor landmarks) is unknown. Offsets and sizes scale with ``frames.scale``.

    fitted: for a part with a ``fit``, the frame it is fitted to and the width to span
    (:func:`arpose.render.frames.eyes_frame` / :func:`~arpose.render.frames.ring_finger_frame`,
    *world*): the mesh's origin goes on the frame's origin, turned by the part's rotation into
    the frame's axes, uniformly scaled so ``fit_width`` spans ``width`` (the part's ``offset``
    and ``scale`` are not used). Without it an ``"eyes"`` part falls back to its bone and a
    ``"ring_finger"`` part is hidden (None: the hand is not seen)."""
    if part.fit and fitted is not None:
        frame, width = fitted
        m = np.eye(4)
        m[:3, :3] = frame[:3, :3] @ Rotation.from_quat(part.rotation).as_matrix() * (width / part.fit_width)
        m[:3, 3] = frame[:3, 3]
        return m
    if part.fit == "ring_finger":
        return None
    b = part.bone_index
    if not frames.valid(b):
        return None
    r_bone = Rotation.from_quat(frames.rotations[b]).as_matrix()
    anchor = frames.positions[b]
    if part.landmarks:
        if frames.landmarks is None:
            return None
        anchor = frames.landmarks[list(part.landmarks)].mean(axis=0)
        if not np.isfinite(anchor).all():
            return None
    local = part.local_matrix()
    m = np.eye(4)
    m[:3, :3] = r_bone @ local[:3, :3] * frames.scale
    m[:3, 3] = anchor + r_bone @ local[:3, 3] * frames.scale
    return m


#: Lighting modes: ``"baked"`` shades each vertex once, at load, from a fixed key light in
#: the prop's own frame (then drawn unlit: a quarter of the fragment cost on a CPU
#: rasteriser); ``"dynamic"`` uses pyrender's physically based shading with lights at the camera.
LIGHTING = ("baked", "dynamic")
#: Baked key light, prop (bone) frame: in front, above and to the subject's left.
BAKE_LIGHT = np.array([0.35, 0.6, 1.0]) / np.linalg.norm([0.35, 0.6, 1.0])
BAKE_AMBIENT = 0.45
BAKE_DIFFUSE = 0.7


class MeshCache:
    """Loads each mesh file once as a pyrender mesh plus its ``(8, 3)`` bounding-box corners
    (mesh frame), for the renderer. lighting: one of :data:`LIGHTING`. Needs pyrender
    (imported on first use)."""

    def __init__(self, lighting: str = "baked") -> None:
        if lighting not in LIGHTING:
            raise ConfigError(f"lighting must be one of {', '.join(LIGHTING)}, got {lighting!r}")
        self.lighting = lighting
        self._cache: dict[str, tuple[object, np.ndarray]] = {}  # path + copy name -> mesh

    def get(self, path: str, copy: str = ""):
        """``(mesh, corners)`` of ``path``; a different ``copy`` name gives a separate mesh object
        for the same file (the renderer keeps occludable and on-top uses apart)."""
        key = f"{path}\0{copy}"
        if key not in self._cache:
            self._cache[key] = load_render_mesh(path, self.lighting)
        return self._cache[key]


def _material_of(mesh) -> tuple[float, float, bool]:
    """(metallic, roughness, double-sided) of a trimesh mesh's material (defaults if none)."""
    mat = getattr(mesh.visual, "material", None)
    metallic = getattr(mat, "metallicFactor", None)
    roughness = getattr(mat, "roughnessFactor", None)
    return (
        float(metallic) if metallic is not None else 0.0,
        float(roughness) if roughness is not None else 0.6,
        bool(getattr(mat, "doubleSided", False)),
    )


def bake_lighting(mesh):
    """A copy of trimesh ``mesh`` whose vertex colours carry its base colour (material factor,
    texture or colours) shaded by :data:`BAKE_LIGHT`: ambient + Lambert diffuse, plus a
    Blinn-Phong highlight for metals (viewer along +Z). Double-sided materials are lit on
    both faces. Vertices are unshared first, so each face keeps its own normal."""
    import trimesh

    metallic, roughness, double = _material_of(mesh)
    base = None
    mat = getattr(mesh.visual, "material", None)
    if (
        getattr(mesh.visual, "kind", None) == "texture"
        and getattr(mat, "baseColorTexture", None) is None
        and getattr(mat, "baseColorFactor", None) is not None
    ):
        base = np.tile(np.asarray(mat.baseColorFactor, dtype=np.float64), (len(mesh.faces), 1))
    else:
        try:
            colours = mesh.visual.to_color().face_colors if mesh.visual.kind == "texture" else mesh.visual.face_colors
            base = np.asarray(colours, dtype=np.float64)
        except Exception:  # an unusual visual: fall back to grey
            base = np.full((len(mesh.faces), 4), 200.0)
    flat = trimesh.Trimesh(
        mesh.vertices[mesh.faces].reshape(-1, 3), np.arange(3 * len(mesh.faces)).reshape(-1, 3), process=False
    )
    n = mesh.face_normals
    ndl = n @ BAKE_LIGHT
    ndl = np.abs(ndl) if double else np.clip(ndl, 0.0, None)
    half = BAKE_LIGHT + np.array([0.0, 0.0, 1.0])
    half /= np.linalg.norm(half)
    shininess = float(np.clip(2.0 / (roughness**2 + 1e-3) - 2.0, 4.0, 128.0))
    ndh = np.abs(n @ half) if double else np.clip(n @ half, 0.0, None)
    spec = metallic * 0.8 * ndh**shininess * 255.0
    rgb = base[:, :3] * (BAKE_AMBIENT + BAKE_DIFFUSE * ndl)[:, None] + spec[:, None]
    rgba = np.concatenate([np.clip(rgb, 0, 255), base[:, 3:4]], axis=1).round().astype(np.uint8)
    flat.visual = trimesh.visual.ColorVisuals(flat, vertex_colors=np.repeat(rgba, 3, axis=0))
    return flat, double


def render_mesh(meshes: list, lighting: str = "baked"):
    """A pyrender mesh from trimesh meshes: materials kept (``"dynamic"``) or lighting baked
    into vertex colours for unlit drawing (``"baked"``, see :func:`bake_lighting`)."""
    import pyrender

    from . import gl  # noqa: F401  (headless EGL set-up, before pyrender)

    if lighting == "dynamic":
        return pyrender.Mesh.from_trimesh(meshes, smooth=False)
    prims = []
    for m in meshes:
        baked, double = bake_lighting(m)
        mesh = pyrender.Mesh.from_trimesh(baked, smooth=False)
        for prim in mesh.primitives:
            prim.material.doubleSided = double
            prims.append(prim)
    return pyrender.Mesh(prims)


def load_render_mesh(path: str, lighting: str = "baked"):
    """``(pyrender.Mesh, corners (8, 3))`` from a GLB/glTF/OBJ/... file (materials: glTF
    metallic-roughness factors and textures, OBJ colours). Raises InputError."""
    import trimesh

    try:
        loaded = trimesh.load(path, force="scene")
        meshes = [g for g in loaded.dump(concatenate=False) if isinstance(g, trimesh.Trimesh) and len(g.faces)]
    except Exception as exc:  # trimesh raises many types for broken files
        raise InputError(f"cannot load prop mesh {path}: {exc}") from None
    if not meshes:
        raise InputError(f"prop mesh {path} has no triangles")
    return render_mesh(meshes, lighting), box_corners(meshes)


def box_corners(meshes: list) -> np.ndarray:
    """``(8, 3)`` corners of the axis-aligned box around trimesh ``meshes`` (their frame)."""
    lo = np.min([m.bounds[0] for m in meshes], axis=0)
    hi = np.max([m.bounds[1] for m in meshes], axis=0)
    return np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])])


def describe(props: Sequence[Prop]) -> str:
    """One line per prop: ``name: description (bones)`` (for help and error messages)."""
    return "\n".join(f"{p.name}: {p.description} ({', '.join(dict.fromkeys(x.bone for x in p.parts))})" for p in props)
