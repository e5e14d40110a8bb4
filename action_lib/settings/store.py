"""Where a command's artifacts live: the store, the run folder, the platform.

Resolved once per command from :class:`~action_lib.settings.layers.Layers`:

| setting | flag | action input | environment | default |
| --- | --- | --- | --- | --- |
| store URL | ``--store`` | ``store`` | | "" (the local store) |
| run id | ``--run-id`` | ``run_id`` | ``THEROCK_RUN_ID``, ``GITHUB_RUN_ID`` | ``local`` |
| platform | ``--platform`` | ``platform`` | | this host's |
| local store | ``--local-staging-dir`` | | ``THEROCK_LOCAL_STAGING_DIR`` | a per-user cache dir |
| S3 endpoint | ``--endpoint-url`` | | ``AWS_ENDPOINT_URL`` | AWS |
| S3 retry budget | | | ``ROCKSHARD_S3_RETRY_SECONDS`` | the store's (300 s) |
| jobs | ``--jobs`` | ``jobs`` | | CPU count, 1 to 8 |
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from action_lib.errors import InputError
from action_lib.inputs.paths import run_folder_problems, url_problems
from action_lib.inputs.suggest import unknown
from action_lib.inputs.untrusted import UNSAFE_CHARS, escape
from action_lib.settings import environment
from action_lib.settings.layers import Layers, Setting

LOCAL_RUN_ID = "local"
PLATFORM_NAMES = ("linux", "windows")
DEFAULT_JOBS = max(1, min(8, os.cpu_count() or 1))


def _platform(text: str) -> str:
    if text not in PLATFORM_NAMES:
        raise InputError(str(unknown("platform", text, PLATFORM_NAMES, listing="platforms")))
    return text


_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_UNSAFE = re.compile(f"[{UNSAFE_CHARS}]")


def _refuse(what: str, setting: Setting[str], problem: str) -> InputError:
    where = f" (from {setting.source.value} {setting.origin})".replace(" )", ")")
    return InputError(f"{what} '{escape(setting.value, 120)}'{where} {problem}")


def check_store_settings(settings: StoreSettings) -> None:
    """Refuse a store URL, endpoint, run id or repository that is not well-formed: they come
    from workflow inputs and variables, and become keys, paths and URLs."""
    url = settings.url
    if url.value.startswith("s3://"):
        problems = url_problems(url.value, ("s3",))
        bucket, _, prefix = url.value[len("s3://") :].partition("/")
        if not _BUCKET.match(bucket):
            problems.append("has no valid bucket name (3 to 63 of a-z, 0-9, '.', '-')")
        if any(part in (".", "..") for part in prefix.split("/")):
            problems.append("has a '.' or '..' segment")
        if problems:
            raise _refuse("store URL", url, problems[0])
    elif _UNSAFE.search(url.value):  # another scheme: open_store names the ones it knows
        raise _refuse("store directory", url, "holds a control character")
    endpoint = settings.endpoint_url
    if endpoint.value:
        problems = url_problems(endpoint.value, ("https", "http"))
        if problems:
            raise _refuse("S3 endpoint", endpoint, problems[0])
    run = settings.run_id
    problems = run_folder_problems(run.value)
    if problems or "/" in run.value:
        raise _refuse("run id", run, problems[0] if problems else "holds '/'")
    repo = settings.external_repo
    if repo.value and (not _REPOSITORY.match(repo.value) or ".." in repo.value.split("/")):
        raise _refuse("--external-repo", repo, "is not OWNER/REPO")


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError("must be at least 1")
    return value


@dataclass(frozen=True)
class StoreSettings:
    """Where one command's artifacts go, each value with its origin."""

    url: Setting[str]
    run_id: Setting[str]
    platform: Setting[str]
    local_staging_dir: Setting[Path]
    endpoint_url: Setting[str]
    retry_seconds: Setting[float | None]
    external_repo: Setting[str]
    jobs: Setting[int]

    @property
    def run_folder(self) -> str:
        """``<run id>-<platform>``, under ``<owner>-<repo>/`` for another repository's runs."""
        folder = f"{self.run_id.value}-{self.platform.value}"
        repo = self.external_repo.value
        if repo:
            owner, _, name = repo.partition("/")
            if not owner or not name or "/" in name:
                raise InputError(f"--external-repo '{repo}' is not OWNER/REPO")
            folder = f"{owner}-{name}/{folder}"
        return folder


def store_settings(layers: Layers, *, jobs_default: int = DEFAULT_JOBS) -> StoreSettings:
    """Resolve the store settings of one command."""
    env: Mapping[str, str] = layers.environ
    platform = layers.resolve(
        environment.host_platform(), flag="platform", input="platform", parse=_platform
    )
    _platform(platform.value)
    settings = StoreSettings(
        url=layers.resolve("", flag="store", input="store"),
        run_id=layers.resolve(
            LOCAL_RUN_ID, flag="run_id", input="run_id", env=("THEROCK_RUN_ID", "GITHUB_RUN_ID")
        ),
        platform=platform,
        local_staging_dir=layers.resolve(
            environment.user_cache_dir(env) / "artifacts",
            flag="local_staging_dir",
            env=("THEROCK_LOCAL_STAGING_DIR",),
            parse=Path,
        ),
        endpoint_url=layers.resolve("", flag="endpoint_url", env=("AWS_ENDPOINT_URL",)),
        retry_seconds=layers.resolve(None, env=("ROCKSHARD_S3_RETRY_SECONDS",), parse=float),
        external_repo=layers.resolve("", flag="external_repo"),
        jobs=layers.resolve(jobs_default, flag="jobs", input="jobs", parse=_positive_int),
    )
    check_store_settings(settings)
    return settings
