"""Settings that come from the environment: run id, local staging dir, S3 endpoint."""

from __future__ import annotations

import os
import sys
from pathlib import Path

LOCAL_RUN_ID = "local"


def run_id(given: str | None = None) -> str:
    """``--run-id``, else ``THEROCK_RUN_ID``, else ``GITHUB_RUN_ID``, else ``local``."""
    for value in (given, os.environ.get("THEROCK_RUN_ID"), os.environ.get("GITHUB_RUN_ID")):
        if value:
            return value
    return LOCAL_RUN_ID


def user_cache_dir() -> Path:
    """The per-user cache directory of rockshard."""
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "rockshard" / "cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "rockshard"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rockshard"


def local_staging_dir(given: str | Path | None = None) -> Path:
    """``--local-staging-dir``, else ``THEROCK_LOCAL_STAGING_DIR``, else a per-user cache dir."""
    if given:
        return Path(given)
    env = os.environ.get("THEROCK_LOCAL_STAGING_DIR")
    if env:
        return Path(env)
    return user_cache_dir() / "artifacts"


def endpoint_url(given: str | None = None) -> str | None:
    """``--endpoint-url``, else ``AWS_ENDPOINT_URL``, else None (AWS)."""
    return given or os.environ.get("AWS_ENDPOINT_URL") or None


def host_platform() -> str:
    """``windows`` or ``linux`` (TheRock's platform names; other systems count as linux)."""
    return "windows" if sys.platform == "win32" else "linux"


def is_tty(stream: object) -> bool:
    """True when ``stream`` is an interactive terminal (progress bars), not CI logs."""
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and not os.environ.get("CI")
