"""``arpose`` command line: one tool with subcommands (``arpose --help``).

Each subcommand lives in its own module with ``add_parser(subparsers)`` and ``run(args)``.
Any :class:`arpose.errors.ArposeError` becomes a one-line ``arpose: error: ...`` on stderr and
exit code 2; Ctrl-C exits 130. Outputs are closed before exiting, so nothing done is lost.
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from .. import __version__
from ..errors import ArposeError
from . import cmd_bench, cmd_blender, cmd_demo, cmd_eval, cmd_export, cmd_live, cmd_replay, cmd_run

#: In the order ``arpose --help`` lists them: try it, use it, score it, convert, stream, measure.
COMMANDS = [cmd_demo, cmd_run, cmd_live, cmd_eval, cmd_export, cmd_replay, cmd_blender, cmd_bench]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="arpose",
        description="Camera body tracking: BlazePose landmarks, smoothing, retargeting, AR overlays, "
        "OSC/VMC streaming and motion-capture takes.",
    )
    parser.add_argument("--version", action="version", version=f"arpose {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for module in COMMANDS:
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ArposeError as exc:
        print(f"arpose: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("arpose: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
