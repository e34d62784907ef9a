"""BlazePose's pipeline run by arpose itself on LiteRT, with the mediapipe wheel's models.

Same interface and answers as :class:`arpose.estimate.BlazePoseEstimator` (MediaPipe's classic
``solutions.pose`` graph), without MediaPipe's graph runtime: the two ``.tflite`` models of the
installed wheel (``pose_detection.tflite``, ``pose_landmark_full.tflite``) run through
``ai_edge_litert`` (XNNPACK), and every step around them follows the wheel's graph with the
constants read from it (:mod:`.graph`):

1. person detection when no region is tracked: the whole image letterboxed into 224x224
   (:mod:`.roi`), SSD anchors, box and keypoint decoding, score sigmoid and threshold, weighted
   non-maximum suppression, letterbox removal (:mod:`.detection`); the best detection's hip
   centre and body-circle keypoints give the region, rotated so the body stands upright,
   squared and scaled by 1.25;
2. the region cut into the 256x256 input by one warp (the affine map, warped as MediaPipe's
   OpenCV path does), the landmark model, its outputs
   decoded (sigmoid visibility and presence, heatmap refinement, :mod:`.decode`) and
   projected back to the image; world landmarks rotated by the region's rotation;
3. the pose flag under ``min_tracking_confidence``: no person this frame, detection next frame;
4. otherwise the next region from the two auxiliary landmarks after MediaPipe's One Euro
   filter (:mod:`.tracking`), with real timestamps;
5. on request the segmentation mask warped back to the frame (smoothed over time in tracking
   mode with the ratio ``solutions.pose`` applies, which is none: see ``LiteRTOptions``).

The arithmetic repeats MediaPipe's float32 steps (see :mod:`.roi`, :mod:`.tracking`), so on
the shared media the answers equal ``solutions.pose``'s bit for bit or within 1e-4 px
(docs/backend.md).

Construct it from the same :class:`EstimatorConfig` as the MediaPipe backend; runtime choices
(interpreter threads, other model files) are in :class:`LiteRTOptions`.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .._cv import cv2
from ..errors import ConfigError, InputError
from ..types import Frame, Person, PoseFrame
from .blazepose import EstimatorConfig, _quiet_native_stderr, pose_score
from .decode import decode_landmarks, refine_from_heatmap, segmentation_probabilities, smooth_mask
from .detection import Detections, decode_detections, remove_letterbox, ssd_anchors, weighted_nms
from .graph import PoseGraph, TensorInput, load_pose_graph
from .roi import (
    Crop,
    Roi,
    crop_transform,
    project_landmarks,
    roi_from_keypoints,
    rotate_world,
    transform_roi,
    warp_mask,
)
from .roi import warp_to_tensor as _warp
from .tracking import MediaPipeOneEuro, VisibilityLowPass, object_scale

__all__ = [
    "DEFAULT_THREADS",
    "LandmarkResult",
    "LiteRTOptions",
    "LiteRTPoseEstimator",
    "PoseModels",
    "detect_people",
    "estimate_in_roi",
    "roi_from_detection",
    "to_tensor",
    "value_table",
]

#: Interpreter threads by default: both cores (measured in docs/backend.md: the landmark model
#: takes about half the time on two threads as on one).
DEFAULT_THREADS = 2


@dataclass(frozen=True)
class LiteRTOptions:
    """Runtime choices of :class:`LiteRTPoseEstimator` (the pose settings are the shared
    :class:`EstimatorConfig`).

    threads: LiteRT/XNNPACK threads per model, 1 or more (1 leaves a core to rendering).
    graph: path of a ``pose_landmark_cpu.binarypb`` to read constants from (default: the wheel's).
    graph_runtime: ``"solutions"`` (default) reproduces ``mediapipe.solutions.pose``, which
        runs the heatmap refinement and mask smoothing with their proto defaults;
        ``"declared"`` applies the graph's options as written (as the Tasks API does).
    detector_model, landmark_model: ``.tflite`` paths (default: the ones the graph names, in
        the wheel). Files are read when the estimator is made.
    """

    threads: int = DEFAULT_THREADS
    graph: str | None = None
    graph_runtime: str = "solutions"
    detector_model: str | None = None
    landmark_model: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.threads, int) or isinstance(self.threads, bool) or not (1 <= self.threads <= 64):
            raise ConfigError(f"LiteRT threads must be an integer from 1 to 64, got {self.threads!r}")


def _load_interpreter(path: str, threads: int, role: str):
    from ai_edge_litert.interpreter import Interpreter

    if not os.path.isfile(path):
        raise InputError(f"{role} model not found: {path} (reinstall mediapipe==0.10.21 or pass an existing .tflite)")
    try:
        with _quiet_native_stderr():
            interpreter = Interpreter(model_path=path, num_threads=threads)
            interpreter.allocate_tensors()
    except (ValueError, RuntimeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{role} model {path} cannot be loaded: {first}") from None
    return interpreter


class PoseModels:
    """The two BlazePose models on LiteRT, with their inputs and outputs checked against the graph.

    ``detect(tensor)`` -> ``(boxes (num_boxes, num_coords), scores (num_boxes, 1))`` float32 raw;
    ``landmarks(tensor)`` -> the five raw output arrays (batch dimension kept) in the model's
    order: landmarks, pose flag, segmentation, heatmap, world landmarks. Inputs: ``(H, W, 3)``
    float32 RGB tensors from :func:`to_tensor`.

    Raises :class:`InputError` (one line) if a file is missing, not a model, or not shaped
    like BlazePose's.
    """

    def __init__(self, graph: PoseGraph, options: LiteRTOptions = LiteRTOptions()) -> None:
        self.threads = options.threads
        det_path = options.detector_model or graph.detector_model
        lm_path = options.landmark_model or graph.landmark_model
        self._det = _load_interpreter(det_path, options.threads, "pose detector")
        self._lm = _load_interpreter(lm_path, options.threads, "pose landmark")
        d = graph.decoding
        self._det_in = self._check_input(self._det, det_path, graph.detector_input, "pose detector")
        outs = self._det.get_output_details()
        shapes = [tuple(int(k) for k in o["shape"]) for o in outs]
        want = [(1, d.num_boxes, d.num_coords), (1, d.num_boxes, 1)]
        if shapes != want:
            raise InputError(f"pose detector model {det_path} has outputs {shapes}, expected {want}")
        self._det_out = [o["index"] for o in outs]
        self._lm_in = self._check_input(self._lm, lm_path, graph.landmark_input, "pose landmark")
        n = graph.num_landmarks
        t = graph.landmark_input
        outs = self._lm.get_output_details()
        shapes = [tuple(int(k) for k in o["shape"]) for o in outs]
        heat = shapes[3] if len(shapes) == 5 else None
        want = [(1, n * 5), (1, 1), (1, t.height, t.width, 1), heat, (1, n * 3)]
        if len(shapes) != 5 or shapes != want or len(heat) != 4 or heat[3] != n:
            raise InputError(
                f"pose landmark model {lm_path} has outputs {shapes}, expected {want[:3]}, a heatmap and {want[4]}"
            )
        self._lm_out = [o["index"] for o in outs]
        self.paths = (det_path, lm_path)

    @staticmethod
    def _check_input(interpreter, path: str, tensor: TensorInput, role: str) -> int:
        ins = interpreter.get_input_details()
        want = (1, tensor.height, tensor.width, 3)
        if len(ins) != 1 or tuple(ins[0]["shape"]) != want or ins[0]["dtype"] != np.float32:
            got = [(tuple(int(d) for d in i["shape"]), np.dtype(i["dtype"]).name) for i in ins]
            raise InputError(f"{role} model {path} takes {got}, expected one float32 input {want}")
        return int(ins[0]["index"])

    def detect(self, tensor: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self._det.set_tensor(self._det_in, tensor[None])
        self._det.invoke()
        return self._det.get_tensor(self._det_out[0])[0], self._det.get_tensor(self._det_out[1])[0]

    def landmarks(self, tensor: np.ndarray, outputs: tuple[int, ...] = (0, 1, 2, 3, 4)) -> list[np.ndarray | None]:
        """Run the landmark model; only the outputs listed are copied out (others ``None``)."""
        self._lm.set_tensor(self._lm_in, tensor[None])
        self._lm.invoke()
        return [self._lm.get_tensor(self._lm_out[i]) if i in outputs else None for i in range(5)]


def as_bgr(image: np.ndarray) -> np.ndarray:
    """``image`` as ``(H, W, 3)`` uint8 BGR: gray ``(H, W)`` or ``(H, W, 1)`` repeated into
    three channels, BGRA's alpha dropped. InputError for other shapes or dtypes."""
    if image.dtype != np.uint8 or image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (1, 3, 4)):
        raise InputError(f"expected an (H, W, 3) uint8 BGR image, got {image.shape} {image.dtype}")
    if image.ndim == 2 or image.shape[2] == 1:
        return cv2.cvtColor(image.reshape(image.shape[:2]), cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return image


@lru_cache(maxsize=8)
def value_table(tensor: TensorInput) -> np.ndarray:
    """``(256,)`` float32: the model-input value of each 8-bit pixel value.

    As MediaPipe's ``convertTo`` with ``scale = (max - min) / 255`` and ``offset = min`` in
    float32, which OpenCV evaluates as one fused multiply-add per value (computed here in
    double, where it is exact, then rounded once).
    """
    scale = np.float32((np.float32(tensor.range_max) - np.float32(tensor.range_min)) / np.float32(255.0))
    offset = np.float32(tensor.range_min)
    table = (np.arange(256, dtype=np.float64) * float(scale) + float(offset)).astype(np.float32)
    table.flags.writeable = False  # cached: shared by every call
    return table


def to_tensor(image: np.ndarray, crop: Crop, tensor: TensorInput) -> np.ndarray:
    """The model input of a region: ``(H_t, W_t, 3)`` float32 RGB with pixel values 0..255
    mapped linearly onto ``[range_min, range_max]`` (:func:`value_table`), bilinear, border as
    configured.

    image: ``(H, W, 3)`` uint8 **BGR**. crop: :func:`arpose.estimate.roi.crop_transform`. The
    warp runs on the 8-bit image (as MediaPipe's does) and the channel swap after it (it
    commutes with the warp).
    """
    pixels = cv2.cvtColor(_warp(image, crop, tensor), cv2.COLOR_BGR2RGB)
    return cv2.LUT(pixels, value_table(tensor))


def detect_people(
    image: np.ndarray, models: PoseModels, graph: PoseGraph, anchors: np.ndarray, min_score: float
) -> Detections:
    """Every person the detector finds in ``image`` (``(H, W, 3)`` uint8 BGR), best first,
    normalised to the image (:class:`Detections`). ``anchors``: :func:`ssd_anchors` of the graph."""
    h, w = image.shape[:2]
    crop = crop_transform(Roi.whole_image(), (w, h), graph.detector_input)
    boxes, scores = models.detect(to_tensor(image, crop, graph.detector_input))
    dets = decode_detections(boxes, scores, anchors, graph.decoding, min_score)
    return remove_letterbox(weighted_nms(dets, graph.nms), crop.padding)


def roi_from_detection(keypoints: np.ndarray, image_size: tuple[int, int], graph: PoseGraph) -> Roi:
    """The landmark model's region for one detection: ``keypoints`` ``(k, 2)`` normalised to
    the image; ``image_size`` ``(width, height)``. Centre at the hip centre, side 2 x the
    body-circle radius, upright rotation, then squared and scaled (``detection_roi``)."""
    raw = roi_from_keypoints(keypoints, image_size, graph.detection_roi)
    return transform_roi(raw, image_size, graph.detection_roi)


@dataclass(frozen=True)
class LandmarkResult:
    """The landmark model's answer for one region.

    landmarks: ``(33, 5)`` float32 ``[x, y, z, visibility, presence]`` normalised to the image.
    auxiliary: ``(2, 5)`` float32, the same for the two tracking landmarks (hip centre, body
        circle point).
    world: ``(33, 3)`` float32 metres, MediaPipe world frame.
    pose_flag: probability that a person fills the region.
    mask: ``(H, W)`` float32 person probability on the image (before temporal smoothing) or ``None``.
    """

    landmarks: np.ndarray
    auxiliary: np.ndarray
    world: np.ndarray
    pose_flag: float
    mask: np.ndarray | None = None


def estimate_in_roi(
    image: np.ndarray,
    roi: Roi,
    models: PoseModels,
    graph: PoseGraph,
    min_flag: float,
    segmentation: bool = False,
) -> LandmarkResult | None:
    """Run the landmark model on ``roi`` of ``image`` (``(H, W, 3)`` uint8 BGR).

    Returns ``None`` when the pose flag is not above ``min_flag`` (no person in the region),
    else a :class:`LandmarkResult`.
    """
    h, w = image.shape[:2]
    t = graph.landmark_input
    crop = crop_transform(roi, (w, h), t)
    outputs = (0, 1, 2, 3, 4) if segmentation else (0, 1, 3, 4)
    raw_lm, flag, seg, heat, raw_world = models.landmarks(to_tensor(image, crop, t), outputs)
    pose_flag = float(flag.reshape(-1)[0])
    if not pose_flag > min_flag:
        return None
    n = graph.num_landmarks
    crop_lm = decode_landmarks(
        raw_lm, n, graph.landmark_input_size, graph.visibility_activation, graph.presence_activation
    )
    crop_lm = refine_from_heatmap(crop_lm, heat[0], graph.refine_kernel_size, graph.refine_min_confidence)
    b, e = graph.pose_landmarks
    ab, ae = graph.auxiliary_landmarks
    landmarks = project_landmarks(crop_lm[b:e], roi, crop.padding)
    auxiliary = project_landmarks(crop_lm[ab:ae], roi, crop.padding)
    world = rotate_world(np.asarray(raw_world, dtype=np.float32).reshape(n, 3)[b:e], roi.rotation)
    mask = None
    if segmentation:
        mask = warp_mask(segmentation_probabilities(seg), crop, (w, h), graph.mask_border)
    return LandmarkResult(landmarks=landmarks, auxiliary=auxiliary, world=world, pose_flag=pose_flag, mask=mask)


def _valid(roi: Roi) -> bool:
    vals = (roi.x_center, roi.y_center, roi.width, roi.height, roi.rotation)
    return all(math.isfinite(v) for v in vals) and roi.width > 0 and roi.height > 0


@dataclass
class _Track:
    """Per-sequence state: the next region, the filters, the last smoothed mask."""

    roi: Roi | None = None
    aux: MediaPipeOneEuro | None = None
    image: MediaPipeOneEuro | None = None
    world: MediaPipeOneEuro | None = None
    visibility: VisibilityLowPass | None = None
    mask: np.ndarray | None = None
    last_us: int = 0

    def lose(self) -> None:
        """No pose this frame. As in MediaPipe's graph, only the filters that also take the
        image size reset (the auxiliary and image-landmark ones: they run on every frame and
        see the empty landmarks); the world-landmark and visibility filters are simply not
        run, so they resume from their last state when the pose comes back."""
        self.roi = None
        self.mask = None
        for f in (self.aux, self.image):
            if f is not None:
                f.reset()


class LiteRTPoseEstimator:
    """One person per frame from BlazePose GHUM 3D (Full), run on LiteRT.

    ``LiteRTPoseEstimator(EstimatorConfig(...), LiteRTOptions(threads=...))``: the same
    :class:`EstimatorConfig` as :class:`~arpose.estimate.BlazePoseEstimator` (tracking or
    stills, both thresholds, segmentation, MediaPipe's smoothing), with the same meaning.
    ``process(frame)`` returns a :class:`PoseFrame` with zero or one :class:`Person` (id 0):
    image landmarks ``(33, 5)`` with sigmoid visibility and presence, world landmarks
    ``(33, 3)``, score = mean visibility, mask ``(H, W)`` when asked. No person is an empty
    result. Timestamps must increase; a repeated or earlier one is treated as 1 us after the
    previous (as the MediaPipe backend does). Use as a context manager or call :meth:`close`.

    Raises :class:`InputError` if the graph or a model file is missing or corrupt.
    """

    def __init__(self, config: EstimatorConfig = EstimatorConfig(), options: LiteRTOptions = LiteRTOptions()) -> None:
        for name in ("min_detection_confidence", "min_tracking_confidence"):
            v = getattr(config, name)
            if not (0.0 <= v <= 1.0):
                raise ConfigError(f"{name} must be in [0, 1], got {v}")
        self.config = config
        self.options = options
        self.graph = load_pose_graph(options.graph, options.graph_runtime)
        self.models = PoseModels(self.graph, options)
        self.anchors = ssd_anchors(self.graph.anchors)
        if self.anchors.shape[0] != self.graph.decoding.num_boxes:
            raise InputError(
                f"pose graph makes {self.anchors.shape[0]} anchors for {self.graph.decoding.num_boxes} boxes"
            )
        self._track = self._new_track()
        self._closed = False

    def _new_track(self) -> _Track:
        g, cfg = self.graph, self.config
        track = _Track(aux=MediaPipeOneEuro(g.aux_filter))
        if cfg.mediapipe_smoothing and cfg.tracking:
            track.image = MediaPipeOneEuro(g.image_filter)
            track.world = MediaPipeOneEuro(g.world_filter)
            track.visibility = VisibilityLowPass(g.visibility_alpha)
        return track

    @property
    def roi(self) -> Roi | None:
        """The region tracked into the next frame (``None``: the detector runs next)."""
        return self._track.roi

    def process(self, frame: Frame) -> PoseFrame:
        """Estimate the pose in one frame (image ``(H, W, 3)`` uint8 BGR; gray and BGRA
        frames are taken as :class:`~arpose.estimate.blazepose.BlazePoseEstimator` takes them,
        see :func:`as_bgr`)."""
        if self._closed:
            raise InputError("LiteRTPoseEstimator.process called after close()")
        image = as_bgr(frame.image)
        cfg, g, tr = self.config, self.graph, self._track
        t_us = max(int(round(frame.timestamp * 1e6)), tr.last_us + 1)
        tr.last_us = t_us
        t_ns = t_us * 1000
        h, w = image.shape[:2]
        size = (w, h)
        roi = tr.roi if cfg.tracking else None
        if roi is None:
            dets = detect_people(image, self.models, g, self.anchors, cfg.min_detection_confidence)
            if len(dets) == 0:
                tr.lose()
                return PoseFrame(frame=frame, people=())
            roi = roi_from_detection(dets.keypoints[0], size, g)
        if not _valid(roi):
            tr.lose()
            return PoseFrame(frame=frame, people=())
        res = estimate_in_roi(image, roi, self.models, g, cfg.min_tracking_confidence, cfg.segmentation)
        if res is None:
            tr.lose()
            return PoseFrame(frame=frame, people=())
        # MediaPipe's landmark filter stage runs even with smoothing off: it converts the
        # landmarks to pixels (z scaled as x) and back, which moves some by one float32 step.
        px = np.array([w, h, w], dtype=np.float32)
        pixels = res.landmarks[:, :3] * px
        landmarks, world = res.landmarks.copy(), res.world
        if cfg.tracking:
            # The next region: MediaPipe filters the auxiliary landmarks (in pixels) with the
            # object's size taken from their unfiltered alignment rect.
            scale_roi = roi_from_keypoints(res.auxiliary[:, :2], size, g.tracking_roi)
            scale = object_scale(scale_roi.width, scale_roi.height, size)
            aux = tr.aux(res.auxiliary[:, :3] * px, t_ns, scale) / px
            nxt = transform_roi(roi_from_keypoints(aux[:, :2], size, g.tracking_roi), size, g.tracking_roi)
            tr.roi = nxt if _valid(nxt) else None
            if tr.image is not None:
                landmarks[:, 3] = tr.visibility(landmarks[:, 3])
                pixels = tr.image(pixels, t_ns, scale)
                world = tr.world(world, t_ns)
        landmarks[:, :3] = pixels / px
        mask = None
        if cfg.segmentation and res.mask is not None:
            mask = res.mask
            if cfg.tracking:
                mask = smooth_mask(
                    mask,
                    tr.mask if tr.mask is not None and tr.mask.shape == mask.shape else None,
                    g.segmentation_smoothing_ratio,
                )
                tr.mask = mask
        person = Person(
            id=0,
            landmarks=np.ascontiguousarray(landmarks, dtype=np.float32),
            world=np.ascontiguousarray(world, dtype=np.float32),
            score=pose_score(landmarks),
            mask=mask,
        )
        return PoseFrame(frame=frame, people=(person,))

    def reset(self) -> None:
        """Start a new sequence: forget the tracked region, every filter and the timestamps
        (the next frame runs the detector)."""
        self._track = self._new_track()

    def close(self) -> None:
        self._closed = True
        self.models = None  # type: ignore[assignment]

    def __enter__(self) -> "LiteRTPoseEstimator":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
