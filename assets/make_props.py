"""Generate arpose's built-in AR props as GLB files (trimesh) and their manifest.

Run from the repository root::

    python assets/make_props.py            # writes assets/*.glb and assets/props.json

The outputs live beside this script in ``assets/``, which installs as the package
``arpose.assets`` (package data), so an installed ``arpose`` finds them; this script is the one
source they are made from.

Modelling convention (what the manifest's offsets and rotations assume)
-----------------------------------------------------------------------
Each prop is modelled in its bone's frame at the skeleton's T-pose rest
(:mod:`arpose.skeleton`): metres, right-handed, +Y up, +Z the subject's forward, +X the
subject's left, for the default 1.72 m body. The mesh origin is the prop's attachment point;
the manifest's ``offset`` puts that point relative to the bone's joint (bone frame, metres).
Materials are glTF metallic-roughness factors (no textures), so files stay a few kB.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import trimesh
from trimesh.visual.material import PBRMaterial

OUT = Path(__file__).resolve().parent


def _material(rgba, metallic=0.0, roughness=0.6, double_sided=False, name="m") -> PBRMaterial:
    return PBRMaterial(name=name, baseColorFactor=[int(round(255 * c)) for c in rgba], metallicFactor=metallic,
                       roughnessFactor=roughness, doubleSided=double_sided)


def _paint(mesh: trimesh.Trimesh, material: PBRMaterial) -> trimesh.Trimesh:
    mesh = mesh.copy()
    mesh.visual = trimesh.visual.TextureVisuals(material=material)
    return mesh


def _T(x=0.0, y=0.0, z=0.0) -> np.ndarray:
    return trimesh.transformations.translation_matrix([x, y, z])


def _R(deg, axis) -> np.ndarray:
    return trimesh.transformations.rotation_matrix(np.radians(deg), axis)


def _placed(mesh: trimesh.Trimesh, *transforms: np.ndarray) -> trimesh.Trimesh:
    m = mesh.copy()
    for t in transforms:
        m.apply_transform(t)
    return m


def _upper_part(mesh: trimesh.Trimesh, y0: float) -> trimesh.Trimesh:
    """The faces of ``mesh`` whose centroid lies above ``y = y0`` (an open shell)."""
    keep = mesh.triangles_center[:, 1] > y0
    return mesh.submesh([np.flatnonzero(keep)], append=True)


def _scene(parts: dict[str, tuple[list[trimesh.Trimesh], PBRMaterial]]) -> trimesh.Scene:
    scene = trimesh.Scene()
    for name, (meshes, material) in parts.items():
        scene.add_geometry(_paint(trimesh.util.concatenate(meshes), material), geom_name=name)
    return scene


GOLD = _material((1.0, 0.78, 0.25, 1.0), metallic=1.0, roughness=0.3, name="gold")
STEEL = _material((0.78, 0.8, 0.84, 1.0), metallic=1.0, roughness=0.25, name="steel")
#: Open shells (helmet, pauldron) show their inside: draw both faces.
SHELL = _material((0.72, 0.74, 0.78, 1.0), metallic=1.0, roughness=0.3, double_sided=True, name="shell")
RUBY = _material((0.85, 0.05, 0.12, 1.0), metallic=0.0, roughness=0.2, name="ruby")
BLACK = _material((0.05, 0.05, 0.06, 1.0), metallic=0.3, roughness=0.4, name="frame")
LENS = _material((0.1, 0.15, 0.2, 0.55), metallic=0.0, roughness=0.05, double_sided=True, name="lens")
LEATHER = _material((0.35, 0.18, 0.08, 1.0), roughness=0.8, name="leather")
VELVET = _material((0.6, 0.03, 0.08, 1.0), roughness=0.9, double_sided=True, name="velvet")
FEATHER = _material((0.97, 0.97, 1.0, 1.0), roughness=0.7, double_sided=True, name="feather")
STAR = _material((1.0, 0.9, 0.3, 1.0), metallic=0.5, roughness=0.3, name="star")
WOOD = _material((0.3, 0.2, 0.12, 1.0), roughness=0.7, name="wood")


def crown() -> trimesh.Scene:
    """Gold band (radius 9.5 cm, 4 cm high) with 8 spikes and ruby gems; origin at the band's
    bottom centre, Y up."""
    band = trimesh.creation.annulus(r_min=0.088, r_max=0.096, height=0.04, sections=32)
    band.apply_translation([0, 0, 0.02])
    band.apply_transform(_R(-90, [1, 0, 0]))  # annulus axis Z -> Y
    spikes, gems = [], []
    for k in range(8):
        a = 2 * np.pi * k / 8
        x, z = 0.092 * np.sin(a), 0.092 * np.cos(a)
        cone = trimesh.creation.cone(radius=0.014, height=0.045, sections=8)
        spikes.append(_placed(cone, _R(-90, [1, 0, 0]), _T(x, 0.04, z)))
        gems.append(_placed(trimesh.creation.icosphere(subdivisions=1, radius=0.009), _T(1.06 * x, 0.02, 1.06 * z)))
    return _scene({"band": ([band] + spikes, GOLD), "gems": (gems, RUBY)})


def glasses() -> trimesh.Scene:
    """Two round rims (2.2 cm) 6.4 cm apart, a bridge and temples running back 9 cm to the
    ears; origin midway between the lenses, lenses face +Z. The hinges (where the temples
    start) are 11.2 cm apart at y = 0: with a face mesh they go on the outer eye corners and the
    origin on the nose bridge (the manifest's ``fit``)."""
    rims, lenses = [], []
    for sx in (1, -1):
        rims.append(_placed(trimesh.creation.torus(major_radius=0.022, minor_radius=0.003, major_sections=24,
                                                   minor_sections=6), _T(sx * 0.032, 0, 0)))
        lenses.append(_placed(trimesh.creation.cylinder(radius=0.021, height=0.002, sections=24), _T(sx * 0.032, 0, 0)))
        temple = trimesh.creation.box([0.004, 0.004, 0.095])
        rims.append(_placed(temple, _T(sx * 0.056, 0.0, -0.0475)))
    rims.append(_placed(trimesh.creation.box([0.022, 0.004, 0.004]), _T(0, 0.004, 0)))
    return _scene({"frame": (rims, BLACK), "lenses": (lenses, LENS)})


def ring() -> trimesh.Scene:
    """A gold ring with a ruby: a band 19 mm across (inner diameter 14.6 mm) around +X (the
    finger's direction: the mesh is fitted to the ring finger, see the manifest's ``fit``), the
    ruby on its +Y side (the back of the hand); origin at the band's centre."""
    band = trimesh.creation.torus(major_radius=0.0095, minor_radius=0.0022, major_sections=32, minor_sections=8)
    band.apply_transform(_R(90, [0, 1, 0]))  # the torus's axis from Z to X
    setting = _placed(trimesh.creation.cylinder(radius=0.0035, height=0.003, sections=16), _R(90, [1, 0, 0]),
                      _T(0, 0.0118, 0))
    stone = _placed(trimesh.creation.icosphere(subdivisions=1, radius=0.003), _T(0, 0.0145, 0))
    return _scene({"band": ([band, setting], GOLD), "stone": ([stone], RUBY)})


def helmet() -> trimesh.Scene:
    """Steel half-shell (radius 12 cm) with a red crest front to back; origin at the shell's
    centre, open below y = 0."""
    outer = trimesh.creation.icosphere(subdivisions=3, radius=0.12)
    shell = _upper_part(outer, -0.005)
    crest = trimesh.creation.box([0.012, 0.05, 0.2])
    crest.apply_translation([0, 0.13, 0])
    guards = [_placed(trimesh.creation.box([0.01, 0.07, 0.06]), _T(sx * 0.115, -0.03, 0.03)) for sx in (1, -1)]
    return _scene({"shell": ([shell] + guards, SHELL), "crest": ([crest], RUBY)})


def pauldron() -> trimesh.Scene:
    """A shoulder plate: a flattened steel dome 18 cm across with a gold rim, symmetric front
    to back (a 180 degree turn about Y makes the other side); origin at the dome's centre."""
    dome = trimesh.creation.icosphere(subdivisions=2, radius=0.09)
    dome.apply_scale([1.0, 0.65, 1.1])
    dome = _upper_part(dome, -0.01)
    rim = trimesh.creation.torus(major_radius=0.09, minor_radius=0.007, major_sections=24, minor_sections=6)
    rim.apply_transform(_R(90, [1, 0, 0]))
    rim.apply_scale([1.0, 1.0, 1.1])
    rim.apply_translation([0, -0.008, 0])
    return _scene({"plate": ([dome], SHELL), "rim": ([rim], GOLD)})


def sword() -> trimesh.Scene:
    """A 93 cm sword along +Z: grip centred on the origin (where the fist closes), guard at
    +6.5 cm, blade to +88 cm, pommel at -7 cm."""
    grip = trimesh.creation.cylinder(radius=0.014, height=0.12, sections=12)
    guard = _placed(trimesh.creation.box([0.02, 0.16, 0.02]), _T(0, 0, 0.07))
    pommel = _placed(trimesh.creation.icosphere(subdivisions=1, radius=0.02), _T(0, 0, -0.07))
    blade = trimesh.creation.box([0.008, 0.045, 0.78])
    blade.apply_translation([0, 0, 0.08 + 0.39])
    tip = trimesh.creation.cone(radius=0.0225, height=0.06, sections=4)
    tip.apply_scale([0.18, 1.0, 1.0])
    tip.apply_translation([0, 0, 0.86])
    return _scene({"grip": ([grip], LEATHER), "guard": ([guard, pommel], GOLD), "blade": ([blade, tip], STEEL)})


def wand() -> trimesh.Scene:
    """A 32 cm wooden wand along +Z with a gold star at the tip; origin at the grip."""
    stick = trimesh.creation.cylinder(radius=0.006, height=0.32, sections=10)
    stick.apply_translation([0, 0, 0.12])
    star = trimesh.creation.icosphere(subdivisions=0, radius=0.035)
    star.apply_scale([1.0, 1.0, 0.4])
    star.apply_translation([0, 0, 0.3])
    return _scene({"stick": ([stick], WOOD), "star": ([star], STAR)})


def _sheet(points: np.ndarray) -> trimesh.Trimesh:
    """A quad-grid surface from ``(rows, cols, 3)`` points (double-sided material)."""
    r, c = points.shape[:2]
    idx = np.arange(r * c).reshape(r, c)
    a, b, d, e = idx[:-1, :-1], idx[:-1, 1:], idx[1:, :-1], idx[1:, 1:]
    faces = np.concatenate([np.stack([a, d, b], -1).reshape(-1, 3), np.stack([b, d, e], -1).reshape(-1, 3)])
    return trimesh.Trimesh(points.reshape(-1, 3), faces, process=False)


def cape() -> trimesh.Scene:
    """A red cape 95 cm long hanging behind the back, 40 cm wide at the shoulders flaring to
    70 cm, curved around the back; origin at the top centre (the collar), it hangs along -Y
    and bulges towards -Z."""
    rows, cols = 8, 9
    v = np.linspace(0.0, 1.0, rows)[:, None]
    u = np.linspace(-1.0, 1.0, cols)[None, :]
    half = 0.2 + 0.15 * v                       # half width
    x = half * u
    y = -0.95 * v * np.ones_like(u)
    z = -(0.04 + 0.08 * v) * (1 - u ** 2) + 0.02 * (u ** 2) - 0.05 * v
    pts = np.stack([x, y, z * np.ones_like(u)], -1)
    return _scene({"cloth": ([_sheet(pts)], VELVET)})


def wings() -> trimesh.Scene:
    """A pair of white wings, each a fan of six feathers 35-60 cm long spreading sideways
    and up from the spine; origin between the shoulder blades, wings lie behind it (-Z)."""
    feathers = []
    for sx in (1, -1):
        for k in range(6):
            length = 0.6 - 0.05 * k
            angle = np.radians(10 + 13 * k)     # from horizontal, going down the fan
            f = trimesh.creation.box([length, 0.05, 0.008])
            f.apply_translation([length / 2, 0, 0])
            f.apply_transform(_R(-np.degrees(angle) + 35, [0, 0, 1]))
            if sx < 0:
                f.apply_transform(_R(180, [0, 1, 0]))
            f.apply_transform(_R(sx * 20, [0, 1, 0]))   # sweep back
            f.apply_translation([sx * 0.04, 0, -0.02 - 0.005 * k])
            feathers.append(f)
    return _scene({"feathers": (feathers, FEATHER)})


#: name -> (generator, manifest entry). Offsets: bone frame, metres, default 1.72 m body.
PROPS = {
    "crown": (crown, {"description": "gold crown", "parts": [
        {"mesh": "crown.glb", "bone": "Head", "offset": [0.0, 0.075, 0.005]}]}),
    "glasses": (glasses, {"description": "round glasses", "parts": [
        {"mesh": "glasses.glb", "bone": "Head", "offset": [0.0, 0.035, 0.098], "fit": "eyes", "fit_width": 0.112}]}),
    "helmet": (helmet, {"description": "steel helmet with a crest", "parts": [
        {"mesh": "helmet.glb", "bone": "Head", "offset": [0.0, 0.03, 0.005]}]}),
    "shoulders": (pauldron, {"description": "shoulder armour (a pauldron on each shoulder)", "parts": [
        {"mesh": "pauldron.glb", "bone": "LeftUpperArm", "offset": [0.02, 0.04, 0.0]},
        {"mesh": "pauldron.glb", "bone": "RightUpperArm", "offset": [-0.02, 0.04, 0.0],
         "rotation_deg": [0.0, 180.0, 0.0]}]}),
    "sword": (sword, {"description": "a sword in the right hand", "parts": [
        {"mesh": "sword.glb", "bone": "RightHand", "offset": [-0.07, -0.015, 0.0], "rotation_deg": [-20.0, 0.0, 0.0]}]}),
    "wand": (wand, {"description": "a magic wand in the right hand", "parts": [
        {"mesh": "wand.glb", "bone": "RightHand", "offset": [-0.07, -0.015, 0.0], "rotation_deg": [-20.0, 0.0, 0.0]}]}),
    "ring": (ring, {"description": "a gold ring on the left ring finger (with --hands)", "parts": [
        {"mesh": "ring.glb", "bone": "LeftHand", "fit": "ring_finger", "fit_width": 0.019, "occludable": False}]}),
    "cape": (cape, {"description": "a red cape on the back", "parts": [
        {"mesh": "cape.glb", "bone": "UpperChest", "offset": [0.0, 0.14, -0.11]}]}),
    "wings": (wings, {"description": "white wings on the back", "parts": [
        {"mesh": "wings.glb", "bone": "UpperChest", "offset": [0.0, 0.06, -0.13]}]}),
}


def main(out: Path = OUT) -> int:
    out.mkdir(parents=True, exist_ok=True)
    manifest = {"version": 1, "props": {}}
    for name, (make, entry) in PROPS.items():
        scene = make()
        data = scene.export(file_type="glb")
        (out / entry["parts"][0]["mesh"]).write_bytes(data)
        manifest["props"][name] = entry
    (out / "props.json").write_text(json.dumps(manifest, indent=2) + "\n")
    total = sum(p.stat().st_size for p in out.glob("*.glb"))
    sys.stdout.write(f"wrote {len(PROPS)} props ({total / 1024:.0f} kB of GLB) and props.json to {out}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
