"""One function builds a running pipeline from a :class:`~arpose.spec.PipelineSpec`.

>>> from arpose import PipelineSpec, VideoOutput, build_pipeline
>>> from arpose.source import open_source
>>> source = open_source("clip.mp4")
>>> spec = PipelineSpec(outputs=(VideoOutput("annotated.mp4"),))
>>> with build_pipeline(spec, source) as pipeline:          # doctest: +SKIP
...     for frame in source:
...         pipeline.emit(pipeline.analyze(frame))

:func:`build_pipeline` checks the whole spec and every output path before it opens anything,
then wires, in this order (see :class:`~arpose.pipeline.Pipeline` for how frames flow):

1. the estimator (:func:`make_estimator`: BlazePose's single-person pipeline on LiteRT by
   default, MediaPipe's classic graph with ``backend`` mediapipe, or MediaPipe Tasks for
   several people or a user-supplied model);
2. identity tracking, its own stage ``"track"``, when several people are tracked, then
   left/right identity for every person, the stage ``"swap"`` (``tracking.fix_swaps``);
3. smoothing ``"smooth"`` (not for unrelated stills);
4. retargeting ``"retarget"``;
5. the data outputs in :data:`arpose.spec.OUTPUT_TYPES` order (VMC, OSC, take, CSV,
   angles, BVH), written as soon as a pose is known;
6. the renderer (props and avatar under the skeleton and HUD) when something shows or
   writes the image, and the image outputs (the annotated video).

The pipeline owns everything it was given or built: :meth:`Pipeline.close` closes every
output, the renderer and the estimator, even when one of them fails. If building fails
part-way, whatever was already opened is closed again and no output file is left behind.
"""

from __future__ import annotations

import functools
import os
from dataclasses import replace
from typing import Any, Iterable

from .errors import ArposeError, ConfigError
from .pipeline import ImageSink, Pipeline, Renderer
from .spec import PipelineSpec, RunningMode
from .types import Camera


def camera_for(spec: PipelineSpec, source: Any) -> Camera:
    """The camera of ``source``: its own intrinsics when it knows them (the synthetic
    performer, a take), else square pixels from ``spec.camera.fov`` and the source's size."""
    own = getattr(source, "camera", None)
    if isinstance(own, Camera):
        return own
    return Camera.from_fov(*source.size, spec.camera.fov)


def make_estimator(spec: PipelineSpec) -> Any:
    """The estimator ``spec.estimator`` asks for (identity tracking is a separate stage).

    :attr:`~arpose.spec.EstimatorSpec.resolved_backend` litert (the default for one person):
    :class:`~arpose.estimate.litert.LiteRTPoseEstimator` (BlazePose's pipeline on LiteRT, the
    same answers as MediaPipe's graph); else ``max_people`` 1 without
    ``model``: the classic :class:`~arpose.estimate.BlazePoseEstimator`; otherwise MediaPipe
    Tasks' :class:`~arpose.estimate.tasks.MultiPoseEstimator`. Raises
    :class:`ConfigError` for bad values, :class:`InputError` for a bad model file.
    """
    from .estimate import BlazePoseEstimator, EstimatorConfig

    e = spec.estimator
    config = EstimatorConfig(
        tracking=e.tracking,
        min_detection_confidence=e.min_detection_confidence,
        min_tracking_confidence=e.min_tracking_confidence,
        segmentation=spec.segmentation,
        mediapipe_smoothing=e.mediapipe_smoothing,
    )
    if e.resolved_backend == "litert":
        from .estimate.litert import LiteRTOptions, LiteRTPoseEstimator

        pose = LiteRTPoseEstimator(config, LiteRTOptions(threads=spec.litert_threads))
    elif e.max_people == 1 and not e.model:
        pose = BlazePoseEstimator(config)
    else:
        from .estimate.tasks import MultiPoseConfig, MultiPoseEstimator

        pose = MultiPoseEstimator(
            MultiPoseConfig(
                max_people=e.max_people,
                model=e.model,
                tracking=e.tracking,
                min_detection_confidence=e.min_detection_confidence,
                segmentation=spec.segmentation,
                tiles=e.tiles,
            )
        )
    pose = with_hands_face(spec, pose)
    return MirroredInput(pose) if spec.estimator.mirrored_input else pose


class MirroredInput:
    """An estimator wrapper for mirrored input frames (``EstimatorSpec.mirrored_input``): each
    frame is flipped back horizontally (``cv2.flip(image, 1)``) and the inner estimator's
    ``process`` runs on that, so every later step (and the renderer, which draws on the
    returned ``PoseFrame.frame``) sees the camera's own view and the subject's left is the
    subject's left for the body, hands and face alike. Other attributes are the inner one's."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def process(self, frame):
        from ._cv import cv2

        return self.inner.process(replace(frame, image=cv2.flip(frame.image, 1)))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def with_hands_face(spec: PipelineSpec, pose: Any) -> Any:
    """``pose`` wrapped in a :class:`~arpose.estimate.holistic.HolisticEstimator` when
    ``spec.estimator`` asks for hands or the face, else ``pose`` itself."""
    e = spec.estimator
    if not (e.hands or e.face):
        return pose
    from .estimate.hands import HandsConfig
    from .estimate.holistic import HolisticConfig, HolisticEstimator

    config = HolisticConfig(
        hands=e.hands,
        face=e.face,
        tracking=e.tracking,
        single_person=e.max_people == 1,
        hands_config=HandsConfig(model=e.hand_model),
    )
    return HolisticEstimator(pose, config)


def make_stages(spec: PipelineSpec, camera: Camera) -> list:
    """New stage objects for ``spec`` in pipeline order (their state starts empty):
    ``track`` (several people), ``swap`` (left/right identity), ``smooth``, ``retarget``,
    ``hands_face`` (with hands or face)."""
    stages: list = []
    mode = spec.estimator.mode
    if spec.estimator.max_people > 1:
        from .track import TrackerConfig, TrackStage

        stages.append(TrackStage(TrackerConfig(max_gap=spec.tracking.max_gap), mode is not RunningMode.IMAGE))
    if spec.tracking.fix_swaps and mode is not RunningMode.IMAGE:
        from .track import SwapStage

        stages.append(SwapStage())
    if spec.smoothing:
        from .smooth import SmoothStage

        stages.append(SmoothStage(spec.smooth.config()))
    if spec.retarget.enabled:
        from .retarget import RetargetStage

        stages.append(RetargetStage(spec.retarget.config(mode), camera, independent_frames=mode is RunningMode.IMAGE))
    if spec.estimator.hands or spec.estimator.face:
        from .retarget.hands_face import HandsFaceStage

        stages.append(HandsFaceStage(independent_frames=mode is RunningMode.IMAGE))
    return stages


def smoothed_offline(out: Any) -> bool:
    """True for the outputs the zero-lag smoother feeds: the landmark CSV, joint angles, BVH
    and a take written from the start (a take toggled by the live window's key stays causal)."""
    return out.kind in ("csv", "angles", "bvh") or (out.kind == "take" and not out.toggled)


def offline_smoothing(spec: PipelineSpec) -> bool:
    """True when ``spec``'s file outputs get zero-lag smoothing (:mod:`arpose.smooth.offline`):
    smoothing on, its mode not ``"causal"``, frames of a file in order (VIDEO mode), and at
    least one output :func:`smoothed_offline` feeds. Streams, the video and windows stay causal."""
    return (
        spec.smoothing
        and spec.smooth.mode != "causal"
        and spec.estimator.mode is RunningMode.VIDEO
        and any(smoothed_offline(o) for o in spec.outputs)
    )


def make_offline_outputs(spec: PipelineSpec, camera: Camera, sinks: list) -> Any:
    """A :class:`~arpose.smooth.SmoothedOutputs` sink feeding ``sinks`` from the zero-lag
    smoother of ``spec.smooth`` and its own new stages after smoothing (retargeting, hands and
    face), which derive bodies from the smoothed landmarks."""
    from .smooth import OfflineSmoother, SmoothedOutputs

    unsmoothed = replace(spec, smooth=replace(spec.smooth, enabled=False))
    later = [s for s in make_stages(unsmoothed, camera) if s.name not in ("track", "swap", "smooth")]
    return SmoothedOutputs(OfflineSmoother(spec.smooth.offline_config()), later, sinks)


def chosen_props(spec: PipelineSpec, *, replayed: bool = False) -> list:
    """The :class:`~arpose.render.props.Prop` objects ``spec.overlay`` names (reads the
    manifests; ConfigError for unknown names, InputError for a bad manifest).

    A prop worn on a finger (a part with ``fit`` ``"ring_finger"``) needs the hands tracked:
    named without ``spec.estimator.hands`` it is a ConfigError, and ``all`` leaves it out.
    ``replayed``: the frames come from a take (their hands are what was recorded), no check.
    """
    if not spec.overlay.props:
        return []
    from .render.props import load_manifest, select_props

    chosen = select_props(",".join(spec.overlay.props), load_manifest(spec.overlay.manifest))
    if replayed or spec.estimator.hands:
        return chosen
    on_fingers = [p.name for p in chosen if any(part.fit == "ring_finger" for part in p.parts)]
    named = [n for n in on_fingers if n in spec.overlay.props]
    if named:
        raise ConfigError(f"--props {named[0]} is worn on a finger: add --hands or --holistic to track the hands")
    return [p for p in chosen if p.name not in on_fingers]


def skeleton_renderer(pose_frame, fps: float, config: Any = None):
    """The plain renderer: a copy of the frame with every person's skeleton (coloured by
    visibility), hands and face (when present and ``config``, an
    :class:`~arpose.render.draw.DrawConfig`, draws them: by default it does) and the HUD
    (confidence, fps)."""
    from .render.draw import DrawConfig, draw_pose_frame

    return draw_pose_frame(pose_frame.frame.image.copy(), pose_frame, fps, config or DrawConfig())


def _skeleton_renderer_for(spec: PipelineSpec) -> Renderer:
    """:func:`skeleton_renderer` drawing hands and face as ``spec.overlay`` asks."""
    ov = spec.overlay
    if ov.draw_hands and ov.draw_face:
        return skeleton_renderer
    from .render.draw import DrawConfig

    return functools.partial(skeleton_renderer, config=DrawConfig(hands=ov.draw_hands, face=ov.draw_face))


def make_renderer(spec: PipelineSpec, camera: Camera, props: list | None = None) -> Renderer:
    """The frame renderer ``(PoseFrame, fps) -> BGR image``: the props and avatar (when asked
    for) drawn under the skeleton and HUD. ``props``: already chosen props (default: read them
    from the spec)."""
    if not spec.overlay.draws_props:
        return _skeleton_renderer_for(spec)
    from .render.frames import AnchorConfig
    from .render.overlay import OverlayConfig, PropRenderer

    ov = spec.overlay
    anchors = AnchorConfig(smooth=spec.estimator.mode is not RunningMode.IMAGE)  # stills: each on its own
    config = OverlayConfig(occlusion=ov.occlusion, avatar=ov.avatar, lighting=ov.lighting, anchors=anchors)
    chosen = chosen_props(spec) if props is None else props
    return OverlayRenderer(_skeleton_renderer_for(spec), PropRenderer(camera, chosen, config))


class OverlayRenderer:
    """A renderer ``(PoseFrame, fps) -> BGR image`` that draws the props and avatar onto the
    frame, then hands it to ``base`` (the skeleton and HUD renderer), so text and skeleton stay
    on top. With nothing to draw the output is exactly ``base``'s. Owns ``props`` (a
    :class:`~arpose.render.overlay.PropRenderer`): :meth:`close` closes it."""

    def __init__(self, base: Renderer, props: Any) -> None:
        self.base = base
        self.props = props

    def __call__(self, pose_frame, fps: float):
        image = self.props.render(pose_frame.frame.image, pose_frame.people, timestamp=pose_frame.timestamp)
        if image is not pose_frame.frame.image:
            pose_frame = replace(pose_frame, frame=replace(pose_frame.frame, image=image))
        return self.base(pose_frame, fps)

    def close(self) -> None:
        self.props.close()


def check_outputs(spec: PipelineSpec, force: bool = False, inputs: Iterable[str] = ()) -> None:
    """Fail before any work if a file output cannot be written: it exists (without
    ``force``), its folder is missing or is a file, or it is one of ``inputs``."""
    from .record import check_writable

    for out in spec.outputs:
        path = getattr(out, "path", None)
        if path is not None and out.kind != "vmc" and out.kind != "osc":
            check_writable(path, force=force, inputs=tuple(inputs))
        if out.kind == "csv" and (spec.estimator.hands or spec.estimator.face):  # its NAME.hands_face.csv
            from .record.csv_landmarks import hands_face_path

            check_writable(hands_face_path(path), force=force, inputs=tuple(inputs))
    take = spec.output("take")
    if take is not None and take.toggled and not os.path.isdir(take.folder):
        raise ConfigError(f"--take-dir {take.folder} is not a folder (create it first)")


def source_inputs(source: Any) -> tuple[str, ...]:
    """The files a source reads (outputs may never be one of them)."""
    path = getattr(source, "path", None)
    return (str(path),) if path is not None and os.path.isfile(str(path)) else ()


def build_pipeline(
    spec: PipelineSpec,
    source: Any,
    camera: Camera | None = None,
    *,
    force: bool = False,
    renderer: Renderer | None = None,
    estimator: Any = None,
    analysed: bool = False,
    take_header: dict | None = None,
) -> Pipeline:
    """A :class:`Pipeline` wired as ``spec`` says, for frames from ``source``.

    source: gives the outputs' rate and size (``fps``, ``size``), its name and kind for a
        take's header, and the input file that no output may overwrite. It is not read here.
    camera: intrinsics of the frames (default :func:`camera_for`).
    force: overwrite existing output files.
    renderer: a renderer of the caller's own (e.g. the live window's view); the pipeline owns
        and closes it. Default: :func:`make_renderer` when there is an image output.
    estimator: an estimator of the caller's own (default :func:`make_estimator`).
    analysed: frames arrive already analysed (a take replayed through
        :meth:`Pipeline.emit`): no estimator and no stages, only the renderer and outputs.
    take_header: extra header fields for a take (e.g. ``{"command": "run"}``).

    Raises :class:`ConfigError` / :class:`InputError` / :class:`OutputError` with a one-line
    message before any file is created when the spec, a prop manifest, a model or an output
    path is wrong.
    """
    spec.validate(view=renderer is not None)
    camera = camera or camera_for(spec, source)
    check_outputs(spec, force=force, inputs=source_inputs(source))
    props = chosen_props(spec, replayed=analysed) if renderer is None and spec.output("video") is not None else None
    opened: list = []
    try:
        stages = [] if analysed else make_stages(spec, camera)
        sinks = _make_sinks(spec, source, camera, force, take_header, opened)
        if not analysed and offline_smoothing(spec):
            sinks, stages = _offline_branch(spec, camera, sinks, stages, renderer, opened)
        if renderer is None and spec.output("video") is not None:
            renderer = make_renderer(spec, camera, props)
            opened.append(renderer)
        if estimator is None and not analysed:
            estimator = make_estimator(spec)
    except BaseException:
        for thing in reversed(opened):
            _discard(thing)
        if renderer is not None and renderer not in opened:
            _close(renderer)
        raise
    return Pipeline(estimator, stages=stages, renderer=renderer, sinks=sinks, spec=spec)


def _make_sinks(spec: PipelineSpec, source: Any, camera: Camera, force: bool, header: dict | None, opened: list):
    from .spec import spec_to_dict

    sinks: list = []
    fps = getattr(source, "fps", None)
    for out in spec.outputs:
        kind = out.kind
        if kind == "csv":
            from .record import CsvWriter

            sink = CsvWriter(out.path, force=True, hands_face=spec.estimator.hands or spec.estimator.face)
        elif kind == "angles":
            from .retarget import AnglesCsvWriter

            sink = AnglesCsvWriter(out.path, force=True)
        elif kind == "take":
            from .record.take import TakeRecorder, TakeWriter
            from .record.take import take_header as make_header

            h = make_header(
                source=getattr(source, "name", ""),
                source_kind=getattr(source, "kind", ""),
                resolution=tuple(source.size) if getattr(source, "size", None) else None,
                fps=fps,
                camera=camera,
                command=(header or {}).get("command", ""),
                settings={"spec": spec_to_dict(spec)},
            )
            if out.toggled:
                sink = TakeRecorder(h)
                if out.path is not None:
                    sink.start(out.path, force=True)
            else:
                sink = TakeWriter(out.path, h, force=True)
        elif kind == "bvh":
            from .record.bvh_sink import BvhSink

            sink = BvhSink(out.path, fps, out.person, force=True, origin=out.origin)
        elif kind in ("vmc", "osc"):
            from .broadcast import RawOscSink, VmcSink

            if kind == "vmc":
                sink = VmcSink(
                    out.host,
                    out.port,
                    rate_hz=out.rate_hz,
                    avatar=out.avatar,
                    vrm=out.vrm,
                    trackers=out.trackers,
                    expressions=out.expressions,
                )
            else:
                sink = RawOscSink(out.host, out.port, rate_hz=out.rate_hz)
        elif kind == "video":
            from .record import VideoWriter

            sink = ImageSink(VideoWriter(out.path, fps or 30.0, tuple(source.size)))
        else:  # pragma: no cover - OUTPUT_TYPES and this function change together
            raise ConfigError(f"unknown output kind {kind!r}")
        opened.append(sink)
        sinks.append(sink)
    return sinks


def _offline_branch(spec: PipelineSpec, camera: Camera, sinks: list, stages: list, renderer: Any, opened: list):
    """Move the outputs :func:`smoothed_offline` feeds behind one
    :class:`~arpose.smooth.SmoothedOutputs` (at the first one's place). When nothing else
    uses the causal path (no stream, video or window), its smoothing and retargeting stages
    are dropped (the zero-lag branch has its own); the causal smoothing stage stays, for the
    hands and face, which the branch passes on as it gets them. Returns ``(sinks, stages)``."""
    fed = [s for s, o in zip(sinks, spec.outputs) if smoothed_offline(o)]
    branch = make_offline_outputs(spec, camera, fed)
    for s in fed:
        opened.remove(s)
    opened.append(branch)
    first = sinks.index(fed[0])
    rest = [s for s in sinks if s not in fed]
    rest.insert(first, branch)
    causal_used = renderer is not None or any(not smoothed_offline(o) for o in spec.outputs)
    if not causal_used:
        stages = [s for s in stages if s.name in ("track", "swap", "smooth")]
    return rest, stages


def _close(thing: Any) -> None:
    close = getattr(thing, "close", None)
    if close is not None:
        try:
            close()
        except ArposeError:
            pass


def _discard(thing: Any) -> None:
    """Close a sink or renderer opened by a build that failed, removing what it created."""
    discard = getattr(thing, "discard", None)
    if discard is not None:
        discard()
    else:
        _close(thing)


def spec_for_source(spec: PipelineSpec, source: Any) -> PipelineSpec:
    """``spec`` with its running mode set from ``source`` (:meth:`RunningMode.for_source`)."""
    return replace(spec, estimator=replace(spec.estimator, mode=RunningMode.for_source(source)))
