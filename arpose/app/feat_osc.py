"""Feature: OSC broadcast for run / demo / live / replay.

Options
-------
``--vmc HOST[:PORT]``  VMC protocol to a Marionette (Unity EVMC4U, VSeeFace, VNyan, the arpose
                       Blender add-on); default port 39539; person slot N goes to PORT + N.
                       Needs a retargeted body (``Person.body``); people without one are sent
                       as "tracking lost".
``--osc HOST[:PORT]``  the raw arpose stream (landmarks, world landmarks, visibility, scores,
                       joint angles, bones); default port 9000.
``--osc-rate HZ``      cap on frames sent per second for both (default: every frame).

Bad addresses (malformed, port out of range, a host name that does not resolve) are a
:class:`ConfigError` at start-up; once running, sending never blocks or fails the run.
"""

from __future__ import annotations

import argparse
import sys

from ..broadcast import RAW_DEFAULT_PORT, VMC_DEFAULT_PORT, RawOscSink, VmcSink, parse_host_port
from ..broadcast.osc import RateLimiter
from ..errors import ConfigError


def add_options(parser: argparse.ArgumentParser, command: str) -> None:
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


def stages(args: argparse.Namespace, ctx) -> list:
    return []


class _Reporting:
    """Wraps a broadcast sink so closing it prints one summary line (app layer only)."""

    def __init__(self, sink, label: str) -> None:
        self.sink, self.label = sink, label

    def write(self, pose_frame, image) -> None:
        self.sink.write(pose_frame, image)

    def close(self) -> None:
        self.sink.close()
        print(summary_line(self.sink, self.label), file=sys.stderr)


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


def sinks(args: argparse.Namespace, ctx) -> list:
    rate = getattr(args, "osc_rate", None)
    vmc, osc = getattr(args, "vmc", None), getattr(args, "osc", None)
    if rate is not None:
        RateLimiter(rate)  # validate even when nothing is sent
        if not (vmc or osc):
            raise ConfigError("--osc-rate needs --vmc or --osc")
    out = []
    if vmc:
        host, port = parse_host_port(vmc, VMC_DEFAULT_PORT, "--vmc")
        out.append(_Reporting(VmcSink(host, port, rate_hz=rate), f"--vmc {host}:{port}"))
    if osc:
        host, port = parse_host_port(osc, RAW_DEFAULT_PORT, "--osc")
        out.append(_Reporting(RawOscSink(host, port, rate_hz=rate), f"--osc {host}:{port}"))
    return out
