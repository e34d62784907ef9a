"""``arpose`` command line: one tool with subcommands (``arpose --help``).

Each subcommand lives in its own module with ``add_parser(subparsers)`` and ``run(args)``.
Any :class:`arpose.errors.ArposeError`, and any argument the parser refuses, becomes a one-line
``arpose: error: ...`` on stderr and exit code 2. Ctrl-C exits 130 and SIGTERM 143, after the
outputs are closed, so nothing done is lost.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import NoReturn, Sequence

from .. import __version__
from ..errors import ArposeError
from . import cmd_batch, cmd_bench, cmd_blender, cmd_demo, cmd_eval, cmd_export, cmd_live, cmd_replay, cmd_run

#: In the order ``arpose --help`` lists them: try it, use it, score it, convert, stream, measure.
COMMANDS = [cmd_demo, cmd_run, cmd_batch, cmd_live, cmd_eval, cmd_export, cmd_replay, cmd_blender, cmd_bench]


class ArgumentParser(argparse.ArgumentParser):
    """argparse with one-line errors: ``arpose: error: PROBLEM (see arpose CMD --help)``, exit 2."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"arpose: error: {message} (see {self.prog} --help)\n")
        raise SystemExit(2)


class Terminated(KeyboardInterrupt):
    """Raised on the main thread by SIGTERM, so a run stops as cleanly as with Ctrl-C."""

    signal_name = "SIGTERM"


def _on_sigterm(signum, frame) -> None:
    raise Terminated()


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="arpose",
        description="Camera body tracking: BlazePose landmarks, smoothing, retargeting, AR overlays, "
        "OSC/VMC streaming and motion-capture takes.",
    )
    parser.add_argument("--version", action="version", version=f"arpose {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=ArgumentParser)
    sub.required = True
    for module in COMMANDS:
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        return int(args.func(args) or 0)
    except ArposeError as exc:
        print(f"arpose: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        sig = getattr(exc, "signal_name", "SIGINT")
        print(f"arpose: interrupted by {sig}", file=sys.stderr)
        return 143 if sig == "SIGTERM" else 130
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
