"""Offscreen rendering of the mannequin with pyrender (EGL, headless).

Scene frame = *world* of :mod:`arpose.retarget.body` (camera-attached rig frame: metres, +X the
image's right, +Y the camera's up, +Z towards the camera). That is exactly OpenGL's camera
frame (looking down -Z, +Y up), so the pyrender camera sits at the origin with an identity
pose, and the OpenCV intrinsics of :class:`arpose.types.Camera` map 1:1 onto
``pyrender.IntrinsicsCamera`` (principal point measured from the image's top-left).
One scene and one offscreen renderer are kept; each frame only moves the part nodes.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np  # noqa: E402
import trimesh  # noqa: E402
from scipy.spatial.transform import Rotation  # noqa: E402

from .._cv import cv2  # noqa: E402
from ..errors import ConfigError, RenderError  # noqa: E402
from ..render import gl  # noqa: F401  (headless EGL set-up, before pyrender)
from ..skeleton import BONE_INDEX, BONE_NAMES, FINGER_BONES, NUM_BONES, NUM_FINGER_BONES  # noqa: E402
from ..types import Camera  # noqa: E402
from .hands import finger_kinematics  # noqa: E402
from .mannequin import RGB, MannequinConfig, build_parts  # noqa: E402

_HAND_BONES = (BONE_INDEX["LeftHand"], BONE_INDEX["RightHand"])
_REST_FINGERS = np.tile([0.0, 0.0, 0.0, 1.0], (NUM_FINGER_BONES, 1))

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


def pose_matrices(
    positions: np.ndarray,
    rotations: np.ndarray,
    fingers: tuple[np.ndarray, np.ndarray] | None = None,
    scale: float = 1.0,
) -> np.ndarray:
    """``(B + 30, 4, 4)`` rigid transforms (bone local frame to world) of the body bones then
    the finger bones (the indices of :attr:`arpose.performer.mannequin.Part.bone`), from the
    body's global ``positions`` ``(B, 3)`` and ``rotations`` ``(B, 4)`` and the fingers'
    ``(positions (30, 3), rotations (30, 4))``; None: fingers at rest on a body of ``scale``."""
    pos = np.asarray(positions, dtype=np.float64)
    rot = np.asarray(rotations, dtype=np.float64)
    if fingers is None:
        fingers = finger_kinematics(pos, rot, _REST_FINGERS, scale)[:2]
    fpos, frot = (np.asarray(a, dtype=np.float64) for a in fingers)
    return bone_matrices(np.concatenate([pos, fpos]), np.concatenate([rot, frot]))


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
        # Each hand has two versions: the palm alone, with one node per finger bone (posed
        # fingers), and the palm with its fingers merged at rest (open flat hands, one draw
        # call instead of 16); render() shows one or the other.
        def node(meshes: list, colors: list[RGB]) -> object:
            merged = trimesh.util.concatenate(meshes)
            rgba = [np.tile(np.r_[c, 1.0], (len(m.vertices), 1)) for m, c in zip(meshes, colors)]
            prim = pyrender.Primitive(
                positions=merged.vertices,
                normals=merged.vertex_normals,
                indices=merged.faces,
                color_0=np.concatenate(rgba).astype(np.float32),
                material=material,
            )
            return scene.add(pyrender.Mesh([prim]), pose=np.eye(4))

        self._nodes: list[tuple[int, object]] = []
        for bone in sorted({p.bone for p in self.parts}):
            mine = [p for p in self.parts if p.bone == bone]
            self._nodes.append((bone, node([p.mesh for p in mine], [p.color for p in mine])))
        # rest fingers in their Hand bone's frame (hands at the origin, unrotated)
        rest_pos, _, _ = finger_kinematics(
            np.zeros((NUM_BONES, 3)), np.tile([0.0, 0.0, 0.0, 1.0], (NUM_BONES, 1)), _REST_FINGERS, config.scale
        )
        self._rest_hands: list[tuple[int, object]] = []
        for hand in _HAND_BONES:
            mine = [p for p in self.parts if p.bone == hand]
            for p in self.parts:
                i = p.bone - NUM_BONES
                if i >= 0 and FINGER_BONES[i].name.startswith(BONE_NAMES[hand][: -len("Hand")]):
                    mine.append(replace(p, mesh=p.mesh.copy().apply_translation(rest_pos[i])))
            self._rest_hands.append((hand, node([p.mesh for p in mine], [p.color for p in mine])))
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

    def render(
        self,
        positions: np.ndarray,
        rotations: np.ndarray,
        index: int = 0,
        fingers: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Render one pose.

        positions: ``(B, 3)`` global joint positions, world (scene) frame, metres.
        rotations: ``(B, 4)`` global joint rotations ``(x, y, z, w)``, world frame.
        index: frame index (seeds the sensor noise).
        fingers: ``(positions (30, 3), rotations (30, 4))`` of the finger bones
        (:data:`arpose.skeleton.FINGER_BONES`), global, world frame; None = open flat hands
        (every finger at rest relative to its Hand bone, drawn as one piece per hand).
        Returns ``(image, depth)``: ``(H, W, 3)`` uint8 BGR, and ``(H, W)`` float32 distance
        along the camera's viewing axis in metres (the OpenCV camera z), 0 where no body is.
        """
        posed = fingers is not None
        mats = pose_matrices(positions, rotations, fingers, self.config.scale)
        for bone, node in self._nodes:
            self._scene.set_pose(node, mats[bone])
            if bone >= NUM_BONES or bone in _HAND_BONES:
                node.mesh.is_visible = posed
        for bone, node in self._rest_hands:
            self._scene.set_pose(node, mats[bone])
            node.mesh.is_visible = not posed
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
