"""Props (and the avatar) rendered with pyrender offscreen and alpha-composited onto BGR frames.

How a frame is drawn (:meth:`PropRenderer.render`)
--------------------------------------------------
1. Each person's bones come from :class:`arpose.render.frames.BodyFrames` in *world*: metres,
   +X image right, +Y up, +Z towards the camera, which is OpenGL's camera frame, so the
   pyrender camera has an identity pose and the intrinsics of :class:`arpose.types.Camera`
   (the root-pose fit's). The bones are the retargeted ``Person.body``; a person without one
   is retargeted from that frame alone by :func:`arpose.retarget.body_for_person` (the same
   solver and root fit, no state kept here: a pipeline with the retarget stage gives steadier
   bones).
2. Every prop part is posed on its bone (:func:`arpose.render.props.part_pose`).
3. Only a viewport around the props is rendered: their bounding boxes are projected, the box
   is padded and rounded up to :attr:`OverlayConfig.viewport_quantum_px` (so the framebuffer is
   rarely re-allocated) and the principal point is shifted by the box's corner. Mesa's software
   rasteriser costs per pixel, so this is what keeps the budget.
4. Up to three passes into one :class:`pyrender.OffscreenRenderer` (one scene per pass, kept
   between frames; only node poses change): occludable props (RGBA + depth), the body proxy
   (:mod:`arpose.render.proxy`, depth only) and the rest (non-occludable props, the avatar).
   An occludable prop pixel is hidden where the proxy is nearer than the prop by more than
   :attr:`OverlayConfig.depth_margin_m` and, when the person has a segmentation mask, the mask
   says "person" there (the mask trims the coarse proxy to the true silhouette).
5. The passes are merged by depth and composited with premultiplied alpha (pyrender's 4x
   multisampling gives anti-aliased edges) onto a copy of the image.

The renderer is created lazily on the first frame, in the thread that renders (an EGL context
belongs to one thread). ``PYOPENGL_PLATFORM`` defaults to ``egl`` (headless, no GPU or
display); set it to ``osmesa`` before importing arpose to use OSMesa instead.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Sequence

import numpy as np  # noqa: E402

from .._cv import cv2  # noqa: E402
from ..errors import RenderError  # noqa: E402
from ..retarget import RetargetConfig  # noqa: E402
from ..skeleton import BONE_INDEX, NUM_BONES, forward_kinematics  # noqa: E402
from ..types import Camera, Person  # noqa: E402
from . import gl  # noqa: F401  (headless EGL set-up, before pyrender)
from .avatar import Avatar, AvatarConfig  # noqa: E402
from .frames import AnchorConfig, BodyFrames, PropAnchors, eyes_frame, prop_frames, ring_finger_frame  # noqa: E402
from .props import MeshCache, Prop, part_pose  # noqa: E402
from .proxy import proxy_shapes  # noqa: E402


@dataclass(frozen=True)
class OverlayConfig:
    """Settings of :class:`PropRenderer`.

    occlusion: hide prop parts behind the body (proxy depth, trimmed by the mask).
    use_mask: use ``Person.mask`` when present. mask_threshold: mask value counted as person.
    depth_margin_m: the proxy must be nearer than the prop by this much (metres) to hide it.
    proxy_inflate: multiplies the proxy's radii without a mask; proxy_inflate_masked: with
        a segmentation mask, which trims the excess to the true silhouette (so the proxy may
        err on the fat side: a thin proxy lets a cape show through a wide body).
    avatar: None, ``"beside"`` or ``"over"``.
    crop_viewport: render only the props' bounding box (False: the whole frame; for
        measuring what the crop saves). pad_px, viewport_quantum_px: the box's padding and
        size rounding, pixels.
    max_render_px: a larger viewport is rendered at reduced resolution (about this many
        pixels) and scaled up (0: always full resolution). Fragment shading on the CPU is
        the cost that grows with the props' size on screen.
    lighting: ``"baked"`` (shading computed once per vertex in the prop's frame, drawn unlit:
        the default, about 4x cheaper per pixel on Mesa's CPU rasteriser) or ``"dynamic"``
        (pyrender's physically based shading, lights at the camera; see
        :data:`arpose.render.props.LIGHTING`).
    ambient, light_intensity: dynamic lighting (a key light from the camera, a fill from above).
    anchors: how the bones props are worn on are anchored in the image and smoothed
        (:class:`arpose.render.frames.AnchorConfig`; ``smooth=False`` for unrelated stills).
    forget_seconds: a person unseen this long loses their anchors' state.
    """

    occlusion: bool = True
    use_mask: bool = True
    mask_threshold: float = 0.5
    depth_margin_m: float = 0.005
    proxy_inflate: float = 1.1
    proxy_inflate_masked: float = 1.5
    avatar: str | None = None
    crop_viewport: bool = True
    max_render_px: int = 30000
    pad_px: int = 3
    viewport_quantum_px: int = 32
    lighting: str = "baked"
    ambient: float = 0.4
    light_intensity: float = 2.5
    anchors: AnchorConfig = field(default_factory=AnchorConfig)
    forget_seconds: float = 5.0


@dataclass
class RenderStats:
    """The last frame's cost: wall-clock milliseconds of posing + rendering + compositing,
    the box ``(x, y, w, h)`` around the viewports drawn (pixels; None if nothing was drawn),
    the render passes and the pixels actually rendered (after any down-scaling)."""

    ms: float = 0.0
    viewport: tuple[int, int, int, int] | None = None
    passes: int = 0
    rendered_px: int = 0
    history: deque = field(default_factory=lambda: deque(maxlen=300))


def scaled_camera(camera: Camera, width: int, height: int) -> Camera:
    """``camera`` for an image of another size (intrinsics scaled per axis)."""
    if (camera.width, camera.height) == (width, height):
        return camera
    sx, sy = width / camera.width, height / camera.height
    return Camera(width, height, camera.fx * sx, camera.fy * sy, camera.cx * sx, camera.cy * sy)


def project_world(points: np.ndarray, camera: Camera) -> tuple[np.ndarray, np.ndarray]:
    """*world* points ``(N, 3)`` (OpenGL camera frame) to pixels ``(N, 2)`` and their depth
    ``(N,)`` in metres in front of the camera (``-z``)."""
    p = np.asarray(points, dtype=np.float64)
    depth = -p[:, 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        u = camera.fx * p[:, 0] / depth + camera.cx
        v = camera.fy * -p[:, 1] / depth + camera.cy
    return np.stack([u, v], axis=1), depth


def viewport_for(
    corners: np.ndarray, camera: Camera, pad: int, quantum: int, near: float = 0.05
) -> tuple[int, int, int, int] | None:
    """The pixel box ``(x, y, w, h)`` that holds the projection of ``(N, 3)`` *world* points,
    padded, with w and h rounded up to ``quantum`` and clipped to the image. The whole image
    if a point is behind the near plane; None if the box misses the image."""
    W, H = camera.width, camera.height
    px, depth = project_world(corners, camera)
    if corners.size == 0:
        return None
    if (depth < near).any() or not np.isfinite(px).all():
        return (0, 0, W, H)
    x0 = int(np.floor(px[:, 0].min())) - pad
    y0 = int(np.floor(px[:, 1].min())) - pad
    x1 = int(np.ceil(px[:, 0].max())) + pad
    y1 = int(np.ceil(px[:, 1].max())) + pad
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, W), min(y1, H)
    if x1 <= x0 or y1 <= y0:
        return None
    w = min(W, -(-(x1 - x0) // quantum) * quantum)
    h = min(H, -(-(y1 - y0) // quantum) * quantum)
    x0 = min(x0, W - w)
    y0 = min(y0, H - h)
    return (x0, y0, w, h)


class _Scene:
    """The one pyrender scene, with named layers of nodes reused between frames (poses
    updated only). Every layer lives in the same scene because pyrender's renderer frees the
    GPU buffers of meshes missing from the scene it draws: alternating scenes would upload
    every mesh again on every pass. A pass shows one layer by toggling mesh visibility."""

    def __init__(self, pyrender, camera_obj, ambient: float, intensity: float, layers: Sequence[str]) -> None:
        self.scene = pyrender.Scene(bg_color=[0.0, 0.0, 0.0, 0.0], ambient_light=[ambient] * 3)
        self.scene.add(camera_obj, pose=np.eye(4))
        self.scene.add(pyrender.DirectionalLight(color=np.ones(3), intensity=intensity), pose=np.eye(4))
        c, s = np.cos(np.radians(-40)), np.sin(np.radians(-40))
        fill = np.array([[1, 0, 0, 0], [0, c, -s, 0], [0, s, c, 0], [0, 0, 0, 1.0]])
        self.scene.add(pyrender.DirectionalLight(color=np.ones(3), intensity=0.5 * intensity), pose=fill)
        self.layers: dict[str, list] = {name: [] for name in layers}

    def sync(self, layer: str, items: Sequence[tuple[object, np.ndarray]]) -> None:
        """Layer ``layer`` holds exactly ``[(mesh, matrix)]``: same meshes in the same order
        only move."""
        nodes = self.layers[layer]
        for i, (mesh, m) in enumerate(items):
            if i < len(nodes) and nodes[i].mesh is mesh:
                self.scene.set_pose(nodes[i], m)
                continue
            for node in nodes[i:]:
                self.scene.remove_node(node)
            del nodes[i:]
            nodes.append(self.scene.add(mesh, pose=m))
        for node in nodes[len(items) :]:
            self.scene.remove_node(node)
        del nodes[len(items) :]

    def show(self, layer: str) -> None:
        """Make only ``layer``'s meshes visible (a mesh in two layers follows the last)."""
        for name, nodes in self.layers.items():
            if name != layer:
                for node in nodes:
                    node.mesh.is_visible = False
        for node in self.layers[layer]:
            node.mesh.is_visible = True


class PropRenderer:
    """Draws props (and optionally the avatar) on people, composited onto BGR frames.

    camera: the intrinsics used by the root-pose fit (rescaled if a frame has another size).
    props: the props to wear (:func:`arpose.render.props.select_props`); change them with
    :meth:`set_props`. retarget: how people without ``Person.body`` are retargeted, one frame
    at a time (:func:`arpose.retarget.body_for_person`). One offscreen renderer and its scenes
    are kept for the object's life; call :meth:`close` (or use it as a context manager) to
    free them.
    """

    def __init__(
        self,
        camera: Camera,
        props: Sequence[Prop] = (),
        config: OverlayConfig = OverlayConfig(),
        meshes: MeshCache | None = None,
        retarget: RetargetConfig = RetargetConfig(),
    ) -> None:
        self.camera = camera
        self.config = config
        self.retarget = retarget
        self.meshes = meshes or MeshCache(config.lighting)
        self._props: tuple[Prop, ...] = ()
        self.set_props(props)
        self.avatar = Avatar(AvatarConfig(config.avatar), config.lighting) if config.avatar else None
        self.stats = RenderStats()
        self._pr = None
        self._renderer = None
        self._thread: int | None = None
        self._proxy_units: dict[str, object] = {}
        self._anchors: dict[int, tuple[PropAnchors, float]] = {}  # person id -> (anchors, last seen)

    # -- configuration ------------------------------------------------------------------
    @property
    def props(self) -> tuple[Prop, ...]:
        return self._props

    @property
    def anchored_bones(self) -> tuple[int, ...]:
        """Indices of the bones the worn props hang on (anchored by :class:`PropAnchors`)."""
        return tuple(sorted({part.bone_index for prop in self._props for part in prop.parts}))

    def frames_for(self, person: Person, camera: Camera, timestamp: float) -> BodyFrames:
        """The bones this renderer draws ``person``'s props on at ``timestamp`` seconds
        (:func:`arpose.render.frames.prop_frames` with the person's own :class:`PropAnchors`,
        kept here between frames). ``camera``: intrinsics sized like the image."""
        anchors = self._anchors.get(person.id, (None, 0.0))[0] or PropAnchors(self.config.anchors)
        self._anchors[person.id] = (anchors, timestamp)
        return prop_frames(person, camera, timestamp, anchors, self.anchored_bones, self.retarget)

    def _forget(self, timestamp: float) -> None:
        """Drop the anchors of people unseen for :attr:`OverlayConfig.forget_seconds`."""
        for pid in [
            k for k, (_, seen) in self._anchors.items() if not 0 <= timestamp - seen <= self.config.forget_seconds
        ]:
            del self._anchors[pid]

    def set_props(self, props: Sequence[Prop]) -> None:
        """Wear these props from the next frame on (their meshes load now)."""
        self._props = tuple(props)
        for prop in self._props:
            for part in prop.parts:
                self.meshes.get(part.mesh, self._layer_of(part))

    def _layer_of(self, part) -> str:
        return "occ" if part.occludable and self.config.occlusion else "top"

    def set_avatar(self, placement: str | None) -> None:
        """Show the avatar (``"beside"`` / ``"over"``) or hide it (None)."""
        self.avatar = Avatar(AvatarConfig(placement), self.config.lighting) if placement else None

    @property
    def active(self) -> bool:
        """True when there is anything to draw (props or the avatar)."""
        return bool(self._props) or self.avatar is not None

    # -- GL ----------------------------------------------------------------------------
    def _ensure_gl(self, width: int, height: int) -> None:
        if self._renderer is not None:
            if self._thread != threading.get_ident():
                self._renderer._platform.make_current()
                self._thread = threading.get_ident()
            return
        try:
            import pyrender

            self._pr = pyrender
            self._renderer = pyrender.OffscreenRenderer(max(width, 1), max(height, 1))
        except Exception as exc:  # EGL/OSMesa missing or broken: many exception types
            raise RenderError(
                f"offscreen rendering is unavailable ({type(exc).__name__}: {exc}); props need EGL "
                "(libegl1, e.g. Mesa) or OSMesa with PYOPENGL_PLATFORM=osmesa; run without --props/--avatar"
            ) from None
        self._thread = threading.get_ident()
        self._gl_camera = pyrender.IntrinsicsCamera(1.0, 1.0, 0.0, 0.0, znear=0.05, zfar=100.0)
        c = self.config
        self._scene = _Scene(pyrender, self._gl_camera, c.ambient, c.light_intensity, ("occ", "proxy", "top"))
        import trimesh

        self._proxy_units = {
            "cylinder": trimesh.creation.cylinder(radius=1.0, height=1.0, sections=10),
            "sphere": trimesh.creation.icosphere(subdivisions=1, radius=1.0),
        }

    def _proxy_mesh(self, shapes):
        """All proxy shapes as one mesh in *world* (one draw call instead of one per shape;
        only its depth is used). A new mesh each frame: the old one's buffers are freed."""
        pr = self._pr
        verts, faces, base = [], [], 0
        for kind in ("cylinder", "sphere"):
            mats = shapes.get(kind, ())
            if not len(mats):
                continue
            unit = self._proxy_units[kind]
            v = np.einsum("kij,nj->kni", mats[:, :3, :3], unit.vertices) + mats[:, None, :3, 3]
            n = len(unit.vertices)
            faces.append((unit.faces[None] + (base + n * np.arange(len(mats)))[:, None, None]).reshape(-1, 3))
            verts.append(v.reshape(-1, 3))
            base += n * len(mats)
        prim = pr.Primitive(
            positions=np.concatenate(verts).astype(np.float32),
            indices=np.concatenate(faces).astype(np.uint32),
            mode=pr.constants.GLTF.TRIANGLES,
        )
        return pr.Mesh([prim])

    def close(self) -> None:
        if self._renderer is not None:
            try:
                self._renderer.delete()
            finally:
                self._renderer = None

    def __enter__(self) -> "PropRenderer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- drawing -----------------------------------------------------------------------
    def render(
        self,
        image: np.ndarray,
        people: Sequence[Person],
        frames: Sequence[BodyFrames] | None = None,
        timestamp: float | None = None,
    ) -> np.ndarray:
        """``image`` (BGR uint8 ``(H, W, 3)``, not modified) with the props and avatar drawn on
        ``people``. Returns ``image`` itself when there is nothing to draw, else a new array.
        frames: each person's bones if already known (e.g. a ground truth), drawn as given;
        default :meth:`frames_for` (``Person.body``, else this frame retargeted alone, with
        the props' bones anchored in the image and smoothed). timestamp: the frame's time in
        seconds, for that smoothing (default: the monotonic clock, right for a live source).

        BLAS is held to one thread meanwhile: OpenBLAS workers spinning after pyrender's
        small matrix calls compete with Mesa's rasteriser threads (measured: 2x slower)."""
        with _blas_limit():
            return self._render(image, people, frames, time.monotonic() if timestamp is None else float(timestamp))

    def _render(self, image: np.ndarray, people: Sequence[Person], known, timestamp: float) -> np.ndarray:
        t0 = time.perf_counter()
        self._forget(timestamp)
        self.stats.viewport, self.stats.passes, self.stats.rendered_px = None, 0, 0
        if not self.active or not people:
            self._record(t0)
            return image
        h, w = image.shape[:2]
        cam = scaled_camera(self.camera, w, h)
        occ, top, proxy = [], [], {"cylinder": [], "sphere": []}
        masks = []
        for k, person in enumerate(people):
            frames = known[k] if known is not None else self.frames_for(person, cam, timestamp)
            n_occ = len(occ)
            fits: dict = {}  # this person's face / hand frames, computed once a frame
            for prop in self._props:
                for part in prop.parts:
                    m = part_pose(frames, part, fitted_frame(person, part, cam, frames, fits) if part.fit else None)
                    if m is None:
                        continue
                    layer = self._layer_of(part)
                    mesh, corners = self.meshes.get(part.mesh, layer)
                    (occ if layer == "occ" else top).append((mesh, corners, m))
            if self.avatar is not None:
                top += self.avatar.items(frames, cam, person.id)
            if len(occ) > n_occ:
                masked = self.config.use_mask and person.mask is not None and person.mask.shape[:2] == (h, w)
                if masked:
                    masks.append(person.mask)
                inflate = self.config.proxy_inflate_masked if masked else self.config.proxy_inflate
                for kind, mats in proxy_shapes(frames, inflate).items():
                    proxy[kind].append(mats)
        if not occ and not top:
            self._record(t0)
            return image
        cfg = self.config

        def box(items):
            if not items:
                return None
            if not cfg.crop_viewport:
                return (0, 0, w, h)
            pts = np.concatenate([(m[:3, :3] @ c.T).T + m[:3, 3] for _, c, m in items])
            return viewport_for(pts, cam, cfg.pad_px, cfg.viewport_quantum_px)

        # Occludable props and the rest (avatar) get their own viewports unless they overlap:
        # an avatar beside the person would otherwise make one big, mostly empty viewport.
        vo, vt = box(occ), box(top)
        if vo is not None and vt is not None and _overlap(vo, vt):
            groups = [(_union(vo, vt), occ, top)]
        else:
            groups = [(v, o, t) for v, o, t in ((vo, occ, []), (vt, [], top)) if v is not None]
        if not groups:
            self._record(t0)
            return image
        self._ensure_gl(w, h)
        proxy = {k: np.concatenate(v) if v else np.zeros((0, 4, 4)) for k, v in proxy.items()}
        out = image.copy()
        passes = rendered = 0
        for vp, o, t in groups:
            n, px = self._draw(out, image, vp, o, t, proxy, masks, cam)
            passes, rendered = passes + n, rendered + px
        union = groups[0][0]
        for vp, _, _ in groups[1:]:
            union = _union(union, vp)
        self.stats.viewport, self.stats.passes, self.stats.rendered_px = union, passes, rendered
        self._record(t0)
        return out

    def _set_view(self, vp: tuple[int, int, int, int], cam: Camera, rw: int, rh: int) -> None:
        """Render viewport ``vp`` (image pixels) into an ``rw x rh`` framebuffer: the
        intrinsics cropped to the viewport and scaled to the framebuffer."""
        x0, y0, vw, vh = vp
        sx, sy = rw / vw, rh / vh
        self._renderer.viewport_width, self._renderer.viewport_height = rw, rh
        gc = self._gl_camera
        # OpenCV pixel u (centre at u) is GL window coordinate u + 0.5; a render scaled by sx
        # keeps cv2.resize's mapping of pixel centres, u_r + 0.5 = (u + 0.5) * sx.
        gc.fx, gc.fy = cam.fx * sx, cam.fy * sy
        gc.cx, gc.cy = (cam.cx - x0 + 0.5) * sx, (cam.cy - y0 + 0.5) * sy

    def _draw(self, out, image, vp, occ, top, proxy, masks, cam) -> tuple[int, int]:
        """Render one viewport's layers and composite them into ``out`` (in place). Returns
        (passes, pixels rendered)."""
        x0, y0, vw, vh = vp
        proxy = cull_shapes(proxy, vp, cam, _far_depth(occ)) if occ else {}
        r = self._renderer
        k = 1.0
        if self.config.max_render_px and vw * vh > self.config.max_render_px:
            k = float(np.sqrt(self.config.max_render_px / (vw * vh)))
        rw, rh = max(8, int(round(vw * k))), max(8, int(round(vh * k)))
        self._set_view(vp, cam, rw, rh)
        scaled = (rw, rh) != (vw, vh)
        flags = self._pr.RenderFlags
        colour_flags = flags.RGBA | flags.FLAT if self.config.lighting == "baked" else flags.RGBA
        passes = 0
        sc = self._scene
        color_o = depth_o = color_t = depth_t = None
        if occ:
            sc.sync("occ", [(mesh, m) for mesh, _, m in occ])
            sc.show("occ")
            color_o, depth_o = r.render(sc.scene, flags=colour_flags)
            passes += 1
            if any(len(v) for v in proxy.values()):
                sc.sync("proxy", [(self._proxy_mesh(proxy), np.eye(4))])
                sc.show("proxy")
                # the coarse proxy's depth at half resolution (the mask sharpens its edges)
                pw, ph = (max(8, rw // 2), max(8, rh // 2)) if rw * rh > 8192 else (rw, rh)
                self._set_view(vp, cam, pw, ph)
                depth_p = r.render(sc.scene, flags=flags.DEPTH_ONLY)
                if (pw, ph) != (rw, rh):
                    depth_p = cv2.resize(depth_p, (rw, rh), interpolation=cv2.INTER_NEAREST)
                    self._set_view(vp, cam, rw, rh)
                passes += 1
                hidden = (depth_p > 0) & (depth_o > 0) & (depth_p < depth_o - self.config.depth_margin_m)
                if masks:
                    crops = [mk[y0 : y0 + vh, x0 : x0 + vw] for mk in masks]
                    mask = crops[0] if len(crops) == 1 else np.max(crops, axis=0)
                    if scaled:
                        mask = cv2.resize(mask, (rw, rh), interpolation=cv2.INTER_AREA)
                    hidden &= mask > self.config.mask_threshold
                if hidden.any():
                    color_o = np.where(hidden[..., None], np.uint8(0), color_o)
                    depth_o = np.where(hidden, np.float32(0), depth_o)
        if top:
            sc.sync("top", [(mesh, m) for mesh, _, m in top])
            sc.show("top")
            color_t, depth_t = r.render(sc.scene, flags=colour_flags)
            passes += 1
        if scaled:  # occlusion was decided at render resolution; colour scales linearly
            up = (vw, vh)
            color_o, color_t = (
                None if c is None else cv2.resize(c, up, interpolation=cv2.INTER_LINEAR) for c in (color_o, color_t)
            )
            depth_o, depth_t = (
                None if d is None else cv2.resize(d, up, interpolation=cv2.INTER_NEAREST) for d in (depth_o, depth_t)
            )
        out[y0 : y0 + vh, x0 : x0 + vw] = composite(
            image[y0 : y0 + vh, x0 : x0 + vw], color_o, depth_o, color_t, depth_t
        )
        return passes, rw * rh

    def _record(self, t0: float) -> None:
        self.stats.ms = (time.perf_counter() - t0) * 1000.0
        self.stats.history.append(self.stats.ms)


def fitted_frame(person: Person, part, camera: Camera, frames: BodyFrames, cache: dict):
    """The frame ``part`` (with a ``fit``) is fitted to on ``person`` (:func:`eyes_frame` or
    :func:`ring_finger_frame` on the side of the part's bone), cached in ``cache`` per fit and
    side; None when the face / hand is not seen."""
    side = 1 if part.bone.startswith("Right") else 0
    key = (part.fit, side)
    if key not in cache:
        if part.fit == "eyes":
            cache[key] = eyes_frame(person, camera, frames)
        else:
            cache[key] = ring_finger_frame(person, side, camera, frames)
    return cache[key]


_UNIT_CORNERS = {
    "cylinder": np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-0.5, 0.5)], dtype=np.float64),
    "sphere": np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], dtype=np.float64),
}


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def _union(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    x0, y0 = min(a[0], b[0]), min(a[1], b[1])
    return (x0, y0, max(a[0] + a[2], b[0] + b[2]) - x0, max(a[1] + a[3], b[1] + b[3]) - y0)


def _far_depth(items) -> float:
    """Largest depth (metres in front of the camera) of the items' bounding-box corners."""
    if not items:
        return 0.0
    return float(max((-((m[:3, :3] @ c.T).T + m[:3, 3])[:, 2]).max() for _, c, m in items))


def cull_shapes(
    shapes: dict, viewport: tuple[int, int, int, int], camera: Camera, far_depth: float, near: float = 0.05
) -> dict:
    """The proxy shapes (``{kind: (K, 4, 4)}`` of :func:`arpose.render.proxy.proxy_shapes`) that
    can hide something: their projection meets ``viewport`` and their nearest point is nearer
    than ``far_depth`` (the props' farthest point, metres). Fewer shapes, less to draw."""
    x0, y0, w, h = viewport
    out = {}
    for kind, mats in shapes.items():
        if not len(mats):
            out[kind] = mats
            continue
        pts = np.einsum("kij,nj->kni", mats[:, :3, :3], _UNIT_CORNERS[kind]) + mats[:, None, :3, 3]
        depth = -pts[..., 2]
        with np.errstate(divide="ignore", invalid="ignore"):
            u = camera.fx * pts[..., 0] / depth + camera.cx
            v = camera.fy * -pts[..., 1] / depth + camera.cy
        behind = (depth < near).any(axis=1)
        meets = (u.max(1) >= x0) & (u.min(1) <= x0 + w) & (v.max(1) >= y0) & (v.min(1) <= y0 + h)
        keep = behind | (meets & (depth.min(axis=1) <= far_depth))
        out[kind] = mats[keep]
    return out


_BLAS = None


def _blas_limit():
    """Context manager holding BLAS libraries to one thread (threadpoolctl)."""
    global _BLAS
    if _BLAS is None:
        from threadpoolctl import ThreadpoolController

        _BLAS = ThreadpoolController()
    return _BLAS.limit(limits=1, user_api="blas")


def composite(
    crop: np.ndarray,
    color_a: np.ndarray | None,
    depth_a: np.ndarray | None,
    color_b: np.ndarray | None = None,
    depth_b: np.ndarray | None = None,
) -> np.ndarray:
    """Composite up to two rendered RGBA layers onto a BGR uint8 crop ``(h, w, 3)``.

    color_*: ``(h, w, 4)`` uint8 RGBA from pyrender over a transparent black background, so
    the colour is already multiplied by coverage (premultiplied alpha). depth_*: ``(h, w)``
    metres, 0 where empty. Where both layers cover a pixel the nearer goes over the other.
    Returns a new BGR uint8 array.
    """
    layers = [(c, d) for c, d in ((color_a, depth_a), (color_b, depth_b)) if c is not None]
    if not layers:
        return crop.copy()
    if len(layers) == 1:
        rgba = layers[0][0]
    else:
        (ca, da), (cb, db) = layers
        b_front = (db > 0) & ((da == 0) | (db < da))
        front = np.where(b_front[..., None], cb, ca).astype(np.float32)
        back = np.where(b_front[..., None], ca, cb).astype(np.float32)
        fa = front[..., 3:] / 255.0
        rgba = np.clip(front + (1.0 - fa) * back + 0.5, 0, 255).astype(np.uint8)  # premultiplied "over"
    # out = crop * (1 - alpha) + colour, in saturating 8-bit arithmetic (OpenCV, vectorised)
    inv = cv2.cvtColor(255 - rgba[..., 3], cv2.COLOR_GRAY2BGR)
    return cv2.add(cv2.multiply(crop, inv, scale=1.0 / 255.0), cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGR))


def demo_body(t: float = 0.0, distance: float = 2.6) -> BodyFrames:
    """A synthetic body for tests and the benchmark: the default skeleton ``distance`` metres
    in front of the camera, facing it, arms waving with phase ``t`` (radians)."""
    from scipy.spatial.transform import Rotation

    local = np.tile([0.0, 0.0, 0.0, 1.0], (NUM_BONES, 1))
    for side, sgn in (("Left", -1.0), ("Right", 1.0)):
        local[BONE_INDEX[f"{side}UpperArm"]] = Rotation.from_euler(
            "z", sgn * (60 + 20 * np.sin(t)), degrees=True
        ).as_quat()
        local[BONE_INDEX[f"{side}LowerArm"]] = Rotation.from_euler(
            "y", -sgn * 30 * (1 + np.sin(t)), degrees=True
        ).as_quat()
    local[BONE_INDEX["Head"]] = Rotation.from_euler("y", 15 * np.sin(0.5 * t), degrees=True).as_quat()
    root = np.array([0.0, -0.05, -distance])
    pos, rot = forward_kinematics(local, root)
    return BodyFrames(pos, rot, local, 1.0)


def measure_overlay(
    props: Sequence[str] = ("crown", "glasses", "cape"),
    frames: int = 60,
    width: int = 640,
    height: int = 480,
    occlusion: bool = True,
    crop_viewport: bool = True,
    avatar: str | None = None,
    lighting: str = "baked",
    max_render_px: int | None = None,
) -> dict:
    """Time prop rendering + compositing per frame on a synthetic body (for ``arpose bench``).

    A person 2.6 m away with waving arms and a full-frame segmentation mask of ones is drawn
    ``frames`` times onto a ``width x height`` frame after one warm-up frame. Returns
    ``{"median_ms", "p95_ms", "mean_ms" (wall clock), "cpu_median_ms" (CPU time of the process,
    all threads: what it costs when the machine is shared), "n", "rendered_px" (median pixels
    rendered per frame),
    "full_px", "props", "occlusion", "crop_viewport"}``; includes posing, every pass and
    compositing.
    """
    from .props import load_manifest, select_props

    camera = Camera.from_fov(width, height, 60.0)
    chosen = select_props(list(props), load_manifest())
    config = OverlayConfig(occlusion=occlusion, crop_viewport=crop_viewport, avatar=avatar, lighting=lighting)
    if max_render_px is not None:
        config = replace(config, max_render_px=max_render_px)
    image = np.full((height, width, 3), 90, dtype=np.uint8)
    mask = np.ones((height, width), dtype=np.float32)
    times, cpu, areas = [], [], []
    people = [_person_for(_body_pose(demo_body(0.1 * k)), camera, mask) for k in range(frames + 1)]
    with PropRenderer(camera, chosen, config) as renderer:
        for k, person in enumerate(people):
            c0 = time.process_time()
            renderer.render(image, [person])
            if k:
                cpu.append((time.process_time() - c0) * 1000.0)
                times.append(renderer.stats.ms)
                areas.append(renderer.stats.rendered_px)
    a = np.asarray(times)
    return {
        "median_ms": float(np.median(a)),
        "p95_ms": float(np.percentile(a, 95)),
        "mean_ms": float(a.mean()),
        "cpu_median_ms": float(np.median(cpu)),
        "n": int(a.size),
        "rendered_px": int(np.median(areas)),
        "full_px": width * height,
        "props": list(props),
        "occlusion": occlusion,
        "crop_viewport": crop_viewport,
        "lighting": lighting,
        "max_render_px": config.max_render_px,
    }


def _body_pose(frames: BodyFrames):
    from ..retarget.body import BodyPose
    from ..skeleton import REST_OFFSETS

    return BodyPose(
        local_rotations=frames.local_rotations,
        root_position=frames.positions[0],
        positions=frames.positions,
        offsets=REST_OFFSETS,
        bone_confidence=np.ones(NUM_BONES),
    )


def _person_for(body, camera: Camera, mask: np.ndarray | None) -> Person:
    """A :class:`Person` carrying ``body`` (landmarks projected from the skeleton's markers)."""
    from ..landmarks import NUM_LANDMARKS
    from ..skeleton import MP_TO_RIG, markers_from_pose

    _, rot = forward_kinematics(body.local_rotations, body.root_position, body.offsets)
    world = markers_from_pose(body.positions, rot)
    cam_pts = world @ MP_TO_RIG.T
    px = camera.project(cam_pts)
    lms = np.ones((NUM_LANDMARKS, 5), dtype=np.float32)
    lms[:, 0] = px[:, 0] / camera.width
    lms[:, 1] = px[:, 1] / camera.height
    lms[:, 2] = 0.0
    hips = 0.5 * (cam_pts[23] + cam_pts[24])
    return Person(id=0, landmarks=lms, world=(cam_pts - hips).astype(np.float32), score=1.0, mask=mask, body=body)
