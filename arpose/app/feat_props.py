"""Feature: AR props and the avatar overlay for run / demo / live / bench.

Options
-------
``--props LIST``            props to wear, comma-separated (``crown,glasses``) or ``all``.
``--props-manifest FILE``   a JSON manifest of your own props (GLB/OBJ), added to the built-in
                            ones (same name: yours wins). Format: ``docs/overlays.md``.
``--avatar [beside|over]``  draw the rigid-segment avatar driven by the retargeted rotations
                            beside the person (default) or over them.
``--no-occlusion``          do not hide prop parts behind the body (and skip segmentation).
``--prop-lighting MODE``    ``baked`` (default: shading fixed per vertex, cheap on a CPU
                            rasteriser) or ``dynamic`` (physically based, lit from the camera).

Props turn MediaPipe's segmentation on (the mask trims the body proxy to the silhouette); the
overlay is drawn under the skeleton and HUD of whatever renderer the command uses.
"""

from __future__ import annotations

import argparse
from dataclasses import replace

from ..errors import ConfigError
from ..pipeline import Renderer
from ..render.props import load_manifest, select_props
from ..types import PoseFrame

#: Commands that draw the overlay themselves (the live window cycles props itself).
SELF_DRAWN = ("live",)


def add_options(parser: argparse.ArgumentParser, command: str) -> None:
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
        default="baked",
        help="baked: shading fixed to each prop, cheap (default); dynamic: physically based "
        "shading lit from the camera, costlier per pixel",
    )


def stages(args: argparse.Namespace, ctx) -> list:
    """No stage: the overlay is drawn by the renderer. Checks the options early instead."""
    if wants_overlay(args) and ctx.command == "run" and not getattr(args, "out", None):
        raise ConfigError("--props and --avatar draw on the output video; add --out FILE.mp4")
    chosen_props(args)  # unknown names and bad manifests fail before any frame is read
    return []


def sinks(args: argparse.Namespace, ctx) -> list:
    return []


def chosen_props(args: argparse.Namespace) -> list:
    """The props named by ``--props`` (validated against the manifests); [] without it."""
    names = getattr(args, "props", None)
    manifest = getattr(args, "props_manifest", None)
    if manifest and not names:
        raise ConfigError("--props-manifest adds props; choose which to wear with --props NAME[,NAME]")
    if not names:
        return []
    return select_props(names, load_manifest(manifest))


def wants_overlay(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "props", None) or getattr(args, "avatar", None))


def wants_segmentation(args: argparse.Namespace) -> bool:
    """True when the estimator should return the person mask (props with occlusion)."""
    return bool(getattr(args, "props", None)) and not getattr(args, "no_occlusion", False)


def estimator_config(args: argparse.Namespace, config):
    """``config`` (an :class:`~arpose.estimate.EstimatorConfig`) with segmentation switched on
    when props are worn with occlusion."""
    return replace(config, segmentation=True) if wants_segmentation(args) else config


def overlay_config(args: argparse.Namespace):
    from ..render.overlay import OverlayConfig

    return OverlayConfig(
        occlusion=not getattr(args, "no_occlusion", False),
        avatar=getattr(args, "avatar", None),
        lighting=getattr(args, "prop_lighting", "baked"),
    )


class OverlayRenderer:
    """A pipeline renderer ``(PoseFrame, fps) -> BGR image``: draws the props and avatar onto
    the frame, then hands it to ``base`` (the skeleton + HUD renderer), so text and skeleton
    stay on top. With nothing to draw the output is exactly ``base``'s."""

    def __init__(self, base: Renderer, prop_renderer) -> None:
        self.base = base
        self.props = prop_renderer

    def __call__(self, pose_frame: PoseFrame, fps: float):
        image = self.props.render(pose_frame.frame.image, pose_frame.people)
        if image is not pose_frame.frame.image:
            pose_frame = replace(pose_frame, frame=replace(pose_frame.frame, image=image))
        return self.base(pose_frame, fps)

    def close(self) -> None:
        self.props.close()


def wrap_renderer(args: argparse.Namespace, ctx, base: Renderer | None) -> Renderer | None:
    """``base`` with the overlay the options ask for drawn under it (``base`` unchanged when
    no props or avatar are asked for, when nothing renders, or in commands that draw the
    overlay themselves)."""
    if not wants_overlay(args) or ctx.command in SELF_DRAWN:
        return base
    if base is None:
        raise ConfigError("--props and --avatar draw on the output video; add --out FILE.mp4")
    from ..render.overlay import PropRenderer

    return OverlayRenderer(base, PropRenderer(ctx.camera, chosen_props(args), overlay_config(args)))
