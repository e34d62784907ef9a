"""Options: smoothing (on by default) -> the ``smooth`` part of the spec.

``--no-smooth``              raw landmarks (neither ours nor MediaPipe's smoothing).
``--smooth MIN_CUTOFF,BETA`` One Euro parameters of world landmarks across the image (x, y).
``--smooth causal|offline|auto`` which smoother feeds the file outputs (take, CSV, angles,
                             BVH): ``auto`` (default) the zero-lag smoother when the input is
                             a file, ``causal`` the live One Euro filter, ``offline`` the
                             zero-lag one (an error for a camera). Streams, the video and
                             windows are always causal. ``--smooth`` may be given twice
                             (a mode and a pair).
Every other parameter: the ``[smooth]`` table of ``--config FILE.toml``
(:class:`arpose.spec.SmoothSpec`; docs/smoothing.md). ``arpose eval`` scores the
jitter-cut / added-lag columns.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import replace

from ..errors import ConfigError
from ..spec import SMOOTH_MODES, PipelineSpec

#: ``[smooth]`` keys of the TOML config file and what they set (the fields of SmoothSpec).
TOML_KEYS: dict[str, str] = {
    "enabled": "bool, default true; false = raw output",
    "min_cutoff": "world landmarks x/y: Hz when still",
    "beta": "world landmarks x/y: cutoff increase in Hz per m/s of speed",
    "d_cutoff": "world landmarks x/y: Hz, low-pass of the speed estimate",
    "depth_min_cutoff": "world landmarks z (depth): Hz when still",
    "depth_beta": "world landmarks z (depth): Hz per m/s",
    "depth_d_cutoff": "world landmarks z (depth): Hz, speed low-pass",
    "leg_depth_min_cutoff": "world z of knees, ankles, heels, toes: Hz when still",
    "leg_depth_beta": "world z of the legs: Hz per m/s (a swinging foot opens the cutoff)",
    "leg_depth_d_cutoff": "world z of the legs: Hz, speed low-pass",
    "image_min_cutoff": "image landmarks: Hz when still",
    "image_beta": "image landmarks: Hz per torso size per second",
    "image_d_cutoff": "image landmarks: Hz, speed low-pass",
    "visibility_threshold": "raw visibility (0..1) under which a landmark eases instead of following",
    "hidden_cutoff": "Hz, easing rate of low-visibility landmarks; 0 holds them",
    "visibility_cutoff": "Hz, low-pass of the visibility/presence columns",
    "reset_gap": "seconds a person may be lost before their filter restarts",
    "hand_min_cutoff": "hand landmarks (--hands): Hz when still",
    "hand_beta": "hand landmarks: Hz per hand size per second",
    "hand_d_cutoff": "hand landmarks: Hz, speed low-pass",
    "face_min_cutoff": "face landmarks (--face): Hz when still",
    "face_beta": "face landmarks: Hz per inter-ocular distance per second",
    "face_d_cutoff": "face landmarks: Hz, speed low-pass",
    "mode": "auto (zero-lag smoothing for a file's file outputs), causal or offline",
    "offline_cutoff": "zero-lag smoother, world landmarks x/y: Hz where the gain is one half",
    "offline_depth_cutoff": "zero-lag smoother, world landmarks z (depth): Hz",
    "offline_image_cutoff": "zero-lag smoother, image landmarks: Hz",
    "offline_order": "zero-lag smoother model: 3 constant acceleration, 2 constant velocity",
    "offline_hidden_noise": "zero-lag smoother: how many times less a low-visibility landmark is trusted",
    "offline_lag": "zero-lag smoother: seconds of later frames awaited before a frame is written",
}


def add_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("smoothing")
    group.add_argument(
        "--no-smooth", action="store_true", help="raw landmarks: no smoothing at all (neither ours nor MediaPipe's)"
    )
    group.add_argument(
        "--smooth",
        action="append",
        metavar="MIN_CUTOFF,BETA|MODE",
        help="One Euro parameters for world landmarks across the image (x, y), e.g. 6,10 "
        "(Hz when still, Hz per m/s; default 4.5,10; depth and image landmarks: --config); or the mode of the "
        "file outputs (take, CSV, angles, BVH): auto (default: zero-lag smoothing with future "
        "frames when the input is a file), causal (the live filter) or offline; may be given twice",
    )


def parse_smooth_pair(text: str) -> tuple[float, float]:
    """``"MIN_CUTOFF,BETA"`` -> two floats; :class:`ConfigError` if malformed or out of range."""
    parts = [p.strip() for p in str(text).split(",")]
    if len(parts) != 2:
        raise ConfigError(
            f"--smooth wants MIN_CUTOFF,BETA (two numbers, e.g. 0.1,40) or a mode "
            f"({', '.join(SMOOTH_MODES)}), got {text!r}"
        )
    try:
        mc, beta = float(parts[0]), float(parts[1])
    except ValueError:
        raise ConfigError(f"--smooth wants MIN_CUTOFF,BETA as numbers (e.g. 0.1,40), got {text!r}") from None
    if not (math.isfinite(mc) and mc > 0):
        raise ConfigError(f"--smooth MIN_CUTOFF must be a number > 0 Hz, got {parts[0]!r}")
    if not (math.isfinite(beta) and beta >= 0):
        raise ConfigError(f"--smooth BETA must be a number >= 0, got {parts[1]!r}")
    return mc, beta


def apply(args: argparse.Namespace, spec: PipelineSpec) -> PipelineSpec:
    """``spec`` with ``--no-smooth`` / ``--smooth`` applied."""
    no_smooth = bool(getattr(args, "no_smooth", False))
    values = getattr(args, "smooth", None) or []
    if isinstance(values, str):
        values = [values]
    if no_smooth and values:
        raise ConfigError("--no-smooth and --smooth contradict each other; use one of them")
    modes = [v.strip().lower() for v in values if v.strip().lower() in SMOOTH_MODES]
    pairs = [v for v in values if v.strip().lower() not in SMOOTH_MODES]
    if len(modes) > 1 or len(pairs) > 1:
        raise ConfigError(
            f"--smooth takes at most one mode ({', '.join(SMOOTH_MODES)}) and one MIN_CUTOFF,BETA pair, "
            f"got {', '.join(values)}"
        )
    smooth = spec.smooth
    if pairs:
        mc, beta = parse_smooth_pair(pairs[0])
        smooth = replace(smooth, enabled=True, min_cutoff=mc, beta=beta)
    if modes:
        smooth = replace(smooth, enabled=True, mode=modes[0])
    if no_smooth:
        smooth = replace(smooth, enabled=False)
    return replace(spec, smooth=smooth)
