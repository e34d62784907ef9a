"""``arpose blender-addon --out FILE.py``: write the Blender add-on (one file) that receives
arpose's VMC or raw OSC stream and drives an armature live (install it in Blender with
Edit > Preferences > Add-ons > Install...). Without ``--out`` prints where the packaged file is."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import InputError, OutputError

#: The add-on as shipped in the package (package data).
ADDON_PATH = Path(__file__).resolve().parents[1] / "broadcast" / "blender_addon" / "arpose_vmc_receiver.py"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "blender-addon",
        help="write the Blender live-receiver add-on (VMC / raw OSC)",
        description="Write the one-file Blender add-on that listens for arpose's --vmc or --osc stream and "
        "drives an armature live. Install it in Blender: Edit > Preferences > Add-ons > Install...",
    )
    p.add_argument("--out", metavar="FILE.py", help="where to write the add-on (default: print the packaged path)")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not ADDON_PATH.is_file():
        raise InputError(f"the Blender add-on is missing from the installation ({ADDON_PATH}); reinstall arpose")
    if not args.out:
        print(ADDON_PATH)
        return 0
    out = Path(args.out)
    if out.suffix != ".py":
        raise OutputError(f"--out must name a .py file (Blender installs add-ons from .py), got {out}")
    from ..record.output import check_writable

    check_writable(out, force=args.force)
    out.write_bytes(ADDON_PATH.read_bytes())
    print(f"wrote {out}; in Blender: Edit > Preferences > Add-ons > Install... > {out.name}", file=sys.stderr)
    return 0
