"""BlazePose's graph constants, read from the installed mediapipe wheel.

The wheel ships ``modules/pose_landmark/pose_landmark_cpu.binarypb`` (the classic
``solutions.pose`` graph); its subgraphs (``PoseDetectionCpu``, ``PoseLandmarkByRoiCpu``,
``PoseLandmarkFiltering``, ...) are registered inside MediaPipe's native library. MediaPipe's
public :class:`mediapipe.python.ValidatedGraphConfig` expands them into one flat graph; this
module reads every constant the LiteRT backend needs from that expanded graph's calculator
options (anchors, box decoding, thresholds, crop scales, heatmap refinement, the tracking
filter, ...), so the backend follows whatever the installed wheel configures.
``docs/backend.md`` lists every field and the node it comes from.

:func:`load_pose_graph` is the entry point (cached per path). Errors are :class:`InputError`
with one line saying what is missing.

Loading the graph must not change how ``solutions.pose`` behaves in the same process, so
this module never imports the Python option modules that ``import mediapipe`` leaves out
(see :func:`_import_option_protos` and :data:`RUNTIMES`).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..errors import ConfigError, InputError

#: The graph file ``solutions.pose`` runs, relative to the mediapipe package.
GRAPH_FILE = "modules/pose_landmark/pose_landmark_cpu.binarypb"
#: ``model_complexity`` of the Full model (the only landmark model the wheel ships).
FULL_MODEL_COMPLEXITY = 1

#: How the graph's options are applied. ``"solutions"``: as ``mediapipe.solutions.pose`` runs
#: the graph. It passes the graph to the native side through Python protobuf, which drops the
#: option extensions no Python module has registered: those of
#: ``RefineLandmarksFromHeatmapCalculator`` and ``SegmentationSmoothingCalculator`` (and
#: ``VisibilityCopyCalculator``, whose declared values equal its defaults), so they run with
#: their proto defaults. ``"declared"``: as the graph file declares (the C++ graph and the
#: Tasks API). See docs/backend.md for the measurement.
RUNTIMES = ("solutions", "declared")
#: Field number of ``RefineLandmarksFromHeatmapCalculatorOptions.ext`` (its .proto).
REFINE_EXTENSION = 362281653
#: Proto defaults of ``RefineLandmarksFromHeatmapCalculatorOptions``: ``kernel_size = 9``,
#: ``min_confidence_to_refine = 0.5`` (refine_landmarks_from_heatmap_calculator.proto).
REFINE_DEFAULTS = (9, 0.5)
#: Field number of ``SegmentationSmoothingCalculatorOptions.ext`` (its .proto).
SEGMENTATION_SMOOTHING_EXTENSION = 377425128
#: Proto default of ``SegmentationSmoothingCalculatorOptions.combine_with_previous_ratio``
#: (segmentation_smoothing_calculator.proto): 0, no smoothing.
SEGMENTATION_SMOOTHING_DEFAULT = 0.0


@dataclass(frozen=True)
class TensorInput:
    """How an ``ImageToTensorCalculator`` turns an image region into a model input.

    width, height: tensor size in pixels. keep_aspect_ratio: the region is padded (letterbox)
    to the tensor's aspect ratio. range_min, range_max: pixel values 0..255 map linearly onto
    this range. border: ``"zero"`` (constant 0 before range mapping) or ``"replicate"``.
    """

    width: int
    height: int
    keep_aspect_ratio: bool
    range_min: float
    range_max: float
    border: str


@dataclass(frozen=True)
class AnchorOptions:
    """``SsdAnchorsCalculatorOptions`` (grid anchors, no multiscale generation).

    input_width, input_height: detector input in pixels. strides: one per layer.
    min_scale, max_scale, aspect_ratios, interpolated_scale_aspect_ratio,
    reduce_boxes_in_lowest_layer: anchor sizes. fixed_anchor_size: every anchor is 1x1
    (normalised), only the centres matter. anchor_offset_x/y: centre offset in cells.
    """

    input_width: int
    input_height: int
    min_scale: float
    max_scale: float
    anchor_offset_x: float
    anchor_offset_y: float
    strides: tuple[int, ...]
    aspect_ratios: tuple[float, ...]
    interpolated_scale_aspect_ratio: float
    reduce_boxes_in_lowest_layer: bool
    fixed_anchor_size: bool


@dataclass(frozen=True)
class DetectionDecoding:
    """``TensorsToDetectionsCalculatorOptions`` of the person detector.

    num_boxes, num_coords: raw box tensor ``(1, num_boxes, num_coords)``. box_coord_offset,
    keypoint_coord_offset, num_keypoints, num_values_per_keypoint: layout of one row.
    x_scale .. h_scale: raw values are divided by these (tensor pixels) before scaling by the
    anchor. xywh: boxes and keypoints are stored x first (``reverse_output_order``).
    sigmoid_score, score_clipping_thresh: raw score clipped to +-thresh, then the sigmoid.
    min_score_thresh: detections below are dropped (``solutions.pose`` overrides it with
    ``min_detection_confidence``). apply_exponential_on_box_size: box sizes are log-encoded.
    """

    num_boxes: int
    num_coords: int
    box_coord_offset: int
    keypoint_coord_offset: int
    num_keypoints: int
    num_values_per_keypoint: int
    x_scale: float
    y_scale: float
    w_scale: float
    h_scale: float
    xywh: bool
    sigmoid_score: bool
    score_clipping_thresh: float
    min_score_thresh: float
    apply_exponential_on_box_size: bool


@dataclass(frozen=True)
class NmsOptions:
    """``NonMaxSuppressionCalculatorOptions``: overlap above ``min_suppression_threshold``
    (``overlap_type``, e.g. ``"INTERSECTION_OVER_UNION"``) suppresses; ``algorithm``
    ``"WEIGHTED"`` averages each cluster by score."""

    min_suppression_threshold: float
    overlap_type: str
    algorithm: str


@dataclass(frozen=True)
class RoiOptions:
    """A region of interest from two keypoints, then transformed.

    start_keypoint, end_keypoint: ``AlignmentPointsRectsCalculator`` (``DetectionsToRects``
    options): the centre is the start keypoint, the side twice its distance to the end one.
    target_angle: radians; rotation = target - angle of start->end (image y up).
    scale_x, scale_y, shift_x, shift_y, square_long: ``RectTransformationCalculatorOptions``.
    """

    start_keypoint: int
    end_keypoint: int
    target_angle: float
    scale_x: float
    scale_y: float
    shift_x: float
    shift_y: float
    square_long: bool


@dataclass(frozen=True)
class OneEuroOptions:
    """``LandmarksSmoothingCalculatorOptions.OneEuroFilter``: frequency (Hz, used until two
    timestamps are known), min_cutoff (Hz), beta, derivate_cutoff (Hz),
    min_allowed_object_scale (pixels), disable_value_scaling."""

    frequency: float
    min_cutoff: float
    beta: float
    derivate_cutoff: float
    min_allowed_object_scale: float
    disable_value_scaling: bool


@dataclass(frozen=True)
class PoseGraph:
    """Every constant of the classic BlazePose CPU graph the LiteRT backend uses.

    detector_model, landmark_model: absolute ``.tflite`` paths inside the wheel.
    detector_input, anchors, decoding, nms, detection_roi: person detection and its region.
    landmark_input: the 256x256 crop. num_landmarks: rows of the landmark tensor (39: 33 pose,
    2 auxiliary for tracking, 4 unused). pose_landmarks, auxiliary_landmarks: ``(begin, end)``
    row ranges. landmark_input_size: ``(width, height)`` dividing raw landmark pixels.
    visibility_activation, presence_activation: ``"SIGMOID"`` or ``"NONE"``.
    pose_flag_threshold: the pose presence score must exceed it (``solutions.pose`` overrides it
    with ``min_tracking_confidence``). refine_kernel_size, refine_min_confidence: heatmap
    refinement of the landmark positions. tracking_roi: the next frame's region from the
    (filtered) auxiliary landmarks. aux_filter, aux_visibility_alpha: the filter always run on the
    auxiliary landmarks. image_filter, world_filter, visibility_alpha: MediaPipe's optional
    landmark smoothing (``smooth_landmarks``). mask_border: border of the mask warp back to the
    image. segmentation_smoothing_ratio: ``combine_with_previous_ratio`` of the mask filter.
    runtime: ``"solutions"`` or ``"declared"`` (:data:`RUNTIMES`): which values the refinement
    and mask-smoothing fields hold.
    """

    detector_model: str
    landmark_model: str
    detector_input: TensorInput
    anchors: AnchorOptions
    decoding: DetectionDecoding
    nms: NmsOptions
    detection_roi: RoiOptions
    landmark_input: TensorInput
    num_landmarks: int
    landmark_input_size: tuple[int, int]
    pose_landmarks: tuple[int, int]
    auxiliary_landmarks: tuple[int, int]
    visibility_activation: str
    presence_activation: str
    pose_flag_threshold: float
    refine_kernel_size: int
    refine_min_confidence: float
    tracking_roi: RoiOptions
    aux_filter: OneEuroOptions
    aux_visibility_alpha: float
    image_filter: OneEuroOptions
    world_filter: OneEuroOptions
    visibility_alpha: float
    mask_border: str
    segmentation_smoothing_ratio: float
    runtime: str = "solutions"


def mediapipe_dir() -> Path:
    """The installed ``mediapipe`` package folder."""
    import mediapipe

    return Path(os.path.dirname(mediapipe.__file__))


def default_graph_path() -> Path:
    """``pose_landmark_cpu.binarypb`` in the installed wheel."""
    return mediapipe_dir() / GRAPH_FILE


def solutions_runtime_in_process() -> str:
    """The runtime a ``solutions.pose`` built now, in this process, follows: ``"declared"`` if
    some module has registered the heatmap-refinement options in Python (for example by
    importing ``refine_landmarks_from_heatmap_calculator_pb2``), else ``"solutions"``.

    For comparisons with a live ``solutions.pose`` (:mod:`arpose.estimate.parity`, tests). The
    mask-smoothing options follow the same choice; a process that registered only one of the
    two is not told apart.
    """
    from google.protobuf import descriptor_pool
    from mediapipe.framework import calculator_pb2

    try:
        descriptor_pool.Default().FindExtensionByNumber(calculator_pb2.CalculatorOptions.DESCRIPTOR, REFINE_EXTENSION)
    except KeyError:
        return "solutions"
    return "declared"


def load_pose_graph(path: str | os.PathLike[str] | None = None, runtime: str = "solutions") -> PoseGraph:
    """Read the BlazePose constants from the wheel's graph (``path``: another
    ``pose_landmark_cpu.binarypb``; default the installed one). Cached per path and runtime.

    runtime: ``"solutions"`` (default: behave as ``mediapipe.solutions.pose``) or
    ``"declared"`` (the graph's options as written), see :data:`RUNTIMES`.

    Raises :class:`InputError` if the file is missing, cannot be parsed or lacks a node, and
    :class:`ConfigError` for an unknown runtime.
    """
    if runtime not in RUNTIMES:
        raise ConfigError(f"graph runtime must be one of {', '.join(RUNTIMES)}, got {runtime!r}")
    return _load(str(Path(path) if path is not None else default_graph_path()), runtime)


@lru_cache(maxsize=8)
def _load(path: str, runtime: str) -> PoseGraph:
    if not os.path.isfile(path):
        raise InputError(f"MediaPipe pose graph not found: {path} (reinstall mediapipe==0.10.21)")
    _import_option_protos()
    from mediapipe.framework import calculator_pb2
    from mediapipe.python import ValidatedGraphConfig

    validated = ValidatedGraphConfig()
    try:
        validated.initialize(binary_graph_path=path)
    except Exception as exc:  # MediaPipe raises RuntimeError / ValueError with long text
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"cannot read MediaPipe pose graph {path}: {first}") from None
    config = calculator_pb2.CalculatorGraphConfig()
    config.ParseFromString(validated.binary_config)
    return _pose_graph(_Nodes(config, path), runtime)


def _import_option_protos() -> None:
    """Make sure the option extensions read through protobuf are registered: exactly the ones
    ``import mediapipe`` already registers (importing them again is a no-op).

    Never import ``refine_landmarks_from_heatmap_calculator_pb2``,
    ``segmentation_smoothing_calculator_pb2`` or ``visibility_copy_calculator_pb2`` here:
    ``solutions.pose`` hands its graph to the native side through Python protobuf, which keeps
    only the option extensions registered in Python at that time. Importing those three
    modules makes every ``solutions.pose`` built later in the process apply options it
    otherwise ignores (measured: a 7-cell instead of a 9-cell heatmap kernel, landmarks up to
    2 px apart), so the MediaPipe backend would change behaviour. Their options are decoded
    from the raw bytes instead (:meth:`_Nodes.raw_options`).
    """
    import mediapipe  # noqa: F401  (registers the option modules below)
    from mediapipe.calculators.core import (
        constant_side_packet_calculator_pb2,  # noqa: F401
        split_vector_calculator_pb2,  # noqa: F401
    )
    from mediapipe.calculators.image import warp_affine_calculator_pb2  # noqa: F401
    from mediapipe.calculators.tensor import (
        image_to_tensor_calculator_pb2,  # noqa: F401
        inference_calculator_pb2,  # noqa: F401
        tensors_to_detections_calculator_pb2,  # noqa: F401
        tensors_to_landmarks_calculator_pb2,  # noqa: F401
    )
    from mediapipe.calculators.tflite import ssd_anchors_calculator_pb2  # noqa: F401
    from mediapipe.calculators.util import (
        detections_to_rects_calculator_pb2,  # noqa: F401
        landmarks_smoothing_calculator_pb2,  # noqa: F401
        non_max_suppression_calculator_pb2,  # noqa: F401
        rect_transformation_calculator_pb2,  # noqa: F401
        thresholding_calculator_pb2,  # noqa: F401
        visibility_smoothing_calculator_pb2,  # noqa: F401
    )


def _varint(data: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if i >= len(data):
            raise ValueError("truncated varint")
        b = data[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, i


def _wire_fields(data: bytes) -> dict[int, Any]:
    """Protobuf wire-format fields of a message: ``{field number: last value}`` with varints
    as int, 32-bit fields as float, 64-bit as float, length-delimited as bytes."""
    import struct

    fields: dict[int, Any] = {}
    i = 0
    while i < len(data):
        key, i = _varint(data, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            fields[number], i = _varint(data, i)
        elif wire == 1:
            fields[number] = struct.unpack_from("<d", data, i)[0]
            i += 8
        elif wire == 2:
            n, i = _varint(data, i)
            fields[number] = bytes(data[i : i + n])
            i += n
        elif wire == 5:
            fields[number] = struct.unpack_from("<f", data, i)[0]
            i += 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
    return fields


class _Nodes:
    """Nodes of the expanded graph by name, with typed access to their options."""

    def __init__(self, config: Any, path: str) -> None:
        self.path = path
        self.by_name = {n.name: n for n in config.node if n.name}
        self.config = config

    def node(self, name: str) -> Any:
        try:
            return self.by_name[name]
        except KeyError:
            raise InputError(
                f"MediaPipe pose graph {self.path} has no node {name!r} (expected mediapipe==0.10.21)"
            ) from None

    def options(self, name: str, message: Any) -> Any:
        node = self.node(name)
        ext = message.ext
        if not node.options.HasExtension(ext):
            raise InputError(f"MediaPipe pose graph {self.path}: node {name!r} has no {message.DESCRIPTOR.name}")
        return node.options.Extensions[ext]

    def raw_options(self, name: str, extension_number: int) -> dict[int, Any] | None:
        """Wire-format fields of an options extension that is not registered in Python
        (``None`` if the node sets none)."""
        try:
            outer = _wire_fields(self.node(name).options.SerializeToString())
            inner = outer.get(extension_number)
            return None if inner is None else _wire_fields(inner)
        except ValueError as exc:
            raise InputError(f"MediaPipe pose graph {self.path}: node {name!r} options unreadable ({exc})") from None


def _tensor_input(opts: Any, enum: Any) -> TensorInput:
    border = {
        enum.BORDER_UNSPECIFIED: "replicate",  # ImageToTensor's documented default
        enum.BORDER_REPLICATE: "replicate",
        enum.BORDER_ZERO: "zero",
    }[opts.border_mode]
    return TensorInput(
        width=int(opts.output_tensor_width),
        height=int(opts.output_tensor_height),
        keep_aspect_ratio=bool(opts.keep_aspect_ratio),
        range_min=float(opts.output_tensor_float_range.min),
        range_max=float(opts.output_tensor_float_range.max),
        border=border,
    )


def _roi(align: Any, transform: Any) -> RoiOptions:
    if align.HasField("rotation_vector_target_angle"):
        angle = float(align.rotation_vector_target_angle)
    else:
        angle = math.pi * float(align.rotation_vector_target_angle_degrees) / 180.0
    return RoiOptions(
        start_keypoint=int(align.rotation_vector_start_keypoint_index),
        end_keypoint=int(align.rotation_vector_end_keypoint_index),
        target_angle=angle,
        scale_x=float(transform.scale_x),
        scale_y=float(transform.scale_y),
        shift_x=float(transform.shift_x),
        shift_y=float(transform.shift_y),
        square_long=bool(transform.square_long),
    )


def _one_euro(opts: Any) -> OneEuroOptions:
    f = opts.one_euro_filter
    return OneEuroOptions(
        frequency=float(f.frequency),
        min_cutoff=float(f.min_cutoff),
        beta=float(f.beta),
        derivate_cutoff=float(f.derivate_cutoff),
        min_allowed_object_scale=float(f.min_allowed_object_scale),
        disable_value_scaling=bool(f.disable_value_scaling),
    )


def _ranges(opts: Any) -> list[tuple[int, int]]:
    return [(int(r.begin), int(r.end)) for r in opts.ranges]


def _pose_graph(g: _Nodes, runtime: str) -> PoseGraph:
    from mediapipe.calculators.core import split_vector_calculator_pb2 as split_pb
    from mediapipe.calculators.image import warp_affine_calculator_pb2 as warp_pb
    from mediapipe.calculators.tensor import image_to_tensor_calculator_pb2 as i2t_pb
    from mediapipe.calculators.tensor import inference_calculator_pb2 as infer_pb
    from mediapipe.calculators.tensor import tensors_to_detections_calculator_pb2 as t2d_pb
    from mediapipe.calculators.tensor import tensors_to_landmarks_calculator_pb2 as t2l_pb
    from mediapipe.calculators.tflite import ssd_anchors_calculator_pb2 as anchors_pb
    from mediapipe.calculators.util import detections_to_rects_calculator_pb2 as d2r_pb
    from mediapipe.calculators.util import landmarks_smoothing_calculator_pb2 as smooth_pb
    from mediapipe.calculators.util import non_max_suppression_calculator_pb2 as nms_pb
    from mediapipe.calculators.util import rect_transformation_calculator_pb2 as rect_pb
    from mediapipe.calculators.util import thresholding_calculator_pb2 as thresh_pb
    from mediapipe.calculators.util import visibility_smoothing_calculator_pb2 as vis_pb

    I2T = i2t_pb.ImageToTensorCalculatorOptions
    det = "posedetectioncpu__"
    lm = "poselandmarkbyroicpu__"
    t2p = lm + "tensorstoposelandmarksandsegmentation__"
    flt = "poselandmarkfiltering__"

    detector_path = g.options(
        det + "inferencecalculator__posedetectioncpu__InferenceCalculator", infer_pb.InferenceCalculatorOptions
    ).model_path
    # model_complexity selects one ConstantSidePacketCalculator (c0 lite, c1 full, c2 heavy).
    consts = [
        n
        for n in g.config.node
        if n.calculator == "ConstantSidePacketCalculator" and "poselandmarkmodelloader" in n.name
    ]
    want = f"c{FULL_MODEL_COMPLEXITY}__"
    landmark_path = None
    for n in consts:
        if any(want in s for s in n.output_side_packet):
            landmark_path = _constant_string(n)
    if not landmark_path:
        raise InputError(f"MediaPipe pose graph {g.path} names no Full landmark model (expected mediapipe==0.10.21)")

    a = g.options(det + "SsdAnchorsCalculator", anchors_pb.SsdAnchorsCalculatorOptions)
    if a.multiscale_anchor_generation or len(a.feature_map_width) or len(a.fixed_anchors):
        raise InputError(f"MediaPipe pose graph {g.path}: unsupported anchor generation options")
    anchors = AnchorOptions(
        input_width=int(a.input_size_width),
        input_height=int(a.input_size_height),
        min_scale=float(a.min_scale),
        max_scale=float(a.max_scale),
        anchor_offset_x=float(a.anchor_offset_x),
        anchor_offset_y=float(a.anchor_offset_y),
        strides=tuple(int(s) for s in a.strides),
        aspect_ratios=tuple(float(r) for r in a.aspect_ratios),
        interpolated_scale_aspect_ratio=float(a.interpolated_scale_aspect_ratio),
        reduce_boxes_in_lowest_layer=bool(a.reduce_boxes_in_lowest_layer),
        fixed_anchor_size=bool(a.fixed_anchor_size),
    )
    d = g.options(det + "TensorsToDetectionsCalculator", t2d_pb.TensorsToDetectionsCalculatorOptions)
    if d.HasField("box_format") and d.box_format != t2d_pb.TensorsToDetectionsCalculatorOptions.UNSPECIFIED:
        xywh = d.box_format == t2d_pb.TensorsToDetectionsCalculatorOptions.XYWH
    else:
        xywh = bool(d.reverse_output_order)
    decoding = DetectionDecoding(
        num_boxes=int(d.num_boxes),
        num_coords=int(d.num_coords),
        box_coord_offset=int(d.box_coord_offset),
        keypoint_coord_offset=int(d.keypoint_coord_offset),
        num_keypoints=int(d.num_keypoints),
        num_values_per_keypoint=int(d.num_values_per_keypoint),
        x_scale=float(d.x_scale),
        y_scale=float(d.y_scale),
        w_scale=float(d.w_scale),
        h_scale=float(d.h_scale),
        xywh=xywh,
        sigmoid_score=bool(d.sigmoid_score),
        score_clipping_thresh=float(d.score_clipping_thresh) if d.HasField("score_clipping_thresh") else math.inf,
        min_score_thresh=float(d.min_score_thresh) if d.HasField("min_score_thresh") else -math.inf,
        apply_exponential_on_box_size=bool(d.apply_exponential_on_box_size),
    )
    n = g.options(det + "NonMaxSuppressionCalculator", nms_pb.NonMaxSuppressionCalculatorOptions)
    N = nms_pb.NonMaxSuppressionCalculatorOptions
    nms = NmsOptions(
        min_suppression_threshold=float(n.min_suppression_threshold),
        overlap_type=N.OverlapType.Name(n.overlap_type),
        algorithm=N.NmsAlgorithm.Name(n.algorithm),
    )
    D2R = d2r_pb.DetectionsToRectsCalculatorOptions
    R = rect_pb.RectTransformationCalculatorOptions
    detection_roi = _roi(
        g.options("posedetectiontoroi__AlignmentPointsRectsCalculator", D2R),
        g.options("posedetectiontoroi__RectTransformationCalculator", R),
    )
    tracking_roi = _roi(
        g.options("poselandmarkstoroi__AlignmentPointsRectsCalculator", D2R),
        g.options("poselandmarkstoroi__RectTransformationCalculator", R),
    )
    t2l = g.options(t2p + "TensorsToLandmarksCalculator_1", t2l_pb.TensorsToLandmarksCalculatorOptions)
    T2L = t2l_pb.TensorsToLandmarksCalculatorOptions
    if t2l.flip_horizontally or t2l.flip_vertically:
        raise InputError(f"MediaPipe pose graph {g.path}: flipped landmark decoding is not supported")
    split = _ranges(g.options(t2p + "SplitNormalizedLandmarkListCalculator", split_pb.SplitVectorCalculatorOptions))
    refine = g.raw_options(t2p + "RefineLandmarksFromHeatmapCalculator", REFINE_EXTENSION) or {}
    if refine.get(3) or refine.get(4):
        raise InputError(f"MediaPipe pose graph {g.path}: heatmap refinement of visibility is not supported")
    thresh = g.options(t2p + "ThresholdingCalculator", thresh_pb.ThresholdingCalculatorOptions)
    vis = vis_pb.VisibilitySmoothingCalculatorOptions
    smooth = smooth_pb.LandmarksSmoothingCalculatorOptions
    warp = g.options(
        lm + "poselandmarksandsegmentationinverseprojection__WarpAffineCalculator", warp_pb.WarpAffineCalculatorOptions
    )
    W = warp_pb.WarpAffineCalculatorOptions
    seg = (
        g.raw_options("posesegmentationfiltering__SegmentationSmoothingCalculator", SEGMENTATION_SMOOTHING_EXTENSION)
        or {}
    )
    if runtime == "solutions":
        kernel, min_confidence, seg_ratio = REFINE_DEFAULTS[0], REFINE_DEFAULTS[1], SEGMENTATION_SMOOTHING_DEFAULT
    else:
        kernel = int(refine.get(1, REFINE_DEFAULTS[0]))
        min_confidence = float(refine.get(2, REFINE_DEFAULTS[1]))
        seg_ratio = float(seg.get(1, SEGMENTATION_SMOOTHING_DEFAULT))
    root = mediapipe_dir().parent
    return PoseGraph(
        detector_model=str(root / detector_path),
        landmark_model=str(root / landmark_path),
        detector_input=_tensor_input(g.options(det + "ImageToTensorCalculator", I2T), I2T),
        anchors=anchors,
        decoding=decoding,
        nms=nms,
        detection_roi=detection_roi,
        landmark_input=_tensor_input(g.options(lm + "ImageToTensorCalculator", I2T), I2T),
        num_landmarks=int(t2l.num_landmarks),
        landmark_input_size=(int(t2l.input_image_width), int(t2l.input_image_height)),
        pose_landmarks=split[0],
        auxiliary_landmarks=split[1],
        visibility_activation=T2L.Activation.Name(t2l.visibility_activation),
        presence_activation=T2L.Activation.Name(t2l.presence_activation),
        pose_flag_threshold=float(thresh.threshold),
        refine_kernel_size=kernel,
        refine_min_confidence=min_confidence,
        tracking_roi=tracking_roi,
        aux_filter=_one_euro(g.options(flt + "LandmarksSmoothingCalculator", smooth)),
        aux_visibility_alpha=float(g.options(flt + "VisibilitySmoothingCalculator", vis).low_pass_filter.alpha),
        image_filter=_one_euro(g.options(flt + "switchcontainer_2__LandmarksSmoothingCalculator_2", smooth)),
        world_filter=_one_euro(g.options(flt + "switchcontainer_4__LandmarksSmoothingCalculator_2", smooth)),
        visibility_alpha=float(
            g.options(flt + "switchcontainer_1__VisibilitySmoothingCalculator_2", vis).low_pass_filter.alpha
        ),
        mask_border="zero" if warp.border_mode == W.BORDER_ZERO else "replicate",
        segmentation_smoothing_ratio=seg_ratio,
        runtime=runtime,
    )


def _constant_string(node: Any) -> str:
    from mediapipe.calculators.core import constant_side_packet_calculator_pb2 as const_pb

    opts = node.options.Extensions[const_pb.ConstantSidePacketCalculatorOptions.ext]
    return str(opts.packet[0].string_value) if len(opts.packet) else ""
