"""Options: retargeting to the humanoid rig (on by default) -> the ``retarget`` part of the
spec and the angles output.

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
from dataclasses import replace

from ..spec import AnglesOutput, PipelineSpec


def add_options(parser: argparse.ArgumentParser) -> None:
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


def apply(args: argparse.Namespace, spec: PipelineSpec) -> PipelineSpec:
    """``spec`` with the retargeting options and the angles output."""
    rt = spec.retarget
    if getattr(args, "no_retarget", False):
        rt = replace(rt, enabled=False)
    if getattr(args, "no_grounding", False):
        rt = replace(rt, grounding=False)
    if getattr(args, "subject_height", None) is not None:
        rt = replace(rt, subject_height=float(args.subject_height))
    spec = replace(spec, retarget=rt)
    if getattr(args, "angles", None) is not None:
        spec = spec.with_output(AnglesOutput(args.angles))
    return spec


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
