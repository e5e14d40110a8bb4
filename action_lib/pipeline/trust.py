"""Which workflow events rockshard trusts. Pure: the event's name, payload, ref and actor in.

A trusted run was started by someone with write access to the repository, on code that is in
the repository: a push, a schedule, a manual dispatch, a merge queue. A pull request is
untrusted, and so is any run started by Dependabot (it gets no secrets) or building a fork's
code. Untrusted runs must never write where trusted runs read: their artifacts go to their own
store or prefix (:mod:`action_lib.settings`), and they write no shared cache records.

Two levels matter:

- ``trusted``: may push artifacts to the trusted store;
- ``publishes``: a trusted run on the repository's default branch (or a schedule or dispatch,
  which run on it): may also write records that other runs reuse (the stage cache).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

TRUSTED_EVENTS = ("push", "schedule", "workflow_dispatch", "merge_group", "repository_dispatch")
PULL_REQUEST_EVENTS = ("pull_request", "pull_request_target")
BOT_ACTORS = ("dependabot[bot]",)


@dataclass(frozen=True)
class EventTrust:
    """How far rockshard trusts one workflow run, and why."""

    event: str
    trusted: bool
    publishes: bool
    fork: bool
    reason: str


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def is_fork_pull_request(payload: Mapping[str, Any]) -> bool:
    """True when a pull request's head is in another repository than its base (or is gone)."""
    pull = _mapping(payload.get("pull_request"))
    head_repo = _mapping(_mapping(pull.get("head")).get("repo"))
    base_repo = _mapping(_mapping(pull.get("base")).get("repo"))
    head = _text(head_repo.get("full_name"))
    base = _text(base_repo.get("full_name"))
    if bool(head_repo.get("fork")):
        return True
    return not head or (bool(base) and head != base)


def event_trust(
    event: str, payload: Mapping[str, Any], *, ref: str = "", actor: str = ""
) -> EventTrust:
    """Classify a workflow run by its event name, event payload, ``GITHUB_REF`` and actor."""
    if actor in BOT_ACTORS:
        return EventTrust(event, False, False, False, f"the run was started by {actor}")
    if event in PULL_REQUEST_EVENTS:
        fork = is_fork_pull_request(payload)
        where = "a fork's pull request" if fork else "a pull request"
        return EventTrust(event, False, False, fork, f"{where} builds code not yet reviewed")
    if event not in TRUSTED_EVENTS:
        return EventTrust(
            event, False, False, False, f"a {event or 'unknown'} event is not trusted"
        )
    default = _text(_mapping(payload.get("repository")).get("default_branch"))
    if event == "push":
        on_default = bool(default) and ref == f"refs/heads/{default}"
        why = (
            f"a push to the default branch {default}"
            if on_default
            else f"a push to {ref or 'a ref'}, not the default branch"
        )
        return EventTrust(event, True, on_default, False, why)
    if event == "merge_group":
        return EventTrust(event, True, False, False, "a merge queue run, not yet on the branch")
    return EventTrust(event, True, True, False, f"a {event} run on the default branch")
