"""Offscreen rendering of the mannequin with pyrender (EGL, headless).

Scene frame = *world* of :mod:`arpose.retarget.body` (camera-attached rig frame: metres, +X the
image's right, +Y the camera's up, +Z towards the camera). That is exactly OpenGL's camera
frame (looking down -Z, +Y up), so the pyrender camera sits at the origin with an identity
pose, and the OpenCV intrinsics of :class:`arpose.types.Camera` map 1:1 onto
``pyrender.IntrinsicsCamera`` (principal point measured from the image's top-left).
One scene and one offscreen renderer are kept; each frame only moves the part nodes.
"""

from __future__ import annotations

import numpy as np  # noqa: E402
import trimesh  # noqa: E402
from scipy.spatial.transform import Rotation  # noqa: E402

from .._cv import cv2  # noqa: E402
from ..errors import ConfigError, RenderError  # noqa: E402
from ..render import gl  # noqa: F401  (headless EGL set-up, before pyrender)
from ..types import Camera  # noqa: E402
from .mannequin import MannequinConfig, build_parts  # noqa: E402

#: Default plain background, RGB in [0, 1] (a light warm grey wall).
DEFAULT_BACKGROUND = (0.78, 0.77, 0.74)


def bone_matrices(positions: np.ndarray, rotations: np.ndarray) -> np.ndarray:
    """``(B, 4, 4)`` rigid transforms (bone local frame to world) from global joint
    ``positions`` ``(B, 3)`` metres and ``rotations`` ``(B, 4)`` quaternions ``(x, y, z, w)``."""
    n = positions.shape[0]
    m = np.tile(np.eye(4), (n, 1, 1))
    m[:, :3, :3] = Rotation.from_quat(rotations).as_matrix()
    m[:, :3, 3] = positions
    return m


def release_offscreen(renderer) -> None:
    """Free a ``pyrender.OffscreenRenderer``'s GL objects and context.

    pyrender's own ``delete()`` also calls ``eglTerminate`` on the display that every EGL
    renderer in the process shares, which breaks any other live renderer (an overlay renderer,
    a second performer). Here the context is destroyed and the display left initialised.
    """
    platform = getattr(renderer, "_platform", None)
    if type(platform).__name__ != "EGLPlatform":
        renderer.delete()
        return
    from OpenGL.EGL import eglDestroyContext

    platform.make_current()
    renderer._renderer.delete()
    if platform._egl_context is not None:
        eglDestroyContext(platform._egl_display, platform._egl_context)
        platform._egl_context = None
    platform._egl_display = None  # so the platform's __del__ does not terminate the display
    renderer._renderer = None
    renderer._platform = None


class MannequinRenderer:
    """Renders a posed mannequin through ``camera`` over a plain colour or an image.

    camera: intrinsics (pixels, OpenCV). config: body and colours. background: RGB tuple in
    [0, 1], or a BGR uint8 image (resized to the camera's size). noise: standard deviation of
    added Gaussian sensor noise in 8-bit levels (0 = none), drawn from ``seed`` and the frame
    index so that any frame renders identically every time.

    Raises :class:`RenderError` when no offscreen OpenGL context can be created.
    """

    def __init__(
        self,
        camera: Camera,
        config: MannequinConfig = MannequinConfig(),
        background: tuple[float, float, float] | np.ndarray = DEFAULT_BACKGROUND,
        noise: float = 0.0,
        seed: int = 0,
    ) -> None:
        try:
            import pyrender
        except Exception as exc:  # pragma: no cover - depends on the machine's GL
            raise RenderError(
                f"cannot import pyrender for offscreen rendering ({exc}); "
                "install pyrender and an EGL or OSMesa driver (PYOPENGL_PLATFORM=egl)"
            ) from exc
        if noise < 0:
            raise ConfigError(f"noise must be >= 0 (8-bit levels), got {noise}")
        self.camera = camera
        self.config = config
        self.noise = float(noise)
        self.seed = int(seed)
        self._background = self._make_background(background)
        self.parts = build_parts(config)
        scene = pyrender.Scene(bg_color=[0.0, 0.0, 0.0, 0.0], ambient_light=[0.38, 0.38, 0.38])
        material = pyrender.MetallicRoughnessMaterial(
            baseColorFactor=[1.0, 1.0, 1.0, 1.0], metallicFactor=0.0, roughnessFactor=0.8
        )
        # One node (one draw call) per bone: its parts merged, colours carried per vertex.
        self._nodes: list[tuple[int, object]] = []
        for bone in sorted({p.bone for p in self.parts}):
            meshes = [p.mesh for p in self.parts if p.bone == bone]
            colors = [np.tile(np.r_[p.color, 1.0], (len(p.mesh.vertices), 1)) for p in self.parts if p.bone == bone]
            merged = trimesh.util.concatenate(meshes)
            prim = pyrender.Primitive(
                positions=merged.vertices,
                normals=merged.vertex_normals,
                indices=merged.faces,
                color_0=np.concatenate(colors).astype(np.float32),
                material=material,
            )
            mesh = pyrender.Mesh([prim])
            self._nodes.append((bone, scene.add(mesh, pose=np.eye(4))))
        cam = pyrender.IntrinsicsCamera(fx=camera.fx, fy=camera.fy, cx=camera.cx, cy=camera.cy, znear=0.05, zfar=100.0)
        scene.add(cam, pose=np.eye(4))
        key = np.eye(4)
        key[:3, :3] = Rotation.from_euler("xy", [-35.0, 25.0], degrees=True).as_matrix()
        scene.add(pyrender.DirectionalLight(color=np.ones(3), intensity=2.2), pose=key)
        fill = np.eye(4)
        fill[:3, :3] = Rotation.from_euler("xy", [-10.0, -40.0], degrees=True).as_matrix()
        scene.add(pyrender.DirectionalLight(color=np.ones(3), intensity=1.0), pose=fill)
        self._scene = scene
        self._flags = pyrender.RenderFlags.RGBA
        try:
            self._renderer = pyrender.OffscreenRenderer(camera.width, camera.height)
        except Exception as exc:  # pragma: no cover - depends on the machine's GL
            raise RenderError(
                f"cannot create an offscreen OpenGL context ({type(exc).__name__}: {exc}); "
                "headless machines need EGL (libEGL, PYOPENGL_PLATFORM=egl) or OSMesa "
                "(PYOPENGL_PLATFORM=osmesa)"
            ) from exc

    def _make_background(self, background) -> np.ndarray:
        w, h = self.camera.width, self.camera.height
        if isinstance(background, np.ndarray):
            if background.ndim != 3 or background.shape[2] != 3 or background.dtype != np.uint8:
                raise ConfigError(
                    f"background image must be (H, W, 3) uint8 BGR, got {background.shape} {background.dtype}"
                )
            if background.shape[:2] != (h, w):
                background = cv2.resize(background, (w, h), interpolation=cv2.INTER_AREA)
            return np.ascontiguousarray(background)
        rgb = np.asarray(background, dtype=np.float64)
        if rgb.shape != (3,) or not ((rgb >= 0) & (rgb <= 1)).all():
            raise ConfigError(f"background colour must be 3 values in [0, 1] (RGB), got {background}")
        return np.ascontiguousarray(np.broadcast_to(np.rint(rgb[::-1] * 255.0), (h, w, 3)).astype(np.uint8))

    def render(self, positions: np.ndarray, rotations: np.ndarray, index: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Render one pose.

        positions: ``(B, 3)`` global joint positions, world (scene) frame, metres.
        rotations: ``(B, 4)`` global joint rotations ``(x, y, z, w)``, world frame.
        index: frame index (seeds the sensor noise).
        Returns ``(image, depth)``: ``(H, W, 3)`` uint8 BGR, and ``(H, W)`` float32 distance
        along the camera's viewing axis in metres (the OpenCV camera z), 0 where no body is.
        """
        mats = bone_matrices(np.asarray(positions, dtype=np.float64), np.asarray(rotations, dtype=np.float64))
        for bone, node in self._nodes:
            self._scene.set_pose(node, mats[bone])
        try:
            color, depth = self._renderer.render(self._scene, flags=self._flags)
        except Exception as exc:  # pragma: no cover - depends on the machine's GL
            raise RenderError(f"offscreen rendering failed ({type(exc).__name__}: {exc})") from exc
        # pyrender resolves multisampling over a (0, 0, 0, 0) clear colour: colours come
        # premultiplied by coverage, so compositing is ``rgb + (1 - alpha) * background``.
        bgr = cv2.cvtColor(color, cv2.COLOR_RGBA2BGR)
        inv = cv2.merge([255 - color[..., 3]] * 3)
        out = cv2.add(bgr, cv2.multiply(inv, self._background, scale=1.0 / 255.0))
        if self.noise > 0:
            rng = np.random.default_rng((self.seed, int(index)))
            noisy = out.astype(np.float32) + rng.normal(0.0, self.noise, out.shape).astype(np.float32)
            out = np.clip(np.rint(noisy), 0, 255).astype(np.uint8)
        return out, depth.astype(np.float32, copy=False)

    def close(self) -> None:
        """Release the OpenGL context. Safe to call twice. Call it on the thread that rendered."""
        r, self._renderer = getattr(self, "_renderer", None), None
        if r is not None:
            release_offscreen(r)

    def __enter__(self) -> "MannequinRenderer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
