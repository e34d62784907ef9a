"""Several people per frame through MediaPipe Tasks' ``PoseLandmarker`` (``num_poses``).

The pinned ``mediapipe`` wheel ships the two BlazePose models of the classic solution
(``pose_detection.tflite`` and ``pose_landmark_full.tflite``) but no Tasks ``.task`` bundle.
:func:`build_bundle` makes one: it adds MediaPipe metadata (image input normalisation) to each
model with ``MetadataWriter`` and zips them as ``pose_detector.tflite`` and
``pose_landmarks_detector.tflite``. :func:`ensure_bundle` builds it once into the user cache
(``$XDG_CACHE_HOME/arpose`` or ``~/.cache/arpose``) with an atomic write. Users may pass an
official ``pose_landmarker_{lite,full,heavy}.task`` instead (:attr:`MultiPoseConfig.model`).

Same models, same output contract as :class:`arpose.estimate.BlazePoseEstimator`: world
landmarks and visibility of a single person agree with the classic solution to about 1e-4 m;
image landmarks agree to a median 0.08 px but differ by up to about 4.5 px on limbs: the Tasks
graph refines them from the heatmap with a 7-pixel kernel, while the shipped classic solution
behaves as with MediaPipe's default of 9 although its graph config declares 7 (rebuilt from
that config it matches this estimator within 0.1 px; see ``docs/multi_person.md``).
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .._cv import cv2
from ..errors import ConfigError, InputError, OutputError
from ..landmarks import NUM_LANDMARKS
from ..types import Frame, Person, PoseFrame
from .blazepose import _quiet_native_stderr, pose_score

#: File names a pose landmarker ``.task`` bundle must hold (the Tasks API looks them up by name).
BUNDLE_FILES: tuple[str, str] = ("pose_detector.tflite", "pose_landmarks_detector.tflite")

#: The wheel's model files (relative to the mediapipe package) and the image-input
#: normalisation ``(mean, std)`` their metadata declares: the detector takes [-1, 1] pixels,
#: the landmark model [0, 1], as in the classic graphs.
WHEEL_MODELS: dict[str, tuple[str, float, float]] = {
    "pose_detector.tflite": ("modules/pose_detection/pose_detection.tflite", 127.5, 127.5),
    "pose_landmarks_detector.tflite": ("modules/pose_landmark/pose_landmark_full.tflite", 0.0, 255.0),
}


def cache_dir() -> Path:
    """Where built bundles are cached: ``$XDG_CACHE_HOME/arpose`` or ``~/.cache/arpose``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "arpose"


def default_bundle_path() -> Path:
    """The cached bundle built from this mediapipe version's Full model."""
    import mediapipe

    return cache_dir() / f"pose_landmarker_full_mediapipe-{mediapipe.__version__}.task"


def _with_metadata(model: bytes, name: str, mean: float, std: float) -> bytes:
    """``model`` (a ``.tflite`` flatbuffer) with MediaPipe metadata: general info, an RGB image
    input normalised as ``(pixel - mean) / std``, and every output tensor named as in the model."""
    from mediapipe.tasks.python.metadata.metadata_writers import metadata_writer, writer_utils

    writer = metadata_writer.MetadataWriter.create(bytearray(model))
    writer.add_general_info(name, "BlazePose GHUM 3D model from the mediapipe wheel, metadata added by arpose")
    writer.add_image_input(norm_mean=[mean], norm_std=[std])
    for tensor_name in writer_utils.get_output_tensor_names(bytearray(model)):
        writer.add_feature_output(name=tensor_name)
    content, _ = writer.populate()
    return bytes(content)


def bundle_contents() -> dict[str, bytes]:
    """``{file name in the bundle: .tflite bytes with metadata}`` from the installed wheel.

    Raises :class:`InputError` if the wheel lacks the models (a mediapipe other than 0.10.21).
    """
    import mediapipe

    root = Path(mediapipe.__file__).parent
    out = {}
    for name, (rel, mean, std) in WHEEL_MODELS.items():
        path = root / rel
        try:
            model = path.read_bytes()
        except OSError as exc:
            raise InputError(
                f"mediapipe's model {path} is missing ({exc}); install mediapipe==0.10.21 or pass "
                "--model pose_landmarker_full.task"
            ) from None
        out[name] = _with_metadata(model, Path(name).stem, mean, std)
    return out


def build_bundle(path: str | os.PathLike[str]) -> Path:
    """Write a pose landmarker ``.task`` bundle built from the wheel's models to ``path``.

    The zip is written to a temporary file in the same folder and renamed into place, so a
    reader never sees half a bundle (two processes building at once both produce a whole file).
    Raises :class:`OutputError` if the folder cannot be created or written.
    """
    from mediapipe.tasks.python.metadata.metadata_writers import model_asset_bundle_utils

    path = Path(path)
    contents = bundle_contents()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise OutputError(
            f"cannot write the model bundle into {path.parent}: {exc}; set XDG_CACHE_HOME to a writable folder"
        ) from None
    os.close(fd)
    try:
        model_asset_bundle_utils.create_model_asset_bundle(contents, tmp)
        os.replace(tmp, path)
    except OSError as exc:
        raise OutputError(f"cannot write the model bundle {path}: {exc}") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def check_bundle(path: str | os.PathLike[str]) -> Path:
    """``path`` if it is a readable pose landmarker bundle (a zip with :data:`BUNDLE_FILES`),
    else :class:`InputError` saying what is wrong."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"model file not found: {p} (pass a pose_landmarker_{{lite,full,heavy}}.task file)")
    try:
        with zipfile.ZipFile(p) as zf:
            names = set(zf.namelist())
            bad = zf.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise InputError(
            f"model {p} is not a MediaPipe .task bundle (not a readable zip: {exc}); download "
            "pose_landmarker_full.task again or leave out --model"
        ) from None
    missing = [n for n in BUNDLE_FILES if n not in names]
    if missing:
        raise InputError(f"model {p} is not a pose landmarker bundle: it lacks {', '.join(missing)}")
    if bad is not None:
        raise InputError(f"model {p} is corrupt ({bad} fails its checksum); download it again")
    return p


def ensure_bundle(path: str | os.PathLike[str] | None = None) -> Path:
    """The bundle at ``path`` (default :func:`default_bundle_path`), built first if missing or
    unreadable."""
    p = Path(path) if path is not None else default_bundle_path()
    try:
        return check_bundle(p)
    except InputError:
        return build_bundle(p)


@dataclass(frozen=True)
class MultiPoseConfig:
    """Settings of :class:`MultiPoseEstimator`.

    max_people: most poses returned per frame (``num_poses``), >= 1.
    model: a pose landmarker ``.task`` file, or ``None`` for the bundle built from the wheel's
        Full model (cached, see :func:`ensure_bundle`).
    tracking: True for sequences (running mode VIDEO: landmark ROIs follow people between
        frames, the detector runs only while fewer than ``max_people`` are tracked); False for
        unrelated stills (mode IMAGE, detector on every frame).
    min_detection_confidence, min_presence_confidence: Tasks thresholds in [0, 1] (0.5, as
        MediaPipe's and the classic estimator's).
    min_tracking_confidence: in the Tasks graph (VIDEO mode) this is the overlap (IoU of the
        square regions) above which a fresh detection is taken for an already tracked person.
        MediaPipe's default 0.5 merges people who stand close together: in VIDEO mode it finds
        1 of the 2 people in ``multi_couple_walking_dog.jpg`` and 2 of 3 in
        ``multi_three_people.jpg``; 0.7 finds all of them. The occasional double this lets
        through is merged by :func:`merge_duplicates`.
    segmentation: also return each person's mask.
    tiles: 1 looks at the whole frame only. ``N > 1`` also looks at an N x N grid of
        half-overlapping tiles (each ``2 / (N + 1)`` of the frame's width and height), for people
        too small for the detector at full frame (BlazePose's detector sees the frame at 224 px:
        people under about 100 px tall are missed). Tiles run in IMAGE mode (detector on every
        tile, every frame: about N * N times the detector's cost); people found twice are merged.
    """

    max_people: int = 2
    model: str | None = None
    tracking: bool = True
    min_detection_confidence: float = 0.5
    min_presence_confidence: float = 0.5
    min_tracking_confidence: float = 0.7
    segmentation: bool = False
    tiles: int = 1

    def __post_init__(self) -> None:
        if isinstance(self.tiles, bool) or not isinstance(self.tiles, int) or not (1 <= self.tiles <= 8):
            raise ConfigError(f"tiles must be an integer from 1 (whole frame) to 8, got {self.tiles!r}")
        if isinstance(self.max_people, bool) or not isinstance(self.max_people, int) or self.max_people < 1:
            raise ConfigError(f"max_people must be an integer >= 1, got {self.max_people!r}")
        for name in ("min_detection_confidence", "min_presence_confidence", "min_tracking_confidence"):
            value = getattr(self, name)
            if not (0.0 <= value <= 1.0):
                raise ConfigError(f"{name} must be in [0, 1], got {value!r}")


def arrays_from_tasks(
    image_landmarks: Sequence[Any], world_landmarks: Sequence[Any] | None
) -> tuple[np.ndarray, np.ndarray]:
    """One Tasks pose to arrays.

    image_landmarks: 33 ``NormalizedLandmark`` (x, y normalised to the image, z relative depth,
    visibility, presence); world_landmarks: 33 ``Landmark`` in metres (MediaPipe world frame) or
    ``None``. Returns ``(33, 5)`` float32 ``[x, y, z, visibility, presence]`` and ``(33, 3)``
    float32 metres; fields MediaPipe left unset are NaN.
    """
    image = np.full((NUM_LANDMARKS, 5), np.nan, dtype=np.float32)
    world = np.full((NUM_LANDMARKS, 3), np.nan, dtype=np.float32)
    nan = float("nan")
    for i, lm in enumerate(image_landmarks[:NUM_LANDMARKS]):
        image[i] = (
            lm.x,
            lm.y,
            lm.z,
            nan if lm.visibility is None else lm.visibility,
            nan if lm.presence is None else lm.presence,
        )
    for i, lm in enumerate((world_landmarks or [])[:NUM_LANDMARKS]):
        world[i] = (lm.x, lm.y, lm.z)
    return image, world


def tile_boxes(width: int, height: int, n: int) -> list[tuple[int, int, int, int]]:
    """``n * n`` half-overlapping tiles covering a ``width x height`` image, as pixel boxes
    ``(x0, y0, x1, y1)`` (x1, y1 exclusive), row by row. Each tile is ``2 / (n + 1)`` of the image
    in each direction, so anything smaller than half a tile lies wholly inside some tile."""

    def spans(size: int) -> list[tuple[int, int]]:
        if n == 1:
            return [(0, size)]
        step = size / (n + 1)
        return [(int(round(k * step)), int(round((k + 2) * step))) for k in range(n)]

    return [(x0, y0, x1, y1) for y0, y1 in spans(height) for x0, x1 in spans(width)]


def landmarks_to_frame(landmarks: np.ndarray, box: tuple[int, int, int, int], size: tuple[int, int]) -> np.ndarray:
    """``(33, 5)`` landmarks normalised to a tile ``box`` (pixels ``x0, y0, x1, y1``) re-expressed
    normalised to the whole ``size = (width, height)`` image (z keeps the scale of x)."""
    x0, y0, x1, y1 = box
    w, h = size
    out = np.array(landmarks, dtype=np.float32, copy=True)
    out[:, 0] = (x0 + landmarks[:, 0] * (x1 - x0)) / w
    out[:, 1] = (y0 + landmarks[:, 1] * (y1 - y0)) / h
    out[:, 2] = landmarks[:, 2] * (x1 - x0) / w
    return out


def merge_duplicates(
    people: Sequence[Person],
    size: tuple[int, int],
    min_iou: float = 0.3,
    max_distance: float = 0.25,
    min_visibility: float = 0.5,
) -> list[Person]:
    """People in score order with those found twice dropped (a tracked pose and a fresh
    detection of the same person, or one person seen in two tiles).

    A person duplicates a better-scored one when the boxes of their visible landmarks overlap
    (intersection over union above ``min_iou``) *and* their landmarks nearly coincide (mean
    distance under ``max_distance`` body diagonals, see
    :func:`arpose.track.assign.landmark_distance`), so two real people who overlap in the image
    are both kept. ``size`` is the image's ``(width, height)`` in pixels.
    """
    from ..track.assign import box_of, iou, landmark_distance, visible_points

    kept: list[Person] = []
    seen: list[tuple[np.ndarray, np.ndarray]] = []
    for p in sorted(people, key=lambda q: -q.score):
        pts = visible_points(p.landmarks, size, min_visibility)
        box = box_of(pts)
        if not any(
            iou(box, b) > min_iou and min(landmark_distance(pts, q), landmark_distance(q, pts)) < max_distance
            for q, b in seen
        ):
            kept.append(p)
            seen.append((pts, box))
    return kept


class MultiPoseEstimator:
    """Up to ``config.max_people`` people per frame from MediaPipe Tasks' ``PoseLandmarker``.

    ``process(frame)`` returns a :class:`PoseFrame` whose people carry ``(33, 5)`` image
    landmarks (with the Tasks presence column), ``(33, 3)`` world landmarks, a score (mean
    visibility, as the classic estimator) and, if asked, a ``(H, W)`` float32 mask. Ids are the
    people's order in MediaPipe's result (0, 1, ...); stable ids across frames come from
    :class:`arpose.track.TrackingEstimator`. In tracking mode frames go to MediaPipe with
    strictly increasing millisecond timestamps taken from ``Frame.timestamp``. No person is an
    empty result. Use as a context manager or call :meth:`close`.

    Raises :class:`InputError` if the model is missing, not a bundle, or MediaPipe rejects it.
    """

    def __init__(self, config: MultiPoseConfig = MultiPoseConfig()):
        import mediapipe as mp
        from mediapipe.tasks.python import BaseOptions, vision

        self.config = config
        self._mp = mp
        model = check_bundle(config.model) if config.model else ensure_bundle()
        self.model_path = model
        mode = vision.RunningMode.VIDEO if config.tracking else vision.RunningMode.IMAGE
        options = vision.PoseLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(model)),
            running_mode=mode,
            num_poses=config.max_people,
            min_pose_detection_confidence=config.min_detection_confidence,
            min_pose_presence_confidence=config.min_presence_confidence,
            min_tracking_confidence=config.min_tracking_confidence,
            output_segmentation_masks=config.segmentation,
        )
        try:
            with _quiet_native_stderr():
                self._landmarker = vision.PoseLandmarker.create_from_options(options)
                self._tiler = None
                if config.tiles > 1:
                    options.running_mode = vision.RunningMode.IMAGE
                    self._tiler = vision.PoseLandmarker.create_from_options(options)
        except (RuntimeError, ValueError) as exc:
            raise InputError(
                f"MediaPipe cannot load the pose model {model}: {exc}".splitlines()[0]
                + "; pass a pose_landmarker_{lite,full,heavy}.task file"
            ) from None
        self._last_ms: int | None = None
        self._quiet = True

    def timestamp_ms(self, frame: Frame) -> int:
        """The frame's time for MediaPipe: milliseconds, bumped by 1 ms where rounding would
        repeat or reverse the previous frame's."""
        t_ms = int(round(frame.timestamp * 1000.0))
        if self._last_ms is not None and t_ms <= self._last_ms:
            t_ms = self._last_ms + 1
        return t_ms

    def process(self, frame: Frame) -> PoseFrame:
        """Estimate every pose (up to ``max_people``) in one frame (image BGR uint8)."""
        rgb = np.ascontiguousarray(cv2.cvtColor(frame.image, cv2.COLOR_BGR2RGB))
        image = self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=rgb)
        if self.config.tracking:
            t_ms = self.timestamp_ms(frame)
            self._last_ms = t_ms
            call = lambda: self._landmarker.detect_for_video(image, t_ms)  # noqa: E731
        else:
            call = lambda: self._landmarker.detect(image)  # noqa: E731
        if self._quiet:  # MediaPipe logs once on its first inference
            with _quiet_native_stderr():
                result = call()
            self._quiet = False
        else:
            result = call()
        size = frame.size
        people = self._people(result, None, size)
        if self._tiler is not None:
            for box in tile_boxes(*size, self.config.tiles):
                x0, y0, x1, y1 = box
                crop = np.ascontiguousarray(rgb[y0:y1, x0:x1])
                tile = self._tiler.detect(self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=crop))
                people += self._people(tile, box, size)
        if len(people) > 1:
            people = merge_duplicates(people, size)[: self.config.max_people]
        people = [p.with_(id=i) for i, p in enumerate(people)]
        return PoseFrame(frame=frame, people=tuple(people))

    def _people(self, result, box: tuple[int, int, int, int] | None, size: tuple[int, int]) -> list[Person]:
        """People of one Tasks result for the whole frame (``box=None``) or a tile ``box``."""
        w, h = size
        people = []
        masks = result.segmentation_masks or []
        worlds = result.pose_world_landmarks or []
        for i, lms in enumerate(result.pose_landmarks or []):
            img, world = arrays_from_tasks(lms, worlds[i] if i < len(worlds) else None)
            mask = None
            if self.config.segmentation and i < len(masks):
                m = np.asarray(masks[i].numpy_view(), dtype=np.float32)
                if box is None:
                    mask = np.array(m.reshape(h, w))
                else:
                    x0, y0, x1, y1 = box
                    mask = np.zeros((h, w), np.float32)
                    mask[y0:y1, x0:x1] = m.reshape(y1 - y0, x1 - x0)
            if box is not None:
                img = landmarks_to_frame(img, box, size)
            people.append(Person(id=i, landmarks=img, world=world, score=pose_score(img), mask=mask))
        return people

    def close(self) -> None:
        self._landmarker.close()
        if self._tiler is not None:
            self._tiler.close()

    def __enter__(self) -> "MultiPoseEstimator":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
