"""Lazy package exports (PEP 562): a package names what it exports and where each name is
defined, and the defining module is imported on first use. ``arpose --help`` then loads no
OpenCV, SciPy, trimesh or renderer, while ``from arpose.performer import PerformerSource``
works as usual."""

from __future__ import annotations

import importlib
from typing import Any, Callable, Mapping


def lazy_exports(package: str, exports: Mapping[str, str], namespace: dict) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package``: ``exports`` maps each public name to the
    relative module that defines it (``{"PerformerSource": ".performer"}``); the value is
    cached in ``namespace`` (the package's ``globals()``) after the first look-up."""

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, package), name)
        namespace[name] = value
        return value

    return __getattr__
