"""The settings of a pipeline's setup job: the stores per trust level, the runner, the build's
timestamp.

| setting | flag | environment | settings file | default |
| --- | --- | --- | --- | --- |
| trusted runs' store | ``--store`` | ``ROCKSHARD_STORE`` | ``[store] trusted`` | "" |
| untrusted runs' store | ``--untrusted-store`` | ``ROCKSHARD_STORE_UNTRUSTED`` | ``[store] untrusted`` | "" |
| OIDC role, trusted | ``--store-role`` | ``ROCKSHARD_STORE_ROLE`` | ``[store] trusted-role`` | "" |
| OIDC role, untrusted | ``--untrusted-store-role`` | ``ROCKSHARD_STORE_UNTRUSTED_ROLE`` | ``[store] untrusted-role`` | "" |
| AWS region (OIDC step) | ``--store-region`` | ``AWS_REGION``, ``AWS_DEFAULT_REGION`` | ``[store] region`` | "" |
| S3 endpoint | ``--endpoint-url`` | ``AWS_ENDPOINT_URL`` | ``[store] endpoint-url`` | AWS |
| runner | | ``ROCKSHARD_RUNNER`` (github, act, local) | | from ``GITHUB_ACTIONS``, ``ACT`` |
| build timestamp | | ``SOURCE_DATE_EPOCH`` | | the commit's time |

The composite action passes its inputs as flags (the workflow gives them from the dispatch
input or repository variables), so a repository variable overrides the committed settings file;
pull requests from forks get no variables and so use the file.
"""

from __future__ import annotations

from dataclasses import dataclass

from action_lib.errors import InputError
from action_lib.pipeline.run_store import RUNNERS, StoreChoice, StoreTable
from action_lib.settings.layers import Layers, Setting, Source

FILE_KEY = "store.{}"
EPOCH_DEFAULT = 315532800  # 1980-01-01, the earliest time ZIP and many tools accept


def _runner(text: str) -> str:
    if text not in RUNNERS:
        raise InputError(f"unknown runner '{text}' ({', '.join(RUNNERS)})")
    return text


@dataclass(frozen=True)
class SetupSettings:
    """A setup job's store and runner settings, each with its origin."""

    trusted: Setting[str]
    untrusted: Setting[str]
    trusted_role: Setting[str]
    untrusted_role: Setting[str]
    region: Setting[str]
    endpoint_url: Setting[str]
    runner: Setting[str]

    def choice(self) -> StoreChoice:
        """The configured stores, for :func:`~action_lib.pipeline.run_store.choose_run_store`."""
        return StoreChoice(
            trusted=self.trusted.value,
            untrusted=self.untrusted.value,
            trusted_role=self.trusted_role.value,
            untrusted_role=self.untrusted_role.value,
            region=self.region.value,
            endpoint_url=self.endpoint_url.value,
            trusted_origin=_origin(self.trusted),
            untrusted_origin=_origin(self.untrusted),
        )

    @property
    def on_github(self) -> bool:
        """True on GitHub's (or a self-hosted) runner, not under act nor at a terminal."""
        return self.runner.value == "github"


def _origin(setting: Setting[str]) -> str:
    return f"{setting.source.value} {setting.origin}".strip()


def with_store_table(layers: Layers, table: StoreTable, path: str) -> Layers:
    """``layers`` with the ``[store]`` table of the settings file at ``path`` as its file layer."""
    entries = {
        FILE_KEY.format(key): (value, f"{path}:{line}" if line else path)
        for key, (value, line) in table.entries.items()
    }
    return Layers(layers.flags, layers.inputs, layers.environ, {**layers.file, **entries})


def runner(layers: Layers) -> Setting[str]:
    """``ROCKSHARD_RUNNER``, else ``act`` under act, ``github`` in GitHub Actions, ``local``."""
    given = layers.resolve("", env=("ROCKSHARD_RUNNER",), parse=_runner)
    if given.value:
        return given
    env = layers.environ
    if env.get("GITHUB_ACTIONS") == "true":
        if env.get("ACT"):
            return Setting("act", Source.ENV, "ACT")
        return Setting("github", Source.ENV, "GITHUB_ACTIONS")
    return Setting("local", Source.DEFAULT)


def setup_settings(layers: Layers) -> SetupSettings:
    """Resolve a setup job's settings (the file layer: :func:`with_store_table`)."""

    def one(flag: str, env: tuple[str, ...], key: str) -> Setting[str]:
        return layers.resolve("", flag=flag, env=env, file=FILE_KEY.format(key))

    return SetupSettings(
        trusted=one("store", ("ROCKSHARD_STORE",), "trusted"),
        untrusted=one("untrusted_store", ("ROCKSHARD_STORE_UNTRUSTED",), "untrusted"),
        trusted_role=one("store_role", ("ROCKSHARD_STORE_ROLE",), "trusted-role"),
        untrusted_role=one(
            "untrusted_store_role", ("ROCKSHARD_STORE_UNTRUSTED_ROLE",), "untrusted-role"
        ),
        region=one("store_region", ("AWS_REGION", "AWS_DEFAULT_REGION"), "region"),
        endpoint_url=one("endpoint_url", ("AWS_ENDPOINT_URL",), "endpoint-url"),
        runner=runner(layers),
    )


def source_date_epoch(layers: Layers, commit_time: int | None) -> Setting[int]:
    """``SOURCE_DATE_EPOCH`` when set, else the commit's time, else 1980-01-01."""

    def parse(text: str) -> int:
        value = int(text)
        if value < 0:
            raise ValueError("must be a non-negative number of seconds")
        return value

    given = layers.resolve(-1, env=("SOURCE_DATE_EPOCH",), parse=parse)
    if given.value >= 0:
        return given
    if commit_time is not None:
        return Setting(commit_time, Source.DEFAULT, "the commit's time")
    return Setting(EPOCH_DEFAULT, Source.DEFAULT)
