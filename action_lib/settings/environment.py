"""The environment source: the one module of rockshard that reads ``os.environ``.

Everything else receives the environment as a mapping (a settings layer, a child process's
environment) or asks one of the functions here.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType


def environ() -> Mapping[str, str]:
    """The process environment, read-only."""
    return MappingProxyType(os.environ)


def get(name: str, default: str = "") -> str:
    """One environment variable, ``default`` when unset."""
    return os.environ.get(name, default)


def child(extra: Mapping[str, str] | None) -> dict[str, str] | None:
    """The environment of a child process: this one's plus ``extra`` (None: inherit as is)."""
    return None if extra is None else {**os.environ, **extra}


def user_cache_dir(env: Mapping[str, str] | None = None) -> Path:
    """The per-user cache directory of rockshard."""
    env = os.environ if env is None else env
    if sys.platform == "win32":
        base = env.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "rockshard" / "cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "rockshard"
    return Path(env.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rockshard"


def host_platform() -> str:
    """``windows`` or ``linux`` (TheRock's platform names; other systems count as linux)."""
    return "windows" if sys.platform == "win32" else "linux"


def is_tty(stream: object) -> bool:
    """True when ``stream`` is an interactive terminal (progress bars), not CI logs."""
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and not os.environ.get("CI")
