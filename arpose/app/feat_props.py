"""Options: AR props and the avatar overlay -> the ``overlay`` part of the spec.

``--props LIST``            props to wear, comma-separated (``crown,glasses``) or ``all``.
``--props-manifest FILE``   a JSON manifest of your own props (GLB/OBJ), added to the built-in
                            ones (same name: yours wins). Format: ``docs/overlays.md``.
``--avatar [beside|over]``  draw the rigid-segment avatar driven by the retargeted rotations
                            beside the person (default) or over them.
``--no-occlusion``          do not hide prop parts behind the body (and skip segmentation).
``--prop-lighting MODE``    ``baked`` (default: shading fixed per vertex, cheap on a CPU
                            rasteriser) or ``dynamic`` (physically based, lit from the camera).

Props turn MediaPipe's segmentation on (the mask trims the body proxy to the silhouette); the
overlay is drawn under the skeleton and HUD. The props are read (and unknown names refused)
when the pipeline is built, before any frame is read.
"""

from __future__ import annotations

import argparse
from dataclasses import replace

from ..errors import ConfigError
from ..spec import PipelineSpec


def add_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("AR overlays")
    group.add_argument(
        "--props",
        metavar="LIST",
        help="props to wear, comma-separated (e.g. crown,glasses) or 'all'; built in: crown, glasses, "
        "helmet, shoulders, sword, wand, cape, wings",
    )
    group.add_argument(
        "--props-manifest",
        metavar="FILE.json",
        help="your own props (GLB/OBJ + bone, offset, rotation, scale), see docs/overlays.md",
    )
    group.add_argument(
        "--avatar",
        nargs="?",
        const="beside",
        choices=("beside", "over"),
        help="draw a rigid-segment avatar driven by the retargeted bones, beside (default) or over the person",
    )
    group.add_argument(
        "--no-occlusion", action="store_true", help="draw props whole, even where the body is in front of them"
    )
    group.add_argument(
        "--prop-lighting",
        choices=("baked", "dynamic"),
        help="baked: shading fixed to each prop, cheap (default); dynamic: physically based "
        "shading lit from the camera, costlier per pixel",
    )


def parse_props(text: str) -> tuple[str, ...]:
    """``"crown, glasses"`` -> ``("crown", "glasses")``; ConfigError for an empty list or name."""
    names = tuple(n.strip() for n in str(text).split(","))
    if not any(names) or not all(names):
        raise ConfigError(f"--props wants names like crown,glasses or all, got {text!r}")
    return names


def apply(args: argparse.Namespace, spec: PipelineSpec) -> PipelineSpec:
    """``spec`` with the overlay options given."""
    ov = spec.overlay
    if getattr(args, "props", None) is not None:
        ov = replace(ov, props=parse_props(args.props))
    if getattr(args, "props_manifest", None) is not None:
        ov = replace(ov, manifest=args.props_manifest)
    if getattr(args, "avatar", None) is not None:
        ov = replace(ov, avatar=args.avatar)
    if getattr(args, "no_occlusion", False):
        ov = replace(ov, occlusion=False)
    if getattr(args, "prop_lighting", None) is not None:
        ov = replace(ov, lighting=args.prop_lighting)
    return replace(spec, overlay=ov)
