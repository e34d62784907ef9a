"""What a pipeline does, as one frozen, typed value: :class:`PipelineSpec`.

A spec names the estimator and its running mode, identity tracking, smoothing, retargeting,
the overlay and a tuple of typed outputs. :func:`arpose.build.build_pipeline` turns a spec, a
source and a camera into a running :class:`~arpose.pipeline.Pipeline`; the command line only
turns its arguments (and ``--config FILE.toml``) into a spec. The same spec can be written
as TOML (:func:`spec_to_toml`, ``arpose run ... --print-config``), read back
(:func:`spec_from_toml`) and is stored in every take's header (:func:`spec_to_dict`).

TOML layout: one table per stage (``[estimator]``, ``[tracking]``, ``[smooth]``,
``[retarget]``, ``[camera]``, ``[overlay]``) and one table per output under ``[outputs]``
(``[outputs.video]``, ``[outputs.csv]``, ``[outputs.angles]``, ``[outputs.take]``,
``[outputs.bvh]``, ``[outputs.vmc]``, ``[outputs.osc]``). Every key is a field of the
matching dataclass below, with the same name and type; unknown tables or keys and wrong
types are a one-line :class:`~arpose.errors.ConfigError` naming the key.

Nothing here opens files, sockets or models: a spec is plain data, cheap to build, compare
and print; :meth:`PipelineSpec.validate` checks values and combinations.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import types
import typing
from dataclasses import dataclass, field, fields, replace
from typing import Any, Mapping, Union

from .errors import ConfigError, InputError

#: Most people accepted by ``EstimatorSpec.max_people`` (each costs about one landmark
#: inference a frame).
MAX_PEOPLE_LIMIT = 16
#: Most tiles per side accepted by ``EstimatorSpec.tiles``.
MAX_TILES = 8
#: Pose estimation backends: ``auto`` (LiteRT for one person with the wheel's model, else
#: MediaPipe), MediaPipe's own graph, or the same pipeline run by arpose on LiteRT.
BACKENDS = ("auto", "mediapipe", "litert")
#: Where a BVH's origin is: the take's camera-attached frame, or the floor under the first hips.
BVH_ORIGINS = ("camera", "floor")
#: Smoothing modes (:attr:`SmoothSpec.mode`).
SMOOTH_MODES = ("auto", "causal", "offline")


class RunningMode(str, enum.Enum):
    """How frames relate to each other, which decides tracking and pacing.

    IMAGE: unrelated stills. The detector runs on every frame; no smoothing, calibration,
        hold or grounding carries from one frame to the next.
    VIDEO: consecutive frames of one shot, processed losslessly (every frame, as fast as the
        machine allows): video files, image sequences, a performer clip.
    LIVE: a real-time stream. The runtime keeps only the newest frame at each hand-off, so a
        slow stage drops frames instead of falling behind; a file in LIVE mode is paced by its
        timestamps as a camera would deliver it.
    """

    IMAGE = "image"
    VIDEO = "video"
    LIVE = "live"

    @classmethod
    def for_source(cls, source: Any) -> "RunningMode":
        """The natural mode of a source: LIVE for a camera, VIDEO for a sequence, IMAGE for
        unrelated stills (``source.kind`` and ``source.is_sequence``)."""
        if getattr(source, "kind", "") == "camera":
            return cls.LIVE
        return cls.VIDEO if getattr(source, "is_sequence", True) else cls.IMAGE


@dataclass(frozen=True)
class EstimatorSpec:
    """BlazePose and how it runs.

    mode: see :class:`RunningMode`.
    max_people: 1 is the single-person path (person id 0; LiteRT by default, see ``backend``); 2 to
        :data:`MAX_PEOPLE_LIMIT` use MediaPipe Tasks' PoseLandmarker plus the identity tracker.
    model: path of a ``pose_landmarker_{lite,full,heavy}.task`` bundle (default: the wheel's
        Full model, bundled on first use into ``~/.cache/arpose``).
    tiles: N > 1 also searches an N x N grid of overlapping tiles for people too small for the
        detector (needs ``max_people`` > 1; about N*N times slower).
    segmentation: also return each person's mask (props with occlusion turn it on).
    min_detection_confidence, min_tracking_confidence: MediaPipe's thresholds in [0, 1].
    mediapipe_smoothing: MediaPipe's own landmark filter (off in the product; the evaluation
        peer turns it on).
    hands, face: also estimate each person's hands (21 landmarks each) / face (478-point mesh
        with irises) and retarget fingers / head, eyes and expressions (``--hands``, ``--face``,
        ``--holistic``; :mod:`arpose.estimate.holistic`, docs/hands_face.md).
    hand_model: ``"full"`` (default) or ``"lite"``, the hand landmark model (``--hand-model``;
        lite costs about half as much per hand).
    mirrored_input: the input frames are already mirrored (e.g. a webcam app that flips its
        picture; ``--mirrored-input``): each frame is flipped back before estimation, so the
        body's, hands' and face's left is the subject's left and every output is drawn on the
        camera's own view (``live``'s mirror only flips the finished display).
    backend: ``"litert"`` (arpose runs BlazePose's pipeline itself on LiteRT with the wheel's
        models: the same answers as MediaPipe's graph, about half its time per frame; one
        person, the wheel's Full model; docs/backend.md), ``"mediapipe"`` (MediaPipe's own
        graph: ``solutions.pose`` for one person, Tasks for several or a ``model`` file), or
        ``"auto"`` (the default): :attr:`resolved_backend` picks litert where it applies.
        threads: LiteRT threads per model, 1 to 64, or 0 (the default): chosen by
        :attr:`PipelineSpec.litert_threads` (1 while props are rendered, which then use the other
        core; 2 when nothing else runs; measured in docs/backend.md). Batch workers: 1.
    """

    mode: RunningMode = RunningMode.VIDEO
    backend: str = "auto"
    threads: int = 0
    max_people: int = 1
    model: str | None = None
    tiles: int = 1
    segmentation: bool = False
    min_detection_confidence: float = 0.5
    min_tracking_confidence: float = 0.5
    mediapipe_smoothing: bool = False
    hands: bool = False
    face: bool = False
    hand_model: str = "full"
    mirrored_input: bool = False

    @property
    def tracking(self) -> bool:
        """True when the estimator may track between frames (not IMAGE mode)."""
        return self.mode is not RunningMode.IMAGE

    @property
    def resolved_backend(self) -> str:
        """The backend that runs: ``backend`` itself unless it is ``"auto"``, which is
        ``"litert"`` for one person with the wheel's model (no ``model`` file) and
        ``"mediapipe"`` otherwise (several people, a ``.task`` model: MediaPipe Tasks)."""
        if self.backend != "auto":
            return self.backend
        return "litert" if self.max_people == 1 and not self.model else "mediapipe"


@dataclass(frozen=True)
class TrackingSpec:
    """Identity tracking. max_gap: seconds a person may be unseen and keep their id (with
    ``max_people`` > 1). fix_swaps: left/right identity for every person, the stage ``swap``
    before smoothing (not for unrelated stills): frames BlazePose labels mirror-wise are
    exchanged back (:mod:`arpose.track.swaps`, docs/tracking.md)."""

    max_gap: float = 1.5
    fix_swaps: bool = True


@dataclass(frozen=True)
class SmoothSpec:
    """Landmark smoothing (One Euro, per person; see :class:`arpose.smooth.SmoothConfig`).

    enabled: False gives raw landmarks. min_cutoff (Hz), beta (Hz per m/s), d_cutoff (Hz):
    world landmarks across the image (x, y); ``depth_*``: world z; ``image_*``: image
    landmarks (speeds in torso sizes per second); visibility_threshold: raw visibility under
    which a landmark eases at hidden_cutoff (Hz) instead of following; visibility_cutoff (Hz):
    low-pass of visibility and presence; reset_gap: seconds unseen before a person's filter
    restarts. Smoothing never runs in IMAGE mode. ``hand_*`` / ``face_*``: hand and face
    landmarks (speeds in hand sizes / inter-ocular distances per second; with ``--hands`` /
    ``--face``).

    mode: ``"auto"`` (default): file outputs (take, CSV, angles, BVH) of a VIDEO-mode run get
    the zero-lag smoother (:mod:`arpose.smooth.offline`), everything else the causal One
    Euro filter; ``"causal"``: the One Euro filter everywhere; ``"offline"``: as auto, and an
    error in LIVE or IMAGE mode. Streams (VMC, OSC), the annotated video and live windows are
    always causal. ``leg_depth_*``: world z of the knees, ankles, heels and toes (a swinging
    foot moves fast in depth). ``offline_*``: the zero-lag smoother's half-gain frequencies in Hz (world
    x/y, depth, image), model order (3 constant acceleration, 2 constant velocity), variance
    factor of landmarks under the visibility threshold, and the seconds of later frames it
    waits for (:class:`arpose.smooth.OfflineConfig`).
    """

    enabled: bool = True
    mode: str = "auto"
    min_cutoff: float = 4.5
    beta: float = 10.0
    d_cutoff: float = 1.0
    depth_min_cutoff: float = 1.0
    depth_beta: float = 0.5
    depth_d_cutoff: float = 1.0
    image_min_cutoff: float = 2.0
    image_beta: float = 10.0
    image_d_cutoff: float = 1.0
    visibility_threshold: float = 0.5
    hidden_cutoff: float = 2.0
    visibility_cutoff: float = 0.5
    reset_gap: float = 0.5
    hand_min_cutoff: float = 3.0
    hand_beta: float = 2.0
    hand_d_cutoff: float = 1.0
    face_min_cutoff: float = 3.0
    face_beta: float = 5.0
    face_d_cutoff: float = 3.0
    leg_depth_min_cutoff: float = 1.0
    leg_depth_beta: float = 15.0
    leg_depth_d_cutoff: float = 1.0
    offline_cutoff: float = 6.0
    offline_depth_cutoff: float = 3.0
    offline_image_cutoff: float = 8.0
    offline_order: int = 3
    offline_hidden_noise: float = 100.0
    offline_lag: float = 1.0

    def offline_config(self):
        """The :class:`arpose.smooth.OfflineConfig` these values describe (sharing the
        visibility threshold, visibility cutoff and reset gap); ConfigError if one is out of
        range."""
        from .smooth import OfflineConfig

        return OfflineConfig(
            world_cutoff=self.offline_cutoff,
            depth_cutoff=self.offline_depth_cutoff,
            image_cutoff=self.offline_image_cutoff,
            visibility_cutoff=self.visibility_cutoff,
            order=self.offline_order,
            visibility_threshold=self.visibility_threshold,
            hidden_noise=self.offline_hidden_noise,
            reset_gap=self.reset_gap,
            lag=self.offline_lag,
        )

    def config(self):
        """The :class:`arpose.smooth.SmoothConfig` these values describe; ConfigError if one
        is out of range."""
        from .smooth import OneEuroParams, SmoothConfig

        return SmoothConfig(
            world=OneEuroParams(self.min_cutoff, self.beta, self.d_cutoff),
            world_depth=OneEuroParams(self.depth_min_cutoff, self.depth_beta, self.depth_d_cutoff),
            leg_depth=OneEuroParams(self.leg_depth_min_cutoff, self.leg_depth_beta, self.leg_depth_d_cutoff),
            image=OneEuroParams(self.image_min_cutoff, self.image_beta, self.image_d_cutoff),
            visibility_threshold=self.visibility_threshold,
            hidden_cutoff=self.hidden_cutoff,
            visibility_cutoff=self.visibility_cutoff,
            reset_gap=self.reset_gap,
            hands=OneEuroParams(self.hand_min_cutoff, self.hand_beta, self.hand_d_cutoff),
            face=OneEuroParams(self.face_min_cutoff, self.face_beta, self.face_d_cutoff),
        )

    @classmethod
    def from_config(cls, config: Any, enabled: bool = True) -> "SmoothSpec":
        """The spec of a :class:`arpose.smooth.SmoothConfig`."""
        return cls(
            enabled=enabled,
            min_cutoff=config.world.min_cutoff,
            beta=config.world.beta,
            d_cutoff=config.world.d_cutoff,
            depth_min_cutoff=config.world_depth.min_cutoff,
            depth_beta=config.world_depth.beta,
            depth_d_cutoff=config.world_depth.d_cutoff,
            leg_depth_min_cutoff=config.leg_depth.min_cutoff,
            leg_depth_beta=config.leg_depth.beta,
            leg_depth_d_cutoff=config.leg_depth.d_cutoff,
            image_min_cutoff=config.image.min_cutoff,
            image_beta=config.image.beta,
            image_d_cutoff=config.image.d_cutoff,
            visibility_threshold=config.visibility_threshold,
            hidden_cutoff=config.hidden_cutoff,
            visibility_cutoff=config.visibility_cutoff,
            reset_gap=config.reset_gap,
            hand_min_cutoff=config.hands.min_cutoff,
            hand_beta=config.hands.beta,
            hand_d_cutoff=config.hands.d_cutoff,
            face_min_cutoff=config.face.min_cutoff,
            face_beta=config.face.beta,
            face_d_cutoff=config.face.d_cutoff,
        )


@dataclass(frozen=True)
class RetargetSpec:
    """Retargeting to the humanoid rig (bones, root 6D pose, joint angles, feet).

    enabled: False leaves ``Person.body`` and ``Person.angles`` empty (VMC then sends
    "tracking lost"; angles and BVH outputs need it). grounding: pin planted feet to the
    estimated floor (never in IMAGE mode). subject_height: the person's standing height in
    metres (0.5 to 2.5) for metric depth; None keeps MediaPipe's average body.
    """

    enabled: bool = True
    grounding: bool = True
    subject_height: float | None = None

    def config(self, mode: RunningMode = RunningMode.VIDEO):
        """The :class:`arpose.retarget.RetargetConfig` for ``mode``."""
        from .retarget import RetargetConfig

        return RetargetConfig(
            subject_height=self.subject_height,
            grounding_enabled=self.grounding and mode is not RunningMode.IMAGE,
        )


@dataclass(frozen=True)
class CameraSpec:
    """The camera when the source does not say: horizontal field of view in degrees (square
    pixels, centred principal point)."""

    fov: float = 60.0


@dataclass(frozen=True)
class OverlaySpec:
    """What is drawn on the image (for an image output or a window).

    props: names of props to wear (built in: crown, glasses, helmet, shoulders, sword, wand,
        cape, wings; or from ``manifest``); ``("all",)`` wears every one.
    manifest: a JSON manifest of your own props (docs/overlays.md), added to the built-in ones.
    avatar: None, ``"beside"`` or ``"over"``: the rigid-segment avatar.
    occlusion: hide prop parts behind the body (turns segmentation on when props are worn).
    lighting: ``"baked"`` or ``"dynamic"``.
    skeleton: draw the skeleton and HUD.
    draw_hands, draw_face: with the skeleton, also draw ``Person.hands`` (21 points a hand) /
        a light outline of ``Person.face`` (oval, eyes, brows, lips, irises) when present.
    """

    props: tuple[str, ...] = ()
    manifest: str | None = None
    avatar: str | None = None
    occlusion: bool = True
    lighting: str = "baked"
    skeleton: bool = True
    draw_hands: bool = True
    draw_face: bool = True

    @property
    def draws_props(self) -> bool:
        """True when something is rendered with the 3D overlay (props or the avatar)."""
        return bool(self.props or self.avatar)


# ----------------------------------------------------------------------------------------
# Outputs: one frozen dataclass per kind; ``kind`` is the TOML table name under [outputs].


@dataclass(frozen=True)
class VideoOutput:
    """The annotated video (``.mp4``, ``.mkv``, ``.avi``) or, for a still, image (``.png``,
    ``.jpg``): what the overlay draws, at the source's rate and size."""

    path: str
    kind: typing.ClassVar[str] = "video"
    needs_image: typing.ClassVar[bool] = True


@dataclass(frozen=True)
class CsvOutput:
    """The long-form landmark CSV (columns in :mod:`arpose.record.csv_landmarks`); with hands or a
    face (:attr:`EstimatorSpec.hands` / ``face``) also ``NAME.hands_face.csv`` beside it."""

    path: str
    kind: typing.ClassVar[str] = "csv"
    needs_image: typing.ClassVar[bool] = False


@dataclass(frozen=True)
class AnglesOutput:
    """Joint angles in degrees per frame and person (needs retargeting)."""

    path: str
    kind: typing.ClassVar[str] = "angles"
    needs_image: typing.ClassVar[bool] = False


@dataclass(frozen=True)
class TakeOutput:
    """A crash-safe take of every frame into ``path``. ``toggled``: a recorder that is switched
    on and off while running (the live window's record key), idle at the start unless
    ``path`` is given, writing later takes into ``folder`` under automatic names."""

    path: str | None = None
    toggled: bool = False
    folder: str = "."
    kind: typing.ClassVar[str] = "take"
    needs_image: typing.ClassVar[bool] = False


@dataclass(frozen=True)
class BvhOutput:
    """One person's retargeted body as BVH, written when the run ends (needs retargeting); with
    hands, the 30 finger bones under ``LeftHand`` / ``RightHand`` too.
    person: the id (None: the person with the most body poses); origin: ``"camera"`` or
    ``"floor"``."""

    path: str
    person: int | None = None
    origin: str = "camera"
    kind: typing.ClassVar[str] = "bvh"
    needs_image: typing.ClassVar[bool] = False


@dataclass(frozen=True)
class VmcOutput:
    """The VMC protocol to a Marionette at host:port (person slot N to port + N); rate_hz
    caps frames sent per second (None: every frame). avatar: the receiving avatar's
    ``.vrm`` / ``.glb`` / ``.gltf`` file, whose own bone positions, hip height and rest pose are
    then sent (None: arpose's standard skeleton); vrm: ``"0"`` normalised (VRM 0.x) or ``"1"``
    the file's own bones (VRM 1.0), None by the file; trackers: also send ``/VMC/Ext/Tra/Pos``
    virtual trackers; expressions: blend shape names for a face, ``"vrm0"`` (``Blink_L`` ...),
    ``"vrm1"`` (``blinkLeft`` ...) or ``"off"`` (docs/osc.md)."""

    host: str = "127.0.0.1"
    port: int = 39539
    rate_hz: float | None = None
    avatar: str | None = None
    vrm: str | None = None
    trackers: bool = False
    expressions: str = "vrm0"
    kind: typing.ClassVar[str] = "vmc"
    needs_image: typing.ClassVar[bool] = False


@dataclass(frozen=True)
class OscOutput:
    """The raw arpose OSC stream (docs/osc.md) to host:port; rate_hz as for VMC."""

    host: str = "127.0.0.1"
    port: int = 9000
    rate_hz: float | None = None
    kind: typing.ClassVar[str] = "osc"
    needs_image: typing.ClassVar[bool] = False


Output = Union[VideoOutput, CsvOutput, AnglesOutput, TakeOutput, BvhOutput, VmcOutput, OscOutput]
#: Output kinds in the order the builder wires them and TOML lists them: the streams first
#: (an avatar engine never waits for a file), the annotated video last (after rendering).
OUTPUT_TYPES: dict[str, type] = {
    t.kind: t for t in (VmcOutput, OscOutput, TakeOutput, CsvOutput, AnglesOutput, BvhOutput, VideoOutput)
}
FILE_OUTPUTS = ("video", "csv", "angles", "take", "bvh")


@dataclass(frozen=True)
class PipelineSpec:
    """Everything a pipeline does, stage by stage, and where its results go.

    The builder wires, in this order: estimator -> identity tracking (several people) ->
    smoothing -> retargeting -> data outputs (VMC, OSC, take, CSV, angles, BVH) -> renderer
    (props, avatar, skeleton) -> image outputs (video). See :func:`arpose.build.build_pipeline`.
    """

    estimator: EstimatorSpec = field(default_factory=EstimatorSpec)
    tracking: TrackingSpec = field(default_factory=TrackingSpec)
    smooth: SmoothSpec = field(default_factory=SmoothSpec)
    retarget: RetargetSpec = field(default_factory=RetargetSpec)
    camera: CameraSpec = field(default_factory=CameraSpec)
    overlay: OverlaySpec = field(default_factory=OverlaySpec)
    outputs: tuple[Output, ...] = ()

    def __post_init__(self) -> None:
        # One canonical order (the wiring order), so equal specs compare equal.
        outputs = tuple(self.outputs)
        if any(type(o) not in OUTPUT_TYPES.values() for o in outputs):
            raise ConfigError(f"outputs must be arpose.spec output objects, got {outputs!r}")
        object.__setattr__(self, "outputs", _ordered(outputs))

    def output(self, kind: str) -> Output | None:
        """The output of ``kind`` (``"video"``, ``"vmc"`` ...) or None."""
        return next((o for o in self.outputs if o.kind == kind), None)

    def with_output(self, out: Output) -> "PipelineSpec":
        """A copy with ``out`` replacing any output of its kind (or added)."""
        rest = tuple(o for o in self.outputs if o.kind != out.kind)
        return replace(self, outputs=rest + (out,))

    def without_output(self, kind: str) -> "PipelineSpec":
        return replace(self, outputs=tuple(o for o in self.outputs if o.kind != kind))

    @property
    def smoothing(self) -> bool:
        """True when the smoothing stage runs (enabled, and frames are a sequence)."""
        return self.smooth.enabled and self.estimator.mode is not RunningMode.IMAGE

    @property
    def litert_threads(self) -> int:
        """LiteRT threads per model: ``estimator.threads``, or when it is 0 (auto) 1 while
        props or the avatar are rendered (the render then has the other core: the full
        pipeline ran at 74 fps against 65-68 with 2) and 2 otherwise (the model alone runs
        about 1.5x faster on both cores); ``arpose bench``, docs/backend.md."""
        if self.estimator.threads:
            return self.estimator.threads
        return 1 if self.overlay.draws_props else 2

    @property
    def segmentation(self) -> bool:
        """True when the estimator returns masks: asked for, or props worn with occlusion."""
        return self.estimator.segmentation or (bool(self.overlay.props) and self.overlay.occlusion)

    def validate(self, view: bool = False) -> "PipelineSpec":
        """Check every value and combination; returns self. ``view``: the caller shows the
        rendered image itself (a window), so the overlay needs no video output.

        Raises :class:`ConfigError` with a one-line message naming the setting.
        """
        e = self.estimator
        if not isinstance(e.mode, RunningMode):
            raise ConfigError(f"estimator mode must be one of image, video, live, got {e.mode!r}")
        if not (1 <= e.max_people <= MAX_PEOPLE_LIMIT):
            raise ConfigError(f"--max-people must be between 1 and {MAX_PEOPLE_LIMIT}, got {e.max_people}")
        if not (1 <= e.tiles <= MAX_TILES):
            raise ConfigError(f"--tiles must be between 1 and {MAX_TILES}, got {e.tiles}")
        if e.tiles > 1 and e.max_people == 1:
            raise ConfigError("--tiles needs --max-people 2 or more (tiles look for several small people)")
        for name in ("min_detection_confidence", "min_tracking_confidence"):
            v = getattr(e, name)
            if not (0.0 <= v <= 1.0):
                raise ConfigError(f"estimator {name} must be in [0, 1], got {v}")
        if e.backend not in BACKENDS:
            raise ConfigError(f"--backend must be one of {', '.join(BACKENDS)}, got {e.backend!r}")
        if e.backend == "litert" and (e.max_people > 1 or e.model is not None):
            raise ConfigError(
                "--backend litert runs the wheel's Full model for one person; use --backend mediapipe "
                "with --max-people or --model"
            )
        if not (0 <= e.threads <= 64):
            raise ConfigError(f"--threads must be between 1 and 64 (0: chosen by the run), got {e.threads}")
        if e.hand_model not in ("full", "lite"):
            raise ConfigError(f"--hand-model must be full or lite, got {e.hand_model!r}")
        if not isinstance(e.mirrored_input, bool):
            raise ConfigError(f"--mirrored-input must be true or false, got {e.mirrored_input!r}")
        if e.model is not None and not str(e.model).strip():
            raise ConfigError("--model needs a path to a .task file, got an empty value")
        gap = self.tracking.max_gap
        if not (math.isfinite(gap) and gap >= 0):
            raise ConfigError(f"--track-gap must be seconds >= 0, got {gap}")
        self.smooth.config()  # every smoothing parameter in range (ConfigError names it)
        self.smooth.offline_config()
        if self.smooth.mode not in SMOOTH_MODES:
            raise ConfigError(f"--smooth mode must be one of {', '.join(SMOOTH_MODES)}, got {self.smooth.mode!r}")
        if self.smooth.mode == "offline" and self.smooth.enabled and e.mode is not RunningMode.VIDEO:
            raise ConfigError(
                f"--smooth offline needs frames of a file, processed in order (video mode), not {e.mode.value} "
                "mode; live streams stay causal: drop it or use --smooth causal"
            )
        h = self.retarget.subject_height
        if h is not None and not (0.5 <= h <= 2.5):
            raise ConfigError(f"--subject-height must be a standing height between 0.5 and 2.5 metres, got {h}")
        if not (1.0 <= self.camera.fov < 179.0):
            raise ConfigError(f"field of view must be between 1 and 179 degrees, got {self.camera.fov}")
        ov = self.overlay
        if ov.avatar not in (None, "beside", "over"):
            raise ConfigError(f"--avatar must be beside or over, got {ov.avatar!r}")
        if ov.lighting not in ("baked", "dynamic"):
            raise ConfigError(f"--prop-lighting must be baked or dynamic, got {ov.lighting!r}")
        if any(not str(p).strip() for p in ov.props):
            raise ConfigError("--props names an empty prop; give names like crown,glasses or all")
        if ov.manifest is not None and not ov.props:
            raise ConfigError("--props-manifest adds props; choose which to wear with --props NAME[,NAME]")
        if ov.draws_props and not view and self.output("video") is None:
            raise ConfigError("--props and --avatar draw on the output video; add --out FILE.mp4")
        kinds = [o.kind for o in self.outputs]
        dupes = sorted({k for k in kinds if kinds.count(k) > 1})
        if dupes:
            raise ConfigError(f"one output of each kind, got several: {', '.join(dupes)}")
        for out in self.outputs:
            _check_output(out)
        if not self.retarget.enabled:
            if self.output("angles"):
                raise ConfigError("--angles needs retargeting; drop --no-retarget")
            if self.output("bvh"):
                raise ConfigError("--bvh needs the retargeted body: drop --no-retarget")
        paths = [str(o.path) for o in self.outputs if o.kind in FILE_OUTPUTS and getattr(o, "path", None)]
        import os

        resolved = [os.path.realpath(p) for p in paths]
        for i, p in enumerate(resolved):
            if p in resolved[:i]:
                raise ConfigError(f"two outputs name the same file {paths[i]}; give each its own file")
        return self


def _check_output(out: Output) -> None:
    if out.kind in ("vmc", "osc"):
        flag = f"--{out.kind}"
        if not str(out.host).strip():
            raise ConfigError(f"{flag} needs HOST[:PORT], got an empty host")
        if not (1 <= int(out.port) <= 65535):
            raise ConfigError(f"{flag} port must be 1-65535, got {out.port}")
        if out.rate_hz is not None and not (math.isfinite(out.rate_hz) and out.rate_hz > 0):
            raise ConfigError(f"--osc-rate must be a positive number of frames per second, got {out.rate_hz}")
        if out.kind == "vmc" and out.vrm is not None and (out.vrm not in ("0", "1") or not out.avatar):
            raise ConfigError(f"--vmc-vrm must be 0 or 1 and needs --vmc-avatar FILE, got {out.vrm!r}")
        if out.kind == "vmc" and out.expressions not in ("vrm0", "vrm1", "off"):
            raise ConfigError(f"--vmc-expressions must be vrm0, vrm1 or off, got {out.expressions!r}")
        return
    path = getattr(out, "path", None)
    if out.kind == "take" and out.toggled:
        if not str(out.folder).strip():
            raise ConfigError("--take-dir needs a folder, got an empty value")
        if path is None:
            return
    if path is None or not str(path).strip():
        raise ConfigError(f"the {out.kind} output needs a file name, got an empty value")
    if out.kind == "bvh" and out.origin not in BVH_ORIGINS:
        raise ConfigError(f"--bvh-origin must be camera or floor, got {out.origin!r}")


def _ordered(outputs: tuple[Output, ...]) -> tuple[Output, ...]:
    order = list(OUTPUT_TYPES)
    return tuple(sorted(outputs, key=lambda o: order.index(o.kind)))


# ----------------------------------------------------------------------------------------
# Plain-data form (take headers, TOML): {table: {key: value}}.

_STAGES: dict[str, type] = {
    "estimator": EstimatorSpec,
    "tracking": TrackingSpec,
    "smooth": SmoothSpec,
    "retarget": RetargetSpec,
    "camera": CameraSpec,
    "overlay": OverlaySpec,
}


def spec_to_dict(spec: PipelineSpec) -> dict[str, Any]:
    """``{"estimator": {...}, ..., "outputs": {"video": {"path": ...}, ...}}``: JSON- and
    TOML-ready plain values (enums as their value, tuples as lists, None kept)."""
    out: dict[str, Any] = {}
    for name in _STAGES:
        out[name] = {f.name: _plain(getattr(getattr(spec, name), f.name)) for f in fields(getattr(spec, name))}
    out["outputs"] = {o.kind: {f.name: _plain(getattr(o, f.name)) for f in fields(o)} for o in spec.outputs}
    return out


def _plain(v: Any) -> Any:
    if isinstance(v, enum.Enum):
        return v.value
    if isinstance(v, tuple):
        return list(v)
    return v


def spec_from_dict(data: Mapping[str, Any], base: PipelineSpec | None = None, where: str = "config") -> PipelineSpec:
    """A spec from :func:`spec_to_dict`'s form, each table applied over ``base`` (default:
    :class:`PipelineSpec()`); missing keys keep ``base``'s values. Unknown tables or keys and
    values of the wrong type raise :class:`ConfigError` naming ``where``, the table and key."""
    spec = base or PipelineSpec()
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: expected tables, got {type(data).__name__}")
    unknown = sorted(set(data) - set(_STAGES) - {"outputs"})
    if unknown:
        known = ", ".join(f"[{t}]" for t in [*_STAGES, "outputs"])
        raise ConfigError(f"{where}: unknown table [{unknown[0]}]; known: {known}")
    changes: dict[str, Any] = {}
    for name, cls in _STAGES.items():
        if name in data:
            changes[name] = _apply_table(getattr(spec, name), cls, data[name], f"{where} [{name}]")
    spec = replace(spec, **changes)
    if "outputs" in data:
        table = data["outputs"]
        if not isinstance(table, Mapping):
            raise ConfigError(f"{where} [outputs] must be a table of output tables, got {type(table).__name__}")
        for kind, values in table.items():
            cls = OUTPUT_TYPES.get(kind)
            if cls is None:
                raise ConfigError(f"{where}: unknown output [outputs.{kind}]; known: {', '.join(OUTPUT_TYPES)}")
            current = spec.output(kind)
            try:
                current = current if current is not None else cls(**_required_defaults(cls, values))
            except TypeError:
                raise ConfigError(f"{where} [outputs.{kind}] needs a path") from None
            spec = spec.with_output(_apply_table(current, cls, values, f"{where} [outputs.{kind}]"))
    return spec


def _required_defaults(cls: type, values: Any) -> dict[str, Any]:
    """Constructor arguments for a new output from its table (fields without a default)."""
    need = [f.name for f in fields(cls) if f.default is dataclasses.MISSING]
    if not isinstance(values, Mapping) or any(n not in values for n in need):
        raise TypeError
    return {n: values[n] for n in need}


def _apply_table(current: Any, cls: type, table: Any, where: str) -> Any:
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where} must be a table, got {type(table).__name__}")
    hints = typing.get_type_hints(cls)
    names = [f.name for f in fields(cls)]
    changes = {}
    for key, value in table.items():
        if key not in names:
            raise ConfigError(f"{where}: unknown key {key!r}; known: {', '.join(names)}")
        changes[key] = _coerce(value, hints[key], f"{where} {key}")
    return replace(current, **changes)


def _coerce(value: Any, hint: Any, where: str) -> Any:
    """``value`` checked against the field type ``hint`` (bool, int, float, str, an enum,
    ``tuple[str, ...]``, optionals); ConfigError naming ``where`` otherwise."""
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        args = typing.get_args(hint)
        if value is None and type(None) in args:
            return None
        errors = []
        for a in args:
            if a is type(None):
                continue
            try:
                return _coerce(value, a, where)
            except ConfigError as exc:
                errors.append(exc)
        raise errors[0]
    if origin is tuple:
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where} must be a list of names, got {value!r}")
        return tuple(value)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        try:
            return hint(value)
        except ValueError:
            choices = ", ".join(m.value for m in hint)
            raise ConfigError(f"{where} must be one of {choices}, got {value!r}") from None
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where} must be true or false, got {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where} must be a whole number, got {value!r}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where} must be a number, got {value!r}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where} must be a string, got {value!r}")
        return value
    raise ConfigError(f"{where}: unsupported setting type {hint!r}")  # pragma: no cover - a new field type


def spec_to_toml(spec: PipelineSpec) -> str:
    """The spec as a TOML document (one table per stage and per output; unset optional values
    are left out, so reading it back gives the same spec)."""
    lines = ["# arpose pipeline settings: arpose run INPUT --config THIS.toml (see README, Pipeline spec)"]
    data = spec_to_dict(spec)
    for name in _STAGES:
        lines += ["", f"[{name}]"] + [f"{k} = {_toml_value(v)}" for k, v in data[name].items() if v is not None]
    for kind, values in data["outputs"].items():
        lines += ["", f"[outputs.{kind}]"] + [f"{k} = {_toml_value(v)}" for k, v in values.items() if v is not None]
    return "\n".join(lines) + "\n"


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        import json

        return json.dumps(v)  # a TOML basic string: JSON's escapes are valid TOML
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {v!r} as TOML")  # pragma: no cover


def spec_from_toml(text: str, base: PipelineSpec | None = None, where: str = "config") -> PipelineSpec:
    """Parse TOML text (:func:`spec_to_toml`'s layout) over ``base``; ConfigError if it is
    not valid TOML or does not fit the spec."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python < 3.11
        import tomli as tomllib
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where} is not valid TOML: {exc}") from None
    return spec_from_dict(data, base, where)


def load_spec(path: str, base: PipelineSpec | None = None) -> PipelineSpec:
    """Read a TOML settings file over ``base``. InputError if it cannot be read,
    ConfigError if it does not fit (for the app layer; the library never reads files it is
    not given)."""
    from pathlib import Path

    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"config file not found: {p} (check the path)") from None
    except IsADirectoryError:
        raise InputError(f"config file {p} is a folder, not a file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read config file {p}: {exc}") from None
    return spec_from_toml(text, base, where=str(p))
