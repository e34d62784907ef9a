"""``arpose live``: the mirror view. A window with the camera image, props worn on the body,
the skeleton and the avatar, keys to change them and to record takes, and a HUD with frame
rate and latency.

Keys (:func:`handle_key`, a pure state machine so it is tested without a window):

====== =============================================
p / o  next / previous prop set (as asked, each prop alone, none)
s      skeleton on / off
a      avatar: off -> beside -> over -> off
g      hands on / off (with ``--hands``: the 21 points of each hand)
f      face on / off (with ``--face``: the face outline, eyes, brows, lips, irises)
n      neutral face: recalibrate the expressions' neutral face over the next 2 s (with ``--face``)
r      start / stop a take (``--take-dir``)
m      mirror on / off
h      help on / off
q, Esc quit
====== =============================================

Every key is a distinct lower-case letter (or Esc): OpenCV's Qt backend, which the pip wheel
uses, delivers ``P`` as ``p``, so no key relies on Shift. The mirror (``m``) flips only the
picture shown, after estimation: the subject's left stays the subject's left. Input that is
already mirrored (a webcam app that flips) is ``--mirrored-input``, which flips the frames back
before estimation. The window can be resized and keeps
the image's aspect ratio; the help text goes in the corner that covers the fewest people.

Without a display (tests, servers) ``--headless`` runs the same loop with no window; with
``--input VIDEO`` instead of a camera and ``--out OUT.mp4`` it writes what the window would
show, and ``--keys 30:p,60:a`` presses keys at given frame numbers. ``--loop`` plays the
input over and over (a kiosk mirror, or a test that needs time to press keys).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass, replace

import numpy as np

from ..errors import ConfigError, OutputError
from ..runtime import LiveRuntime, RuntimeConfig
from ..spec import PipelineSpec, RunningMode
from ..types import Camera, PoseFrame
from . import feat_take
from .runner import add_output_options, interrupted_exit, print_config, report, spec_from_args, with_mode

WINDOW = "arpose live"
ESC = 27
AVATAR_CYCLE = (None, "beside", "over")
HELP = (
    "p/o next/previous props",
    "s skeleton  a avatar",
    "g hands  f face  n neutral face",
    "r record  m mirror",
    "h help  q quit",
)


@dataclass(frozen=True)
class LiveState:
    """What the live view shows. prop_sets: the prop-name tuples ``p`` cycles through;
    prop_index: the one worn; avatar: None, "beside" or "over"; hands, face: draw
    ``Person.hands`` / ``Person.face`` with the skeleton."""

    prop_sets: tuple[tuple[str, ...], ...] = ((),)
    prop_index: int = 0
    skeleton: bool = True
    avatar: str | None = None
    hands: bool = True
    face: bool = True
    mirror: bool = True
    help: bool = False
    quit: bool = False

    @property
    def props(self) -> tuple[str, ...]:
        return self.prop_sets[self.prop_index]


def prop_cycle(requested: list[str], available: list[str]) -> tuple[tuple[str, ...], ...]:
    """The prop sets ``p`` cycles through: the requested set first, then every available prop
    alone, then none (no duplicates)."""
    sets: list[tuple[str, ...]] = [tuple(requested)]
    for name in available:
        if (name,) not in sets:
            sets.append((name,))
    if () not in sets:
        sets.append(())
    return tuple(sets)


def handle_key(state: LiveState, key: int) -> tuple[LiveState, str | None]:
    """Apply one key press (``cv2.waitKey`` code; -1 or 255 = none). Returns the new state and
    an action for the caller to perform: ``"take"`` (start / stop recording), ``"calibrate"``
    (restart the neutral-face calibration), ``"hands"`` / ``"face"`` (their drawing was
    switched: :func:`drawing_hint`) or None."""
    if key in (-1, 255):
        return state, None
    ch = chr(key) if 0 <= key < 256 else ""
    n = len(state.prop_sets)
    if key == ESC or ch == "q":
        return replace(state, quit=True), None
    if ch == "p":
        return replace(state, prop_index=(state.prop_index + 1) % n), None
    if ch in ("o", "P"):  # P where a backend delivers Shift (Qt does not: o is the documented key)
        return replace(state, prop_index=(state.prop_index - 1) % n), None
    if ch == "s":
        return replace(state, skeleton=not state.skeleton), None
    if ch == "a":
        i = AVATAR_CYCLE.index(state.avatar) if state.avatar in AVATAR_CYCLE else 0
        return replace(state, avatar=AVATAR_CYCLE[(i + 1) % len(AVATAR_CYCLE)]), None
    if ch == "g":
        return replace(state, hands=not state.hands), "hands"
    if ch == "f":
        return replace(state, face=not state.face), "face"
    if ch == "n":
        return state, "calibrate"
    if ch == "m":
        return replace(state, mirror=not state.mirror), None
    if ch == "h":
        return replace(state, help=not state.help), None
    if ch == "r":
        return state, "take"
    return state, None


def parse_keys(text: str | None) -> dict[int, list[int]]:
    """``"30:p,60:a,90:q"`` -> ``{30: [ord('p')], ...}`` (frame number: key presses)."""
    out: dict[int, list[int]] = {}
    if not text:
        return out
    for item in text.split(","):
        frame, sep, key = item.strip().partition(":")
        if not sep or not frame.strip().isdigit() or len(key) != 1:
            raise ConfigError(f"--keys takes FRAME:KEY pairs like 30:p,60:a, got {item!r}")
        out.setdefault(int(frame), []).append(ord(key))
    return out


class LiveView:
    """The live renderer ``(PoseFrame, fps) -> BGR image``: props and avatar, skeleton, then the
    mirror flip, then the HUD (so text reads normally). Holds the :class:`LiveState`."""

    def __init__(self, state: LiveState, camera: Camera, props_by_name: dict, overlay_config) -> None:
        from ..render.overlay import PropRenderer

        self.state = state
        self.props_by_name = props_by_name
        self.renderer = PropRenderer(camera, [], overlay_config)
        self.status = ""
        self.latency_ms = float("nan")
        self._applied: tuple | None = None
        self.apply()

    def apply(self) -> None:
        """Make the renderer match the state (props worn, avatar)."""
        key = (self.state.props, self.state.avatar)
        if key != self._applied:
            self.renderer.set_props([self.props_by_name[n] for n in self.state.props])
            self.renderer.set_avatar(self.state.avatar)
            self._applied = key

    def __call__(self, pose_frame: PoseFrame, fps: float) -> np.ndarray:
        from ..render.draw import DrawConfig, draw_hud, draw_skeleton, hud_size, least_covered_corner

        st = self.state
        image = self.renderer.render(pose_frame.frame.image, pose_frame.people)
        image = image.copy() if image is pose_frame.frame.image else image
        if st.skeleton:
            for person in pose_frame.people:
                draw_skeleton(image, person, DrawConfig(show_hud=False, hands=st.hands, face=st.face))
        boxes = people_boxes(pose_frame, mirror=st.mirror)
        if st.mirror:
            image = np.ascontiguousarray(image[:, ::-1])
        lines = [
            f"{fps:5.1f} fps  latency {self.latency_ms:4.0f} ms  props {self.renderer.stats.ms:4.1f} ms"
            if np.isfinite(fps)
            else "starting"
        ]
        lines.append(
            "props: " + (", ".join(st.props) if st.props else "none") + (f"  avatar: {st.avatar}" if st.avatar else "")
        )
        if self.status:
            lines.append(self.status)
        help_lines = list(HELP) if st.help else ["h: help"]
        status_corner = least_covered_corner(image.shape, hud_size(image.shape, lines), boxes)
        draw_hud(image, lines, status_corner)
        # The help goes in the free corner that covers the fewest people (never on the status).
        size = hud_size(image.shape, help_lines)
        taken = boxes + [_corner_box(image.shape, hud_size(image.shape, lines), status_corner)]
        self.help_corner = least_covered_corner(image.shape, size, taken)
        return draw_hud(image, help_lines, self.help_corner)

    def close(self) -> None:
        self.renderer.close()


def people_boxes(pose_frame: PoseFrame, mirror: bool = False) -> list[tuple[float, float, float, float]]:
    """Each person's bounding box ``(x0, y0, x1, y1)`` in pixels of the displayed image (x
    flipped when ``mirror``), from the landmarks seen (visibility >= 0.5), widened by a tenth
    of its size."""
    w, h = pose_frame.frame.size
    boxes = []
    for person in pose_frame.people:
        px = person.pixels(w, h)
        seen = np.isfinite(px).all(axis=1) & (np.nan_to_num(person.landmarks[:, 3]) >= 0.5)
        if not seen.any():
            continue
        (x0, y0), (x1, y1) = px[seen].min(axis=0), px[seen].max(axis=0)
        if mirror:
            x0, x1 = w - x1, w - x0
        mx, my = 0.1 * (x1 - x0), 0.1 * (y1 - y0)
        boxes.append((float(x0 - mx), float(y0 - 2 * my), float(x1 + mx), float(y1 + my)))
    return boxes


def _corner_box(shape, block: tuple[int, int], corner: str) -> tuple[float, float, float, float]:
    h, w = shape[:2]
    bw, bh = block
    x0 = 0 if corner.endswith("left") else w - bw
    y0 = 0 if corner.startswith("top") else h - bh
    return (x0, y0, x0 + bw, y0 + bh)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "live",
        help="mirror view: props, skeleton and avatar on the camera image",
        description="Live mirror view from a webcam (or a video with --input): props worn on the body, the "
        "skeleton, an avatar, takes on a key, fps and latency on screen. Keys: p/o next/previous props, "
        "s skeleton, a avatar, g hands, f face, n neutral face, r record, m mirror, h help, q or Esc quit.",
    )
    p.add_argument("--camera", type=int, default=0, metavar="N", help="webcam index (default 0)")
    p.add_argument("--input", metavar="VIDEO", help="play a video file (or image, folder) instead of a camera")
    p.add_argument("--no-mirror", action="store_true", help="show the image as the camera sees it (not mirrored)")
    p.add_argument("--headless", action="store_true", help="no window (write --out instead); for tests and servers")
    p.add_argument("--keys", metavar="FRAME:KEY,...", help="press keys at frame numbers, e.g. 30:p,60:a,90:q")
    p.add_argument("--max-frames", type=int, metavar="N", help="stop after N frames")
    p.add_argument("--loop", action="store_true", help="with --input: play it over and over until you quit")
    add_output_options(p)
    feat_take.add_recorder_options(p)
    p.set_defaults(func=run)


def _check_display(args: argparse.Namespace) -> None:
    if args.headless:
        return
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise ConfigError("no display to open a window on; use --headless (with --out FILE.mp4 to see the result)")


def live_spec(args: argparse.Namespace, source) -> PipelineSpec:
    """The effective spec: a take recorder always present (the record key), the person mask
    whenever props may be worn with occlusion (``p`` cycles through them all), LIVE mode for
    a camera or a file shown in a window (paced by its timestamps), VIDEO mode for a file
    played headless (every frame, for tests and servers)."""
    spec = spec_from_args(args, recorder=True)
    spec = replace(spec, estimator=replace(spec.estimator, segmentation=spec.overlay.occlusion))
    lossless = source is not None and source.kind != "camera" and args.headless
    return with_mode(spec, RunningMode.VIDEO if lossless else RunningMode.LIVE)


def run(args: argparse.Namespace) -> int:
    from .._cv import cv2
    from ..build import build_pipeline, camera_for, chosen_props
    from ..render.props import load_manifest
    from ..source import open_source

    if args.print_config:
        return print_config(live_spec(args, None).validate(view=True))
    _check_display(args)
    keys = parse_keys(args.keys)
    if args.max_frames is not None and args.max_frames < 1:
        raise ConfigError(f"--max-frames must be at least 1, got {args.max_frames}")
    spec = live_spec(args, None).validate(view=True)
    available = load_manifest(spec.overlay.manifest)
    requested = [p.name for p in chosen_props(spec)]
    state = LiveState(
        prop_sets=prop_cycle(requested, list(available)),
        avatar=spec.overlay.avatar,
        mirror=not args.no_mirror,
        hands=spec.overlay.draw_hands,
        face=spec.overlay.draw_face,
    )
    if args.loop and not args.input:
        raise ConfigError("--loop plays an --input file over and over; a camera never ends")
    if args.loop:
        from ..source import LoopSource

        source = LoopSource(lambda: open_source(args.input))
    else:
        source = open_source(args.input) if args.input else open_source(args.camera)
    try:
        spec = live_spec(args, source)
        camera = camera_for(spec, source)
        view = LiveView(state, camera, available, overlay_config(spec))
        pipeline = build_pipeline(
            spec, source, camera, force=args.force, renderer=view, take_header={"command": "live"}
        )
    except BaseException:
        source.close()
        raise
    live = spec.estimator.mode is RunningMode.LIVE
    runtime = LiveRuntime(
        source,
        pipeline,
        config=RuntimeConfig(drop_frames=live, realtime=live and source.kind != "camera"),
    )
    shown = {"n": 0}

    def on_frame(pf: PoseFrame, image: np.ndarray | None) -> bool:
        view.latency_ms = runtime.stats.recent_display_latency_ms(30)  # what the viewer sees
        pressed = list(keys.get(shown["n"], []))
        if not args.headless and image is not None:
            if shown["n"] == 0:  # resizable, keeps the aspect ratio, no Qt tool bar; starts at the image size
                cv2.namedWindow(WINDOW, cv2.WINDOW_NORMAL | cv2.WINDOW_KEEPRATIO | cv2.WINDOW_GUI_NORMAL)
                cv2.resizeWindow(WINDOW, image.shape[1], image.shape[0])
            cv2.imshow(WINDOW, image)
            k = cv2.waitKey(1)
            pressed.append(k & 0xFF if k >= 0 else -1)
            if cv2.getWindowProperty(WINDOW, cv2.WND_PROP_VISIBLE) < 1:
                pressed.append(ord("q"))
        shown["n"] += 1
        for k in pressed:
            view.state, action = handle_key(view.state, k)
            if action == "take":
                try:
                    view.status = feat_take.toggle_take(pipeline, args.take_dir)
                except OutputError as exc:
                    view.status = f"cannot record: {exc}"
                print(view.status, file=sys.stderr)
            elif action == "calibrate":
                view.status = recalibrate(pipeline)
                print(view.status, file=sys.stderr)
            elif action in ("hands", "face"):
                hint = drawing_hint(action, spec)
                if hint is not None:
                    view.status = hint
                    print(hint, file=sys.stderr)
        view.apply()
        if args.max_frames is not None and shown["n"] >= args.max_frames:
            return False
        return not view.state.quit

    runtime.on_frame = on_frame
    t0 = time.perf_counter()
    try:
        stats = runtime.run()
    finally:
        if not args.headless:
            cv2.destroyAllWindows()
    seconds = time.perf_counter() - t0
    report(pipeline, args)  # closing the pipeline finished any take in progress
    print(
        f"{stats.emitted} frames in {seconds:.1f} s ({stats.steady_fps:.1f} fps after the first), latency median "
        f"{stats.latency_ms(50):.0f} ms to outputs, {stats.display_latency_ms(50):.0f} ms to the view",
        file=sys.stderr,
    )
    if stats.error is not None:
        raise stats.error
    return interrupted_exit(stats)


def drawing_hint(part: str, spec: PipelineSpec) -> str | None:
    """The status line for the ``g`` (``part`` ``"hands"``) or ``f`` (``"face"``) key when
    that part is not tracked (the keys only show or hide the drawing), else None."""
    tracked = spec.estimator.hands if part == "hands" else spec.estimator.face
    if tracked:
        return None
    option = "--hands" if part == "hands" else "--face"
    return f"no {part} tracking: run with {option} or --holistic (this key shows or hides their drawing)"


def recalibrate(pipeline) -> str:
    """Restart the neutral-face calibration of ``pipeline``'s ``hands_face`` stage
    (:meth:`arpose.retarget.hands_face.HandsFaceStage.calibrate`, every person); returns the
    status line to show."""
    stage = pipeline.stage("hands_face")
    if stage is None or not hasattr(stage, "calibrate"):
        return "no face tracking: run with --face or --holistic to calibrate the neutral face"
    stage.calibrate()
    return "neutral face: calibrating (keep a neutral face for 2 s)"


def overlay_config(spec: PipelineSpec):
    from ..render.overlay import OverlayConfig

    ov = spec.overlay
    return OverlayConfig(occlusion=ov.occlusion, avatar=ov.avatar, lighting=ov.lighting)
