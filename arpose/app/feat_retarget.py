"""Feature: retargeting to the humanoid rig (on by default) for run / demo / live.

Fills every person's :class:`~arpose.retarget.BodyPose` (bone rotations, root 6D pose in
camera space from ``--fov``, foot contacts) and joint angles, which the overlays, VMC/OSC and
takes read.

Options
-------
``--no-retarget``     skip retargeting (no bones, no angles: VMC and avatars get nothing).
``--no-grounding``    keep the measured root position (no floor pinning of planted feet).
``--angles FILE.csv`` write joint angles per frame and person:
                      ``frame,time_s,person,<ANGLE_NAMES>`` (degrees; empty = not seen).
``--subject-height M`` the person's standing height in metres: metric depth (MediaPipe's
                      world follows an average body; without it a short person seems farther).
``--retarget-stats``  print one line at the end: root-fit reprojection error and foot
                      grounding before/after (speed and height of planted feet).

For unrelated stills (an image, or a folder without ``--sequence``) every frame is solved on
its own: no calibration, hold or grounding across different photos.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace

from ..errors import ConfigError
from ..record import check_writable
from ..retarget import AnglesCsvWriter, RetargetConfig, RetargetStage


def add_options(parser: argparse.ArgumentParser, command: str) -> None:
    group = parser.add_argument_group("retargeting")
    group.add_argument(
        "--no-retarget",
        action="store_true",
        help="skip retargeting to the humanoid rig (no bone rotations, root pose or joint angles)",
    )
    group.add_argument("--no-grounding", action="store_true", help="do not pin planted feet to the estimated floor")
    group.add_argument(
        "--angles",
        metavar="FILE.csv",
        help="write joint angles in degrees per frame and person (elbows, knees, hips, shoulders, spine)",
    )
    group.add_argument(
        "--subject-height",
        type=float,
        metavar="M",
        help="the person's standing height in metres, for metric depth (default: MediaPipe's average body)",
    )
    group.add_argument(
        "--retarget-stats",
        action="store_true",
        help="print the root fit's reprojection error and the foot grounding before/after at the end",
    )


def config_from_args(args: argparse.Namespace, independent: bool = False) -> RetargetConfig | None:
    """The retargeting config the options ask for, or ``None`` with ``--no-retarget``."""
    if getattr(args, "no_retarget", False):
        if getattr(args, "angles", None):
            raise ConfigError("--angles needs retargeting; drop --no-retarget")
        return None
    cfg = RetargetConfig()
    height = getattr(args, "subject_height", None)
    if height is not None:
        if not (0.5 <= height <= 2.5):
            raise ConfigError(f"--subject-height must be a standing height between 0.5 and 2.5 metres, got {height}")
        cfg = replace(cfg, subject_height=float(height))
    if getattr(args, "no_grounding", False) or independent:
        cfg = replace(cfg, grounding_enabled=False)
    return cfg


def stages(args: argparse.Namespace, ctx) -> list:
    independent = not getattr(ctx.source, "is_sequence", True)
    cfg = config_from_args(args, independent)
    if cfg is None:
        return []
    stage = RetargetStage(cfg, ctx.camera, independent_frames=independent)
    args.retarget_stage = stage  # for the --retarget-stats sink below
    return [stage]


def sinks(args: argparse.Namespace, ctx) -> list:
    out: list = []
    path = getattr(args, "angles", None)
    if path:
        check_writable(path, force=getattr(args, "force", False))
        out.append(AnglesCsvWriter(path, force=True))
    stage = getattr(args, "retarget_stage", None)
    if getattr(args, "retarget_stats", False) and stage is not None:
        out.append(_StatsReport(stage))
    return out


def format_stats(s: dict[str, float]) -> str:
    """One line from :meth:`RetargetStage.summary`."""
    head = f"retarget: root fit {s['reprojection_px_median']:.1f} px RMS (median); "
    if not s["contact_samples"]:
        return head + "no planted feet"
    return (
        head + f"planted feet ({int(s['contact_samples'])} samples): speed {s['speed_before_median']:.3f} -> "
        f"{s['speed_after_median']:.3f} m/s median, height above floor {1000 * s['height_before_median']:.1f} -> "
        f"{1000 * s['height_after_median']:.1f} mm median"
    )


class _StatsReport:
    """Sink that prints the retargeting summary when closed (app layer only)."""

    def __init__(self, stage: RetargetStage) -> None:
        self.stage = stage

    def write(self, pose_frame, image) -> None:
        pass

    def close(self) -> None:
        print(format_stats(self.stage.summary()), file=sys.stderr)
