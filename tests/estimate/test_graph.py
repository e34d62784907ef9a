"""BlazePose constants read from the mediapipe wheel's graph (arpose.estimate.graph)."""

import math
import subprocess
import sys
from pathlib import Path

import pytest

from arpose.errors import ConfigError, InputError
from arpose.estimate.graph import (
    REFINE_DEFAULTS,
    REFINE_EXTENSION,
    SEGMENTATION_SMOOTHING_DEFAULT,
    SEGMENTATION_SMOOTHING_EXTENSION,
    default_graph_path,
    load_pose_graph,
)


@pytest.fixture(scope="module")
def graph():
    return load_pose_graph()


def test_detector_constants_are_the_graphs(graph):
    a = graph.anchors
    assert (a.input_width, a.input_height) == (224, 224)
    assert a.strides == (8, 16, 32, 32, 32)
    assert (a.min_scale, a.max_scale) == (0.1484375, 0.75)
    assert (a.anchor_offset_x, a.anchor_offset_y) == (0.5, 0.5)
    assert a.aspect_ratios == (1.0,) and a.interpolated_scale_aspect_ratio == 1.0
    assert a.fixed_anchor_size and not a.reduce_boxes_in_lowest_layer
    d = graph.decoding
    assert (d.num_boxes, d.num_coords, d.num_keypoints, d.num_values_per_keypoint) == (2254, 12, 4, 2)
    assert (d.box_coord_offset, d.keypoint_coord_offset) == (0, 4)
    assert (d.x_scale, d.y_scale, d.w_scale, d.h_scale) == (224.0, 224.0, 224.0, 224.0)
    assert d.xywh and d.sigmoid_score and not d.apply_exponential_on_box_size
    assert d.score_clipping_thresh == 100.0 and d.min_score_thresh == 0.5
    assert graph.nms.algorithm == "WEIGHTED" and graph.nms.overlap_type == "INTERSECTION_OVER_UNION"
    assert graph.nms.min_suppression_threshold == pytest.approx(0.3)
    assert graph.detector_input.border == "zero"
    assert (graph.detector_input.range_min, graph.detector_input.range_max) == (-1.0, 1.0)


@pytest.mark.parametrize("which", ["detection_roi", "tracking_roi"])
def test_both_regions_use_hip_centre_and_body_circle_squared_and_scaled(graph, which):
    r = getattr(graph, which)
    assert (r.start_keypoint, r.end_keypoint) == (0, 1)
    assert r.target_angle == pytest.approx(math.pi / 2)
    assert (r.scale_x, r.scale_y, r.shift_x, r.shift_y) == (1.25, 1.25, 0.0, 0.0)
    assert r.square_long


def test_landmark_constants_are_the_graphs(graph):
    t = graph.landmark_input
    assert (t.width, t.height, t.keep_aspect_ratio) == (256, 256, True)
    assert (t.range_min, t.range_max) == (0.0, 1.0)
    assert t.border == "replicate"  # ImageToTensor's default when the option is unset
    assert graph.num_landmarks == 39 and graph.landmark_input_size == (256, 256)
    assert graph.pose_landmarks == (0, 33) and graph.auxiliary_landmarks == (33, 35)
    assert graph.visibility_activation == graph.presence_activation == "SIGMOID"
    assert graph.pose_flag_threshold == 0.5
    assert graph.mask_border == "zero"
    f = graph.aux_filter
    assert (f.min_cutoff, f.beta, f.derivate_cutoff, f.frequency) == pytest.approx((0.01, 10.0, 1.0, 30.0))
    assert not f.disable_value_scaling
    assert (graph.image_filter.min_cutoff, graph.image_filter.beta) == pytest.approx((0.05, 80.0))
    assert (graph.world_filter.min_cutoff, graph.world_filter.beta) == pytest.approx((0.1, 40.0))
    assert graph.world_filter.disable_value_scaling
    assert graph.visibility_alpha == pytest.approx(0.1)
    assert Path(graph.detector_model).name == "pose_detection.tflite" and Path(graph.detector_model).is_file()
    assert Path(graph.landmark_model).name == "pose_landmark_full.tflite" and Path(graph.landmark_model).is_file()


def test_solutions_runtime_uses_the_defaults_the_declared_one_the_graphs_options(graph):
    assert graph.runtime == "solutions"
    assert (graph.refine_kernel_size, graph.refine_min_confidence) == (9, 0.5)
    assert graph.segmentation_smoothing_ratio == 0.0
    declared = load_pose_graph(runtime="declared")
    assert (declared.refine_kernel_size, declared.refine_min_confidence) == (7, 0.5)
    assert declared.segmentation_smoothing_ratio == pytest.approx(0.7)
    assert declared.anchors == graph.anchors and declared.tracking_roi == graph.tracking_roi


def test_unknown_runtime_is_a_config_error():
    with pytest.raises(ConfigError, match="runtime"):
        load_pose_graph(runtime="tasks")


def test_missing_graph_is_a_one_line_input_error(tmp_path):
    with pytest.raises(InputError) as e:
        load_pose_graph(tmp_path / "none.binarypb")
    assert "not found" in str(e.value) and "\n" not in str(e.value)


def test_corrupt_graph_is_a_one_line_input_error(tmp_path):
    bad = tmp_path / "pose_landmark_cpu.binarypb"
    bad.write_bytes(default_graph_path().read_bytes()[:57])
    with pytest.raises(InputError) as e:
        load_pose_graph(bad)
    assert str(bad) in str(e.value) and "\n" not in str(e.value)


@pytest.mark.slow
def test_loading_leaves_solutions_pose_alone_and_the_defaults_are_the_protos():
    """Reading the graph must not register the option modules ``import mediapipe`` leaves out
    (that would change what ``solutions.pose`` does in the process); the hard-coded defaults
    and extension numbers are those of the wheel's option protos (checked in a fresh process,
    importing them here would change the other tests' reference)."""
    code = f"""
import sys
from arpose.estimate.graph import load_pose_graph, solutions_runtime_in_process
load_pose_graph(); load_pose_graph(runtime="declared")
bad = [m for m in sys.modules if m.endswith(("refine_landmarks_from_heatmap_calculator_pb2",
       "segmentation_smoothing_calculator_pb2", "visibility_copy_calculator_pb2"))]
assert not bad, bad
assert solutions_runtime_in_process() == "solutions"
from mediapipe.calculators.util import refine_landmarks_from_heatmap_calculator_pb2 as r
from mediapipe.calculators.image import segmentation_smoothing_calculator_pb2 as s
R, S = r.RefineLandmarksFromHeatmapCalculatorOptions, s.SegmentationSmoothingCalculatorOptions
assert R.ext.number == {REFINE_EXTENSION} and S.ext.number == {SEGMENTATION_SMOOTHING_EXTENSION}
f = R.DESCRIPTOR.fields_by_name
assert (f["kernel_size"].default_value, f["min_confidence_to_refine"].default_value) == {REFINE_DEFAULTS!r}
assert S.DESCRIPTOR.fields_by_name["combine_with_previous_ratio"].default_value == {SEGMENTATION_SMOOTHING_DEFAULT!r}
assert solutions_runtime_in_process() == "declared"
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().endswith("ok")
