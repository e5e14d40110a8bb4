"""Which events rockshard trusts to write artifacts and cache records."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from action_lib.jobs.event import event_context
from action_lib.pipeline.trust import event_trust, is_fork_pull_request

REPO = {"full_name": "acme/rock", "default_branch": "main"}


def pull(head: str, *, fork: bool = False) -> dict[str, Any]:
    return {
        "pull_request": {
            "head": {"repo": {"full_name": head, "fork": fork} if head else None},
            "base": {"repo": {"full_name": "acme/rock"}},
        },
        "repository": REPO,
    }


CASES = [
    ("push", {"repository": REPO}, "refs/heads/main", "alice", (True, True, False)),
    ("push", {"repository": REPO}, "refs/heads/topic", "alice", (True, False, False)),
    ("schedule", {"repository": REPO}, "refs/heads/main", "", (True, True, False)),
    ("workflow_dispatch", {"repository": REPO}, "refs/heads/main", "bob", (True, True, False)),
    (
        "merge_group",
        {"repository": REPO},
        "refs/heads/gh-readonly-queue/main/x",
        "",
        (True, False, False),
    ),
    ("pull_request", pull("acme/rock"), "refs/pull/1/merge", "alice", (False, False, False)),
    (
        "pull_request",
        pull("mallory/rock", fork=True),
        "refs/pull/2/merge",
        "mallory",
        (False, False, True),
    ),
    ("pull_request_target", pull(""), "refs/heads/main", "mallory", (False, False, True)),
    ("push", {"repository": REPO}, "refs/heads/main", "dependabot[bot]", (False, False, False)),
    ("issue_comment", {"repository": REPO}, "refs/heads/main", "alice", (False, False, False)),
]


@pytest.mark.parametrize(
    ("event", "payload", "ref", "actor", "expected"),
    CASES,
    ids=[
        "push-default",
        "push-topic",
        "schedule",
        "dispatch",
        "merge-queue",
        "pr-same-repo",
        "pr-fork",
        "pr-target-deleted-fork",
        "dependabot",
        "other-event",
    ],
)
def test_event_trust(
    event: str,
    payload: dict[str, Any],
    ref: str,
    actor: str,
    expected: tuple[bool, bool, bool],
) -> None:
    trust = event_trust(event, payload, ref=ref, actor=actor)
    assert (trust.trusted, trust.publishes, trust.fork) == expected
    assert trust.reason
    assert not trust.publishes or trust.trusted


@pytest.mark.parametrize(
    "payload",
    [{}, {"pull_request": None}, {"pull_request": {"head": "x"}}, {"pull_request": []}],
    ids=["empty", "null", "head-not-a-table", "list"],
)
def test_malformed_payloads_are_forks_not_crashes(payload: dict[str, Any]) -> None:
    assert is_fork_pull_request(payload)
    assert not event_trust("pull_request", payload).trusted


def test_event_context_reads_ref_and_actor(tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"repository": REPO}), encoding="utf-8")
    ctx = event_context(
        {
            "GITHUB_EVENT_NAME": "push",
            "GITHUB_EVENT_PATH": str(event),
            "GITHUB_REF": "refs/heads/main",
            "GITHUB_ACTOR": "alice",
        }
    )
    assert ctx.trust().publishes
