"""Cache records: which archives a stage key stands for, where they are, what made them. Pure.

A record lives in the store's ``cache/`` folder (beside the run folders) as
``<stage>_<family|generic>_<key>.json``, once under the stage's static key and once under its
content key, beside a ``<stage>_<family|generic>_latest.json`` copy (what a miss is compared
with). One listing of ``cache/`` finds every record. It names the run folder holding the
archives, each archive with its digest, size and a fingerprint of the stored object (its
identity on S3, its sha256 in a local store), the commit, and the key's inputs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from action_lib.artifacts.names import GENERIC
from action_lib.inputs.paths import component_problems, run_folder_problems
from action_lib.inputs.untrusted import escape

CACHE_ROOT = "cache"  # the store folder of the records, beside the run folders
LATEST = "latest"
RECORD_SCHEMA = 1
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_NAME = re.compile(r"^(?P<stage>.+)_(?P<family>[^_]+)_(?P<key>[0-9a-f]{64}|latest)\.json$")


def record_name(stage: str, family: str, key: str) -> str:
    """The file name of a job's record of ``key`` (or ``latest``) in ``cache/``."""
    return f"{stage}_{family or GENERIC}_{key}.json"


def parse_record_name(name: str) -> tuple[str, str, str] | None:
    """(stage, family or "", key or "latest") of a record file name, else None."""
    match = _NAME.match(name)
    if match is None:
        return None
    family = match.group("family")
    return match.group("stage"), "" if family == GENERIC else family, match.group("key")


def is_cache_folder(run: str) -> bool:
    """True for the cache's folder (not a run's)."""
    return run == CACHE_ROOT


@dataclass(frozen=True)
class ArchiveRef:
    """One archive a record names."""

    digest: str
    size: int
    fingerprint: str = ""


@dataclass(frozen=True)
class CacheRecord:
    """A stage job's result, findable under its static key and its content key."""

    stage: str
    family: str
    platform: str
    key: str
    content_key: str
    run: str  # the run folder holding the archives
    commit: str
    created: str  # UTC, ISO 8601
    archives: Mapping[str, ArchiveRef]
    inputs: Mapping[str, str] = field(default_factory=dict)
    inbound: Mapping[str, str] = field(default_factory=dict)
    schema: int = RECORD_SCHEMA

    def __post_init__(self) -> None:
        for name in ("archives", "inputs", "inbound"):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))

    @property
    def label(self) -> str:
        """``stage`` or ``stage[family]``."""
        return f"{self.stage}[{self.family}]" if self.family else self.stage

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict, stable keys."""
        return {
            "schema": self.schema,
            "stage": self.stage,
            "family": self.family,
            "platform": self.platform,
            "key": self.key,
            "content_key": self.content_key,
            "run": self.run,
            "commit": self.commit,
            "created": self.created,
            "archives": {
                name: {"digest": a.digest, "size": a.size, "fingerprint": a.fingerprint}
                for name, a in sorted(self.archives.items())
            },
            "inputs": dict(sorted(self.inputs.items())),
            "inbound": dict(sorted(self.inbound.items())),
        }

    def text(self) -> str:
        """The record as stored."""
        return json.dumps(self.to_json(), indent=2, sort_keys=True) + "\n"


def _str_map(value: object, what: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ValueError(f"'{what}' is not a table of strings")
    return dict(value)


def parse_record(text: str) -> CacheRecord:
    """A record from its stored text; ValueError saying what is wrong when it is not one."""
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    if data.get("schema") != RECORD_SCHEMA:
        raise ValueError(f"schema {data.get('schema')!r}, this rockshard reads {RECORD_SCHEMA}")
    for name in ("stage", "family", "platform", "key", "content_key", "run", "commit", "created"):
        if not isinstance(data.get(name), str):
            raise ValueError(f"'{name}' is missing or not a string")
    for name in ("key", "content_key"):
        if not _HEX64.match(data[name]):
            raise ValueError(f"'{name}' is not a sha256")
    # A record may come from a store others write: its run and archive names become store
    # paths only when they are well-formed.
    bad_run = run_folder_problems(data["run"])
    if bad_run:
        raise ValueError(f"run '{escape(data['run'], 80)}' {bad_run[0]}")
    raw = data.get("archives")
    if not isinstance(raw, dict) or not raw:
        raise ValueError("'archives' is missing or empty")
    archives: dict[str, ArchiveRef] = {}
    for name, ref in raw.items():
        bad_name = component_problems(name)
        if bad_name:
            raise ValueError(f"archive name '{escape(name, 80)}' {bad_name[0]}")
        if not (
            isinstance(ref, dict)
            and isinstance(ref.get("digest"), str)
            and _HEX64.match(ref["digest"])
            and isinstance(ref.get("size"), int)
            and isinstance(ref.get("fingerprint", ""), str)
        ):
            raise ValueError(f"archive '{escape(name, 80)}' is malformed")
        archives[name] = ArchiveRef(ref["digest"], ref["size"], ref.get("fingerprint", ""))
    return CacheRecord(
        stage=data["stage"],
        family=data["family"],
        platform=data["platform"],
        key=data["key"],
        content_key=data["content_key"],
        run=data["run"],
        commit=data["commit"],
        created=data["created"],
        archives=archives,
        inputs=_str_map(data.get("inputs", {}), "inputs"),
        inbound=_str_map(data.get("inbound", {}), "inbound"),
    )
