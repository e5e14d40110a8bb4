"""Which artifact store a workflow run uses, by how far the run is trusted. Pure.

A pipeline's jobs exchange nothing but artifacts, so on GitHub, where every job runs on a fresh
machine, they need one *shared* store: each job's own disk would lose wave 0's artifacts before
wave 1 starts. Trusted runs (pushes, schedules, dispatches, merge queues) and untrusted ones
(pull requests, forks, Dependabot) get different stores, after TheRock's external-bucket
convention: an untrusted run writes to the untrusted store under an ``<owner>-<repo>/`` prefix,
so it never writes where trusted runs read.

The ``[store]`` table of ``rockshard-pipeline.toml``::

    [store]
    trusted = "s3://acme-ci-artifacts/rockshard"            # pushes, schedules, dispatches
    untrusted = "s3://acme-ci-artifacts-external/rockshard" # pull requests, forks, Dependabot
    trusted-role = "arn:aws:iam::123456789012:role/acme-ci"             # OIDC (optional)
    untrusted-role = "arn:aws:iam::123456789012:role/acme-ci-external"  # OIDC (optional)
    region = "us-east-2"          # for the OIDC step
    endpoint-url = ""             # an S3-compatible server (MinIO) instead of AWS
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from action_lib.errors import InputError
from action_lib.inputs.paths import url_problems
from action_lib.inputs.toml import TomlReader
from action_lib.inputs.untrusted import UNSAFE_CHARS
from action_lib.pipeline.trust import EventTrust

STORE_KEYS = ("trusted", "untrusted", "trusted-role", "untrusted-role", "region", "endpoint-url")
RUNNERS = ("github", "act", "local")


@dataclass(frozen=True)
class StoreTable:
    """The ``[store]`` table: key -> (value, line)."""

    entries: Mapping[str, tuple[str, int]]

    def get(self, key: str) -> str:
        """A key's value, "" when absent."""
        return self.entries.get(key, ("", 0))[0]


def parse_store_table(reader: TomlReader, data: object) -> StoreTable:
    """The ``[store]`` table; each problem becomes a located finding of ``reader``."""
    table = reader.table(data, "store")
    reader.unknown_keys(table, STORE_KEYS, "store")
    entries: dict[str, tuple[str, int]] = {}
    for key, value in table.items():
        if key not in STORE_KEYS:
            continue
        if not isinstance(value, str):
            reader.add("type", f"'{key}' in [store] must be a string", "store", key)
        elif key in ("trusted", "untrusted") and value.startswith("s3://") and not _bucket(value):
            reader.add("value", f"'{key}' in [store]: '{value}' names no bucket", "store", key)
        elif _value_problems(key, value):
            # The settings file comes with the change: its URLs become keys, paths and outputs.
            for problem in _value_problems(key, value):
                reader.add("value", f"'{key}' in [store]: '{value}' {problem}", "store", key)
        else:
            entries[key] = (value.strip(), reader.line("store", key))
    return StoreTable(entries)


_UNSAFE = re.compile(f"[{UNSAFE_CHARS}]")
_REGION = re.compile(r"^[a-z0-9-]{0,32}$")
_ROLE = re.compile(r"^(arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+)?$")


def _value_problems(key: str, value: str) -> list[str]:
    """What is wrong with a well-typed ``[store]`` value ([] when nothing)."""
    text = value.strip()
    if key in ("trusted", "untrusted") and text.startswith("s3://"):
        problems = url_problems(text, ("s3",))
        return problems + (["has a '.' or '..' segment"] if _dots(text) else [])
    if key in ("trusted", "untrusted") and _UNSAFE.search(text):
        return ["holds a control or invisible character"]  # another scheme: open_store names it
    if key == "endpoint-url" and text:
        return url_problems(text, ("https", "http"))
    if key == "region" and not _REGION.match(text):
        return ["is not an AWS region (like us-east-1)"]
    if key.endswith("-role") and not _ROLE.match(text):
        return ["is not an IAM role ARN (arn:aws:iam::123456789012:role/NAME)"]
    return []


def _dots(url: str) -> bool:
    return any(part in (".", "..") for part in url[len("s3://") :].split("/"))


def _bucket(url: str) -> str:
    return url[len("s3://") :].partition("/")[0]


def _normal(url: str) -> str:
    return url.rstrip("/")


def external_prefix(repository: str) -> str:
    """``owner-repo``: the folder an untrusted run of ``owner/repo`` writes under."""
    owner, _, name = repository.partition("/")
    if not owner or not name or "/" in name:
        raise InputError(f"GITHUB_REPOSITORY '{repository}' is not OWNER/REPO")
    return f"{owner}-{name}"


@dataclass(frozen=True)
class StoreChoice:
    """The configured stores and roles, each with where it came from (for messages)."""

    trusted: str = ""
    untrusted: str = ""
    trusted_role: str = ""
    untrusted_role: str = ""
    region: str = ""
    endpoint_url: str = ""
    trusted_origin: str = ""
    untrusted_origin: str = ""


@dataclass(frozen=True)
class RunStore:
    """Where one workflow run's artifacts go.

    ``url`` is the store this run's jobs read and write ("" = each job's local store, never on
    GitHub); ``external_repo`` (OWNER/REPO) puts the run folder under ``owner-repo/`` (untrusted
    runs); ``trusted_url`` is where trusted runs write (an untrusted run may only read it);
    ``role`` is the IAM role the store steps assume with OIDC ("" = none).
    """

    url: str
    external_repo: str
    trusted_url: str
    role: str
    region: str
    endpoint_url: str
    trust: EventTrust

    def folder(self, run_folder: str) -> str:
        """The run folder under the store, with the untrusted prefix."""
        if not self.external_repo:
            return run_folder
        return f"{external_prefix(self.external_repo)}/{run_folder}"

    def location(self, run_folder: str) -> str:
        """The run's folder as one string, for people (``<store>/<prefix>/<run folder>``)."""
        base = _normal(self.url) if self.url else "(the local store)"
        return f"{base}/{self.folder(run_folder)}"


def missing_store_message(trust: EventTrust, runner: str) -> str:
    """The one line saying what to configure when a run on GitHub has no shared store."""
    kind = "trusted" if trust.trusted else "untrusted"
    variable = "ROCKSHARD_STORE" if trust.trusted else "ROCKSHARD_STORE_UNTRUSTED"
    fork_note = (
        ""
        if trust.trusted
        else " (repository variables are not passed to pull requests from forks)"
    )
    return (
        f"no shared artifact store for this {trust.event or 'workflow'} run ({kind}: "
        f"{trust.reason}): on {runner} every job runs on its own machine, so set [store] {kind} "
        f'= "s3://BUCKET/PREFIX" in rockshard-pipeline.toml{fork_note} or the {variable} '
        "repository variable; see docs/github.md"
    )


def choose_run_store(
    trust: EventTrust, choice: StoreChoice, *, repository: str, shared_required: bool
) -> RunStore:
    """The store of a run of ``repository`` (OWNER/REPO) trusted as ``trust`` says.

    Trusted runs use the trusted store; untrusted runs use the untrusted store under an
    ``owner-repo/`` prefix. With ``shared_required`` (on GitHub, not under act) a missing store
    is an InputError with one line saying what to configure. Untrusted runs never write where
    trusted runs read: the two stores must differ.
    """
    trusted, untrusted = _normal(choice.trusted), _normal(choice.untrusted)
    if trusted and untrusted and trusted == untrusted:
        raise InputError(
            f"the untrusted store ({choice.untrusted_origin or 'untrusted'}) is the trusted store "
            f"({choice.trusted_origin or 'trusted'}) {trusted}: untrusted runs must never write "
            "where trusted runs read; give pull requests a store of their own"
        )
    url = trusted if trust.trusted else untrusted
    if not url and shared_required:
        raise InputError(missing_store_message(trust, "GitHub"))
    external = ""
    if not trust.trusted and url:
        external_prefix(repository)  # checks OWNER/REPO
        external = repository
    return RunStore(
        url=url,
        external_repo=external,
        trusted_url=trusted,
        role=choice.trusted_role if trust.trusted else choice.untrusted_role,
        region=choice.region,
        endpoint_url=choice.endpoint_url,
        trust=trust,
    )
