"""Portable start-up (issue 15): arpose imports and ``arpose --help`` runs without Unix-only
modules, and ``--help`` loads no MediaPipe, OpenCV, rendering or trimesh code.

Each check runs in a fresh interpreter, so what earlier tests imported cannot hide anything.
"""

import json
import subprocess
import sys
import textwrap

#: Modules that exist only on Unix; none may be imported by arpose at import time.
UNIX_ONLY = ("resource", "fcntl", "termios")

#: Heavy modules ``arpose --help`` must not load: these packages and every module under them.
HEAVY = ("mediapipe", "pyrender", "trimesh", "OpenGL", "cv2", "matplotlib", "scipy")
HEAVY_ARPOSE = ("arpose.render", "arpose.estimate", "arpose.retarget")

#: Installs a finder that records, for each watched module, the chain of modules whose
#: top-level code was running when it was first imported (``a -> b -> watched``).
_WATCH = """
import importlib.abc, json, sys

class _Watch(importlib.abc.MetaPathFinder):
    def __init__(self, names, block):
        self.names, self.block, self.chains = names, block, {}

    def find_spec(self, name, path=None, target=None):
        key = next((n for n in self.names if name == n or name.startswith(n + ".")), None)
        if key is None:
            return None
        if key not in self.chains:
            chain, f = [name], sys._getframe(1)
            while f is not None:  # the modules whose top-level code is running, innermost first
                if f.f_code.co_name == "<module>" and f.f_globals.get("__name__") != chain[-1]:
                    chain.append(f.f_globals.get("__name__", "?"))
                f = f.f_back
            self.chains[key] = " -> ".join(reversed(chain))
        if self.block:
            raise ImportError(f"{name} is unavailable on this platform (blocked by the test)")
        return None
"""


def _run(body: str) -> dict:
    """Run ``body`` (after the :data:`_WATCH` prelude) in a fresh interpreter; it prints one
    JSON object on its last stdout line, which is returned."""
    code = _WATCH + textwrap.dedent(body)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_every_module_imports_and_help_runs_without_unix_only_modules():
    out = _run(
        f"""
        for name in {UNIX_ONLY!r}:
            sys.modules.pop(name, None)
        sys.meta_path.insert(0, _Watch({UNIX_ONLY!r}, block=True))
        import importlib, pkgutil
        import arpose

        imported, failed = [], {{}}

        def walk(pkg):
            for info in pkgutil.iter_modules(pkg.__path__, pkg.__name__ + "."):
                if info.name.startswith("arpose.broadcast.blender_addon") or info.name == "arpose.__main__":
                    continue  # the add-on needs Blender's bpy; __main__ runs the CLI (below)
                try:
                    mod = importlib.import_module(info.name)
                except Exception as exc:
                    failed[info.name] = repr(exc)
                    continue
                imported.append(info.name)
                if info.ispkg:
                    walk(mod)

        walk(arpose)
        from arpose.app.cli import main
        try:
            main(["--help"])
            code = None
        except SystemExit as exc:
            code = exc.code
        sys.argv = ["arpose", "--help"]
        try:
            import arpose.__main__
            main_code = None
        except SystemExit as exc:
            main_code = exc.code
        print()
        print(json.dumps({{"imported": imported, "failed": failed, "code": code, "main_code": main_code}}))
        """
    )
    assert out["failed"] == {}
    assert out["code"] == 0 and out["main_code"] == 0
    assert {"arpose.app.cli", "arpose.app.cmd_bench", "arpose.sysinfo", "arpose.stats"} <= set(out["imported"])
    assert len(out["imported"]) > 50


def test_help_imports_no_mediapipe_opencv_scipy_trimesh_rendering_estimation_or_retargeting():
    watched = HEAVY + HEAVY_ARPOSE
    out = _run(
        f"""
        watch = _Watch({watched!r}, block=False)
        sys.meta_path.insert(0, watch)
        from arpose.app.cli import main
        try:
            main(["--help"])
        except SystemExit as exc:
            assert exc.code == 0, exc.code
        loaded = sorted(n for n in {watched!r} if any(m == n or m.startswith(n + ".") for m in sys.modules))
        print()
        print(json.dumps({{"loaded": loaded, "chains": watch.chains}}))
        """
    )
    chains = "\n".join(out["chains"][n] for n in out["loaded"] if n in out["chains"])
    assert out["loaded"] == [], f"arpose --help imported {out['loaded']}:\n{chains}"
