"""Parts fitted to the face mesh and the hands: glasses on the outer eye corners and the nose
bridge (``fit: eyes``), a ring on the ring finger between its knuckle and middle joint
(``fit: ring_finger``); known answers on synthetic meshes and hands, then real photos through
the real estimator."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from arpose.errors import ConfigError
from arpose.landmarks import HandLandmark as HL
from arpose.landmarks import Side, empty_face, empty_hands, empty_image_landmarks, empty_world_landmarks
from arpose.render.frames import eyes_frame, ring_finger_frame
from arpose.render.overlay import demo_body, project_world
from arpose.render.props import load_manifest, parse_manifest, part_pose
from arpose.skeleton import BONE_INDEX
from arpose.types import Camera, Person

sys.path.insert(0, str(Path(__file__).parents[1] / "retarget"))  # the synthetic face and hand
from test_face import SIZE, synthetic_face  # noqa: E402
from test_fingers import rest_hand  # noqa: E402

CAMERA = Camera.from_fov(SIZE[0], SIZE[1], 60.0)
GLASSES = load_manifest()["glasses"].parts[0]
RING = load_manifest()["ring"].parts[0]
#: The glasses mesh's hinges (where the temples start) and bridge, mesh frame (assets/make_props.py).
HINGES = np.array([[0.056, 0.0, 0.0], [-0.056, 0.0, 0.0]])


def _person(**kw) -> Person:
    return Person(0, empty_image_landmarks(), empty_world_landmarks(), 0.0, **kw)


def _project(m: np.ndarray, points: np.ndarray) -> np.ndarray:
    world = (m[:3, :3] @ np.asarray(points, dtype=np.float64).T).T + m[:3, 3]
    return project_world(world, CAMERA)[0]


def _face_px(face: np.ndarray, i: int) -> np.ndarray:
    return face[i, :2].astype(np.float64) * SIZE


@pytest.mark.parametrize(
    "turn",
    [
        Rotation.identity(),
        Rotation.from_euler("z", 20, degrees=True),
        Rotation.from_euler("zx", [-12, 10], degrees=True),
    ],
    ids=["frontal", "rolled-20", "rolled-and-pitched"],
)
def test_glasses_hinges_land_on_the_eye_corners_and_the_bridge_on_the_nose_bridge(turn):
    face = synthetic_face(turn=turn)
    fitted = eyes_frame(_person(face=face), CAMERA)
    assert fitted is not None
    m = part_pose(None, GLASSES, fitted)
    bridge, (left, right) = _project(m, [[0.0, 0.0, 0.0]])[0], _project(m, HINGES)
    np.testing.assert_allclose(bridge, _face_px(face, 168), atol=0.01)  # exactly on the bridge's pixel
    # hinges: the bridge plus half the corner-to-corner vector (the bridge sits 2 px above the corners'
    # midpoint in the synthetic face when pitched, in front of it by 0.2 inter-ocular distances)
    half = 0.5 * (_face_px(face, 263) - _face_px(face, 33))
    np.testing.assert_allclose(left - bridge, half, atol=1.0)
    np.testing.assert_allclose(right - bridge, -half, atol=1.0)
    mid = 0.5 * (_face_px(face, 263) + _face_px(face, 33))
    for hinge, corner in ((left, 263), (right, 33)):
        assert np.linalg.norm(hinge - _face_px(face, corner)) <= np.linalg.norm(_face_px(face, 168) - mid) + 1.0
    # the glasses turn with the head: their axes are the face's
    axes = m[:3, :3] / np.linalg.norm(m[:3, 0])
    assert Rotation.from_matrix(axes).inv().__mul__(turn).magnitude() < np.radians(1.0)


def test_a_turned_face_keeps_the_glasses_on_the_bridge_and_as_wide_as_the_corners():
    turn = Rotation.from_euler("y", 30, degrees=True)
    face = synthetic_face(turn=turn)
    fitted = eyes_frame(_person(face=face), CAMERA)
    m = part_pose(None, GLASSES, fitted)
    bridge, (left, right) = _project(m, [[0.0, 0.0, 0.0]])[0], _project(m, HINGES)
    np.testing.assert_allclose(bridge, _face_px(face, 168), atol=0.01)
    # within 2.5 px: the hinges are 5 cm nearer / farther than the bridge and the camera is a real
    # perspective one while the synthetic face is drawn orthographically
    np.testing.assert_allclose(left - right, _face_px(face, 263) - _face_px(face, 33), atol=2.5)
    assert fitted[1] == pytest.approx(0.09, rel=1e-6)  # no body: the corners at the average 9 cm


def test_the_bridge_depth_follows_the_head_bone_and_no_face_falls_back_to_it():
    frames = demo_body()
    head = BONE_INDEX["Head"]
    face = synthetic_face()
    fitted = eyes_frame(_person(face=face), CAMERA, frames)
    d_head = -frames.positions[head][2]
    ahead_px = 0.2 * 120 - (-0.3 * 120)  # the synthetic bridge's z minus the cheeks', pixels
    assert -fitted[0][2, 3] == pytest.approx(d_head - ahead_px * d_head / CAMERA.fx, rel=1e-6)
    for unseen in (None, empty_face()):
        assert eyes_frame(_person(face=unseen), CAMERA, frames) is None
        plain = part_pose(frames, GLASSES.__class__(GLASSES.mesh, "Head", GLASSES.offset))
        np.testing.assert_allclose(part_pose(frames, GLASSES, None), plain)


def _hands(side: Side, turn: Rotation, conf: float = 0.9) -> np.ndarray:
    """A rest hand of the subject's ``side`` turned by ``turn`` as image landmarks (1500 px/m)."""
    pts = turn.apply(rest_hand(side))
    px = pts * 1500.0 * [1.0, -1.0, -1.0] + [700.0, 400.0, 0.0]
    hands = empty_hands()
    hands[side, :, :3] = px / [SIZE[0], SIZE[1], SIZE[0]]
    hands[side, :, 3] = conf
    return hands


@pytest.mark.parametrize("side", list(Side))
def test_the_ring_sits_between_the_ring_knuckle_and_middle_joint(side):
    turn = Rotation.from_euler("xz", [-70, 35], degrees=True)  # palm towards the camera, tilted
    hands = _hands(side, turn)
    fitted = ring_finger_frame(_person(hands=hands), side, CAMERA)
    assert fitted is not None
    part = RING if side is Side.LEFT else RING.__class__(RING.mesh, "RightHand", fit="ring_finger", fit_width=0.019)
    m = part_pose(None, part, fitted)
    centre = _project(m, [[0.0, 0.0, 0.0]])[0]
    mcp, pip = (hands[side, i, :2].astype(np.float64) * SIZE for i in (HL.RING_MCP, HL.RING_PIP))
    np.testing.assert_allclose(centre, mcp + 0.4 * (pip - mcp), atol=0.01)
    # the band's axis (mesh X) along the finger; its stone (mesh +Y) on the back of the hand
    axis = _project(m, [[0.01, 0.0, 0.0]])[0] - centre
    assert np.dot(axis, pip - mcp) / np.linalg.norm(axis) / np.linalg.norm(pip - mcp) > 0.99
    back = m[:3, :3] @ [0.0, 1.0, 0.0]
    assert np.dot(back / np.linalg.norm(back), turn.apply([0.0, 1.0, 0.0])) > 0.99
    # as wide as the knuckle spacing: the band (inner 14.6 mm, outer 23.4 mm across) spans ~0.77-1.23 of it
    knuckles = np.linalg.norm(mcp - hands[side, HL.MIDDLE_MCP, :2] * SIZE)
    across = np.linalg.norm(np.subtract(*_project(m, [[0.0, 0.0, 0.0095], [0.0, 0.0, -0.0095]])))  # in the palm's plane
    assert across == pytest.approx(knuckles, rel=0.15)


def test_the_ring_is_hidden_when_its_hand_is_not_seen():
    seen = _hands(Side.LEFT, Rotation.identity())
    frames = demo_body()
    assert part_pose(frames, RING, ring_finger_frame(_person(hands=seen), Side.LEFT, CAMERA, frames)) is not None
    for hands in (
        None,
        empty_hands(),
        _hands(Side.RIGHT, Rotation.identity()),
        _hands(Side.LEFT, Rotation.identity(), 0.2),
    ):
        fitted = ring_finger_frame(_person(hands=hands), Side.LEFT, CAMERA, frames)
        assert fitted is None and part_pose(frames, RING, fitted) is None


@pytest.mark.parametrize(
    "part, message",
    [
        ({"bone": "LeftHand", "fit": "eyes", "fit_width": 0.1}, "needs bone 'Head'"),
        ({"bone": "Head", "fit": "ring_finger", "fit_width": 0.1}, "LeftHand"),
        ({"bone": "Head", "fit": "eyes"}, "fit_width"),
        ({"bone": "Head", "fit": "nose", "fit_width": 0.1}, "fit must be one of"),
    ],
)
def test_bad_fits_in_a_manifest_are_refused(part, message):
    base = Path(GLASSES.mesh).parent
    with pytest.raises(ConfigError, match=message):
        parse_manifest({"props": {"x": {"parts": [{"mesh": "glasses.glb", **part}]}}}, base)


def _analyse(media, name: str, *options: str):
    """The photo's first person through the real estimator and stages (``arpose run`` with
    ``options``), the camera and the image."""
    from arpose.app.cli import build_parser
    from arpose.app.runner import spec_from_args, with_mode
    from arpose.build import build_pipeline, camera_for, skeleton_renderer
    from arpose.source import open_source
    from arpose.spec import RunningMode

    path = str(media / "images" / name)
    args = build_parser().parse_args(["run", path, *options])
    source = open_source(path)
    spec = with_mode(spec_from_args(args), RunningMode.for_source(source))
    camera = camera_for(spec, source)
    pipeline = build_pipeline(spec, source, camera, renderer=skeleton_renderer)
    try:
        pf = pipeline.analyze(next(iter(source)))
    finally:
        pipeline.close()
        source.close()
    return pf, camera


def _drawn(pf, camera, prop: str) -> np.ndarray:
    """``(H, W)`` bool: the pixels ``prop`` changes when worn by the photo's people."""
    from arpose.render.frames import AnchorConfig
    from arpose.render.overlay import OverlayConfig, PropRenderer

    image = pf.frame.image
    config = OverlayConfig(anchors=AnchorConfig(smooth=False))
    with PropRenderer(camera, [load_manifest()[prop]], config) as renderer:
        out = renderer.render(image, pf.people, timestamp=pf.timestamp)
    return np.abs(out.astype(int) - image.astype(int)).sum(axis=2) > 30


@pytest.mark.slow
def test_glasses_on_a_real_face(media):
    pf, camera = _analyse(media, "face_business_woman_mpsamples.png", "--face", "--props", "glasses")
    (person,) = pf.people
    w, h = pf.frame.size
    face = person.face[:, :2].astype(np.float64) * (w, h)
    drawn = _drawn(pf, camera, "glasses")
    # the frame's front: its width from the rims above the bridge's row (a temple seen going back
    # from a hinge hangs below it); its height from the rims' middle 80 % (away from the temples)
    ys, xs = np.nonzero(drawn[: int(face[168, 1]) + 1])
    x_mid, width = (xs.min() + xs.max()) / 2.0, xs.max() - xs.min() + 1
    ys, xs = np.nonzero(drawn)
    rims = np.abs(xs - x_mid) < 0.4 * width
    centre = np.array([x_mid, (ys[rims].min() + ys[rims].max()) / 2.0])
    corners = np.linalg.norm(face[263] - face[33])
    print(f"glasses centre {centre} bridge {face[168]}; front width {width} px, outer eye corners {corners:.1f} px")
    assert np.linalg.norm(centre - face[168]) < 4.0
    assert width == pytest.approx(corners, rel=0.15)


@pytest.mark.slow
def test_a_ring_on_a_real_ring_finger(media):
    pf, camera = _analyse(media, "hand_open_palm_pixabay129422_f154.jpg", "--hands", "--props", "ring")
    (person,) = pf.people
    w, h = pf.frame.size
    hand = person.hands[Side.LEFT, :, :2].astype(np.float64) * (w, h)
    assert np.isfinite(hand).all()  # the photo's hand is the subject's left, where the ring is worn
    drawn = _drawn(pf, camera, "ring")
    ys, xs = np.nonzero(drawn)
    assert len(xs) > 20
    centre = np.array([xs.mean(), ys.mean()])
    mcp, pip = hand[HL.RING_MCP], hand[HL.RING_PIP]
    along = float(np.dot(centre - mcp, pip - mcp) / np.dot(pip - mcp, pip - mcp))
    u = (pip - mcp) / np.linalg.norm(pip - mcp)
    off = abs(float(np.cross(u, centre - mcp)))
    finger = 0.5 * np.linalg.norm(mcp - hand[HL.MIDDLE_MCP])  # about half a finger's width
    print(f"ring centre {centre} mcp {mcp} pip {pip}: {along:.2f} along, {off:.1f} px off (half width {finger:.1f})")
    assert 0.0 < along < 1.0 and off < finger
    # nothing drawn away from the ring finger's proximal segment
    far = np.hypot(xs - (mcp[0] + pip[0]) / 2, ys - (mcp[1] + pip[1]) / 2) > 1.5 * np.linalg.norm(pip - mcp)
    assert not far.any()
