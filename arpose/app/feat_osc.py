"""Options: OSC broadcast (``--vmc``, ``--osc``, ``--osc-rate``) -> VMC / OSC outputs.

``--vmc HOST[:PORT]``  VMC protocol to a Marionette (Unity EVMC4U, VSeeFace, VNyan, the arpose
                       Blender add-on); default port 39539; person slot N goes to PORT + N.
                       Needs a retargeted body (``Person.body``); people without one are sent
                       as "tracking lost".
``--osc HOST[:PORT]``  the raw arpose stream (landmarks, world landmarks, visibility, scores,
                       joint angles, bones); default port 9000.
``--osc-rate HZ``      cap on frames sent per second for both (default: every frame).
``--vmc-avatar FILE``  the receiving avatar (.vrm, .glb, .gltf): send its own bone positions,
                       hip height and rotations relative to its rest pose (docs/osc.md).
``--vmc-vrm {0,1}``    VRM 0.x (normalised) or 1.0 (the file's own) bones; default: by the file.
``--vmc-trackers``     also send /VMC/Ext/Tra/Pos virtual trackers (head, hips, hands, feet).
``--vmc-expressions {vrm0,vrm1,off}``  blend shape names for the face's expressions (with --face).

Bad addresses (malformed, port out of range, a host name that does not resolve) are a
:class:`ConfigError` at start-up; once running, sending never blocks or fails the run.
"""

from __future__ import annotations

import argparse

from ..broadcast.osc import parse_host_port
from ..errors import ConfigError
from ..spec import OscOutput, PipelineSpec, VmcOutput

VMC_DEFAULT_PORT = VmcOutput.port
RAW_DEFAULT_PORT = OscOutput.port


def add_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("OSC broadcast")
    group.add_argument(
        "--vmc",
        metavar="HOST[:PORT]",
        help=f"send the avatar over the VMC protocol (default port {VMC_DEFAULT_PORT}; person N to PORT+N)",
    )
    group.add_argument(
        "--osc", metavar="HOST[:PORT]", help=f"send the raw landmark stream over OSC (default port {RAW_DEFAULT_PORT})"
    )
    group.add_argument("--osc-rate", type=float, metavar="HZ", help="cap OSC/VMC sends to HZ frames per second")
    group.add_argument(
        "--vmc-avatar",
        metavar="FILE",
        help="the receiver's avatar (.vrm/.glb/.gltf): keep its proportions (its own bone positions and hip height)",
    )
    group.add_argument(
        "--vmc-vrm",
        choices=("0", "1"),
        help="bones as VRM 0.x (normalised) or 1.0 (the file's own); default: by the file",
    )
    group.add_argument(
        "--vmc-trackers", action="store_true", default=None, help="also send virtual trackers (head, hips, hands, feet)"
    )
    group.add_argument(
        "--vmc-expressions",
        choices=("vrm0", "vrm1", "off"),
        help="blend shape names for the face (--face): VRM 0.x Blink_L ... (default), VRM 1.0 blinkLeft ..., or none",
    )


def apply(args: argparse.Namespace, spec: PipelineSpec) -> PipelineSpec:
    """``spec`` with the VMC / OSC outputs the options ask for."""
    rate = getattr(args, "osc_rate", None)
    vmc, osc = getattr(args, "vmc", None), getattr(args, "osc", None)
    if rate is not None and not (vmc is not None or osc is not None or spec.output("vmc") or spec.output("osc")):
        raise ConfigError("--osc-rate needs --vmc or --osc")
    if vmc is not None:
        host, port = parse_host_port(vmc, VMC_DEFAULT_PORT, "--vmc")
        spec = spec.with_output(VmcOutput(host, port))
    if osc is not None:
        host, port = parse_host_port(osc, RAW_DEFAULT_PORT, "--osc")
        spec = spec.with_output(OscOutput(host, port))
    extra = {
        k: v
        for k, v in (
            ("avatar", getattr(args, "vmc_avatar", None)),
            ("vrm", getattr(args, "vmc_vrm", None)),
            ("trackers", getattr(args, "vmc_trackers", None)),
            ("expressions", getattr(args, "vmc_expressions", None)),
        )
        if v is not None
    }
    if extra:
        from dataclasses import replace

        out = spec.output("vmc")
        if out is None:
            raise ConfigError("--vmc-avatar, --vmc-vrm, --vmc-trackers and --vmc-expressions need --vmc HOST[:PORT]")
        spec = spec.with_output(replace(out, **extra))
    if rate is not None:
        from dataclasses import replace

        for kind in ("vmc", "osc"):
            out = spec.output(kind)
            if out is not None:
                spec = spec.with_output(replace(out, rate_hz=float(rate)))
    return spec


def summary_line(sink, label: str) -> str:
    """``--vmc 127.0.0.1:39539: 42 frames, 84 datagrams sent, 0 dropped`` (+ why, + hints)."""
    st = sink.sender.stats
    line = f"{label}: {sink.frames_sent} frames, {st.sent} datagrams sent, {st.dropped} dropped"
    if st.errors:
        line += " (" + ", ".join(f"{k} x{v}" for k, v in sorted(st.errors.items())) + ")"
    if sink.limiter.skipped:
        line += f", {sink.limiter.skipped} frames skipped by --osc-rate"
    missing = getattr(sink, "people_without_body", 0)
    if missing:
        line += f"; {missing} people had no retargeted body (sent as tracking lost)"
    return line
