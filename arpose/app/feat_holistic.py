"""Options: hands and face (off by default) -> the estimator part of the spec.

``--hands``     each person's hands: 21 landmarks per hand (image and world, the subject's
                left and right), retargeted to the 30 humanoid finger bones; the hand model
                orients the Hand bones when it sees the hand.
``--face``      each person's face: the 478-point mesh with irises, retargeted to the head
                rotation, the eye bones, a jaw value and expression weights (blinks, mouth
                open, the vowels A I U E O, brows up / down, smile) after a neutral-face
                calibration over the first 2 seconds a face is seen.
``--holistic``  both.
``--hand-model lite``  the wheel's smaller hand landmark model (about half the cost per hand;
                the same finger states on the shared hand photos).
``--mirrored-input``  the input frames are already mirrored (a webcam app that flips its
                picture): each frame is flipped back before estimation, so the body's, hands'
                and face's left is the subject's left (``live``'s mirror view is different: it
                flips only the finished display).

Smoothing parameters of hands and face: the ``[smooth]`` table of ``--config`` (``hand_*``,
``face_*``). What each costs per frame: docs/hands_face.md.
"""

from __future__ import annotations

import argparse
from dataclasses import replace

from ..errors import ConfigError
from ..spec import PipelineSpec


def add_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("hands and face")
    group.add_argument(
        "--hands",
        action="store_true",
        help="also track each person's hands and fingers (21 landmarks per hand, 30 finger bones)",
    )
    group.add_argument(
        "--face",
        action="store_true",
        help="also track each person's face (478-point mesh with irises: head, eyes, jaw, expressions)",
    )
    group.add_argument("--holistic", action="store_true", help="both --hands and --face")
    group.add_argument(
        "--hand-model",
        choices=("full", "lite"),
        help="hand landmark model: full (default) or lite (about half the cost per hand)",
    )
    group.add_argument(
        "--mirrored-input",
        action="store_true",
        default=None,
        help="the input frames are already mirrored (a webcam app that flips): flip them back before estimation",
    )


def apply(args: argparse.Namespace, spec: PipelineSpec) -> PipelineSpec:
    """``spec`` with ``--hands`` / ``--face`` / ``--holistic`` turned on (options left out keep
    the spec's values, e.g. from ``--config``)."""
    both = bool(getattr(args, "holistic", False))
    est = spec.estimator
    if both or getattr(args, "hands", False):
        est = replace(est, hands=True)
    if both or getattr(args, "face", False):
        est = replace(est, face=True)
    if getattr(args, "hand_model", None) is not None:
        if not est.hands:
            raise ConfigError("--hand-model chooses the hand model: add --hands or --holistic to track the hands")
        est = replace(est, hand_model=args.hand_model)
    if getattr(args, "mirrored_input", None):
        est = replace(est, mirrored_input=True)
    return replace(spec, estimator=est)
