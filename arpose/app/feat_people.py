"""Options: several people (``--max-people``, ``--model``, ``--track-gap``, ``--tiles``)
-> the estimator and tracking parts of the spec.

``--max-people N``      track up to N people (default 1: the single-person BlazePose path,
                        person id 0, on LiteRT unless ``--backend mediapipe``). N > 1 uses MediaPipe Tasks' PoseLandmarker and the
                        identity tracker, so each person keeps one id across frames.
``--model PATH``        a ``pose_landmarker_{lite,full,heavy}.task`` bundle to use instead of the
                        one built from the wheel's Full model (also with ``--max-people 1``).
``--track-gap SECONDS`` how long a person may be unseen and keep their id (default 1.5).
``--tiles N``           also look for small people in an N x N grid of overlapping tiles
                        (default 1: whole frame only; e.g. 5 for a high camera on a street).
"""

from __future__ import annotations

import argparse
from dataclasses import replace

from ..spec import BACKENDS, MAX_PEOPLE_LIMIT, PipelineSpec


def add_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("several people")
    group.add_argument(
        "--max-people",
        type=int,
        metavar="N",
        help=f"track up to N people with stable ids (1-{MAX_PEOPLE_LIMIT}; default 1: the single-person path)",
    )
    group.add_argument(
        "--model",
        metavar="PATH",
        help="pose_landmarker_{lite,full,heavy}.task to use (default: the wheel's Full model, "
        "bundled on first use into ~/.cache/arpose)",
    )
    group.add_argument(
        "--track-gap",
        type=float,
        metavar="SECONDS",
        help="seconds a person may be unseen and keep their id (default 1.5)",
    )
    group.add_argument(
        "--backend",
        choices=BACKENDS,
        help="pose estimation: litert (BlazePose's pipeline run by arpose on LiteRT: MediaPipe's answers "
        "in about half the time; one person), mediapipe (MediaPipe's own graph), or auto (default: litert "
        "for one person, mediapipe with --max-people > 1 or --model)",
    )
    group.add_argument(
        "--threads",
        type=int,
        metavar="N",
        help="LiteRT backend: threads per model (default: 1 while props are rendered, else 2)",
    )
    group.add_argument(
        "--tiles",
        type=int,
        metavar="N",
        help="with --max-people > 1: also search an N x N grid of overlapping tiles for people "
        "too small for the detector (under ~100 px tall); about N*N times slower (default 1)",
    )


def apply(args: argparse.Namespace, spec: PipelineSpec) -> PipelineSpec:
    """``spec`` with the options given (those left out keep the spec's values)."""
    est, tracking = spec.estimator, spec.tracking
    if getattr(args, "max_people", None) is not None:
        est = replace(est, max_people=args.max_people)
    if getattr(args, "model", None) is not None:
        est = replace(est, model=args.model)
    if getattr(args, "tiles", None) is not None:
        est = replace(est, tiles=args.tiles)
    if getattr(args, "backend", None) is not None:
        est = replace(est, backend=args.backend)
    if getattr(args, "threads", None) is not None:
        est = replace(est, threads=args.threads)
    if getattr(args, "track_gap", None) is not None:
        tracking = replace(tracking, max_gap=args.track_gap)
    return replace(spec, estimator=est, tracking=tracking)
