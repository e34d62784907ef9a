"""Feature: One Euro landmark smoothing (on by default) for run / demo / live.

Options
-------
``--no-smooth``                 raw estimator output (neither ours nor MediaPipe's smoothing).
``--smooth MIN_CUTOFF,BETA``    world-landmark One Euro parameters (Hz, speed coefficient).
``--config FILE.toml``          a ``[smooth]`` table (keys: :data:`TOML_KEYS`); the command
                                line wins over the file.

Smoothing is skipped for inputs that are unrelated stills (an image, or a folder without
``--sequence``): filtering across different photos would blend them.

For ``arpose eval`` the options also register the smoothing evidence
(:mod:`arpose.evaluate.smoothing`): the ``mediapipe-smoothed`` and ``one-euro`` variants and
the jitter-cut / added-lag columns.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..errors import ConfigError, InputError
from ..smooth import OneEuroParams, SmoothConfig, SmoothStage

#: ``[smooth]`` keys of the TOML config file and what they set.
TOML_KEYS: dict[str, str] = {
    "enabled": "bool, default true; false = raw output",
    "min_cutoff": "world landmarks x/y: Hz when still",
    "beta": "world landmarks x/y: cutoff increase in Hz per m/s of speed",
    "d_cutoff": "world landmarks x/y: Hz, low-pass of the speed estimate",
    "depth_min_cutoff": "world landmarks z (depth): Hz when still",
    "depth_beta": "world landmarks z (depth): Hz per m/s",
    "depth_d_cutoff": "world landmarks z (depth): Hz, speed low-pass",
    "image_min_cutoff": "image landmarks: Hz when still",
    "image_beta": "image landmarks: Hz per torso size per second",
    "image_d_cutoff": "image landmarks: Hz, speed low-pass",
    "visibility_threshold": "raw visibility (0..1) under which a landmark eases instead of following",
    "hidden_cutoff": "Hz, easing rate of low-visibility landmarks; 0 holds them",
    "visibility_cutoff": "Hz, low-pass of the visibility/presence columns",
    "reset_gap": "seconds a person may be lost before their filter restarts",
}


def add_options(parser: argparse.ArgumentParser, command: str) -> None:
    if command == "eval":
        # ``arpose eval`` scores the registered variants: importing the smoothing evidence module
        # registers the MediaPipe-smoothed peer, our ``one-euro`` row and their metric columns.
        from ..evaluate import smoothing  # noqa: F401
    group = parser.add_argument_group("smoothing")
    group.add_argument(
        "--no-smooth", action="store_true", help="raw landmarks: no smoothing at all (neither ours nor MediaPipe's)"
    )
    group.add_argument(
        "--smooth",
        metavar="MIN_CUTOFF,BETA",
        help="One Euro parameters for world landmarks across the image (x, y), e.g. 6,10 "
        "(Hz when still, Hz per m/s); depth and image landmarks: --config",
    )
    try:
        group.add_argument(
            "--config", metavar="FILE.toml", help="TOML settings file; its [smooth] table sets smoothing parameters"
        )
    except argparse.ArgumentError:
        pass  # another feature already offers the shared --config option


def parse_smooth_pair(text: str) -> tuple[float, float]:
    """``"MIN_CUTOFF,BETA"`` -> two floats; :class:`ConfigError` if malformed or out of range."""
    parts = [p.strip() for p in str(text).split(",")]
    if len(parts) != 2:
        raise ConfigError(f"--smooth wants MIN_CUTOFF,BETA (two numbers, e.g. 0.1,40), got {text!r}")
    try:
        mc, beta = float(parts[0]), float(parts[1])
    except ValueError:
        raise ConfigError(f"--smooth wants MIN_CUTOFF,BETA as numbers (e.g. 0.1,40), got {text!r}") from None
    if not (math.isfinite(mc) and mc > 0):
        raise ConfigError(f"--smooth MIN_CUTOFF must be a number > 0 Hz, got {parts[0]!r}")
    if not (math.isfinite(beta) and beta >= 0):
        raise ConfigError(f"--smooth BETA must be a number >= 0, got {parts[1]!r}")
    return mc, beta


def load_toml_table(path: str | Path, table: str) -> dict[str, Any]:
    """The ``[table]`` of a TOML file as a dict (empty if the file has no such table).

    Raises :class:`InputError` if the file is missing or unreadable, :class:`ConfigError` if it
    is not valid TOML or the table is not a table.
    """
    try:
        import tomllib
    except ModuleNotFoundError:  # Python < 3.11
        import tomli as tomllib
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"config file not found: {p} (check the path)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read config file {p}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {p} is not valid TOML: {exc}") from None
    section = data.get(table, {})
    if not isinstance(section, dict):
        raise ConfigError(f"config file {p}: [{table}] must be a table, got {type(section).__name__}")
    return section


def config_from_table(
    table: dict[str, Any], base: SmoothConfig = SmoothConfig(), where: str = "[smooth]"
) -> tuple[bool, SmoothConfig]:
    """``(enabled, config)`` from a ``[smooth]`` table; unknown keys or bad values -> ConfigError."""
    unknown = sorted(set(table) - set(TOML_KEYS))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(TOML_KEYS)}")
    for key, value in table.items():
        if key == "enabled":
            if not isinstance(value, bool):
                raise ConfigError(f"{where}: enabled must be true or false, got {value!r}")
        elif isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: {key} must be a number, got {value!r}")
    try:
        world = OneEuroParams(
            table.get("min_cutoff", base.world.min_cutoff),
            table.get("beta", base.world.beta),
            table.get("d_cutoff", base.world.d_cutoff),
        )
        image = OneEuroParams(
            table.get("image_min_cutoff", base.image.min_cutoff),
            table.get("image_beta", base.image.beta),
            table.get("image_d_cutoff", base.image.d_cutoff),
        )
        depth = OneEuroParams(
            table.get("depth_min_cutoff", base.world_depth.min_cutoff),
            table.get("depth_beta", base.world_depth.beta),
            table.get("depth_d_cutoff", base.world_depth.d_cutoff),
        )
        cfg = SmoothConfig(
            world=world,
            world_depth=depth,
            image=image,
            visibility_threshold=table.get("visibility_threshold", base.visibility_threshold),
            hidden_cutoff=table.get("hidden_cutoff", base.hidden_cutoff),
            visibility_cutoff=table.get("visibility_cutoff", base.visibility_cutoff),
            reset_gap=table.get("reset_gap", base.reset_gap),
        )
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    return bool(table.get("enabled", True)), cfg


def config_from_args(args: argparse.Namespace) -> SmoothConfig | None:
    """The smoothing config the options ask for, or ``None`` for raw output."""
    no_smooth = bool(getattr(args, "no_smooth", False))
    pair = getattr(args, "smooth", None)
    if no_smooth and pair:
        raise ConfigError("--no-smooth and --smooth contradict each other; use one of them")
    enabled, cfg = True, SmoothConfig()
    path = getattr(args, "config", None)
    if path:
        enabled, cfg = config_from_table(load_toml_table(path, "smooth"), cfg, where=f"{path} [smooth]")
    if pair:
        mc, beta = parse_smooth_pair(pair)
        cfg = replace(cfg, world=OneEuroParams(mc, beta, cfg.world.d_cutoff))
        enabled = True
    if no_smooth or not enabled:
        return None
    return cfg


def stages(args: argparse.Namespace, ctx) -> list:
    cfg = config_from_args(args)  # validate options even when the input is a still
    if cfg is None or not getattr(ctx.source, "is_sequence", True):
        return []
    return [SmoothStage(cfg)]


def sinks(args: argparse.Namespace, ctx) -> list:
    return []
