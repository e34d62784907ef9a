"""Typed errors. Every message says what was wrong and what to do about it.

The app layer turns any :class:`ArposeError` into a one-line message and exit code 2.
"""

from __future__ import annotations


class ArposeError(Exception):
    """Base class of all errors arpose raises on purpose."""


class InputError(ArposeError):
    """An input (file, camera, folder, take, option value) is missing, empty or unreadable."""


class OutputError(ArposeError):
    """An output cannot be written (folder missing or read-only, file exists without --force)."""


class ConfigError(ArposeError):
    """A configuration value or command-line option is malformed or out of range."""


class RenderError(ArposeError):
    """Offscreen rendering is unavailable (no EGL/OSMesa) or failed."""
