"""PyGithub against a local HTTP server on 127.0.0.1 serving recorded GitHub API responses
(tests/github_server.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from action_lib.errors import OperationError
from action_lib.github_api import GitHubClient
from action_lib.jobs.event import EventContext, affected_stages_for_event
from action_lib.topology import Topology, load_topology
from tests.github_server import BAD_GATEWAY, FILES, PULL, FakeGitHub, rate_limited

REPO = Path(__file__).resolve().parent.parent


def client(fake: FakeGitHub, retries: int = 3) -> GitHubClient:
    return GitHubClient(
        "token",
        base_url=fake.url,
        retries=retries,
        backoff=0.01,
        max_wait=5.0,
        seconds_between_requests=None,
    )


def file_requests(fake: FakeGitHub) -> list[str]:
    return [r for r in fake.requests if "/files" in r]


def test_pull_request_files_over_pages(github: FakeGitHub) -> None:
    listed = client(github).pull_request_files("rockshard/demo", 42)
    assert listed.complete and listed.origin == "pull request #42 of rockshard/demo"
    paths = [c.path for c in listed.changes]
    assert len(FILES) == 230 and len(paths) == 231  # a rename also changes its old path
    assert paths[:2] == ["src/math-libs/blas/kernels/k000.c", "src/math-libs/blas/kernels/k001.c"]
    assert "src/tools/kinfo/main.c" in paths and "src/tools/kinfo/kinfo_main.c" in paths
    assert len(file_requests(github)) == 3  # three pages of 100, followed by Link headers


def test_rate_limit_and_server_error_are_retried(github: FakeGitHub) -> None:
    github.faults = [(r"/files\?page=2&", BAD_GATEWAY), (r"/pulls/42$", rate_limited(0))]
    listed = client(github).pull_request_files("rockshard/demo", 42)
    assert listed.complete and len({c.path for c in listed.changes}) == 231
    assert github.faults == []  # both were served, and both retried
    # cut at page 2 by the 502, then the pull request rate limited, then whole
    assert len([r for r in github.requests if "page=2" in r]) == 3


def test_persistent_server_error_is_reported(github: FakeGitHub) -> None:
    github.always = BAD_GATEWAY
    with pytest.raises(OperationError, match=r"failed after 3 attempts: HTTP 502: Server Error"):
        client(github, retries=2).pull_request_files("rockshard/demo", 42)
    assert len(github.requests) == 3


def test_distant_rate_limit_reset_is_not_awaited(github: FakeGitHub) -> None:
    github.always = rate_limited(3600)
    with pytest.raises(OperationError, match=r"HTTP 403: API rate limit exceeded.*resets in"):
        client(github).pull_request_files("rockshard/demo", 42)
    assert len(github.requests) == 1


def test_not_found_is_not_retried(github: FakeGitHub) -> None:
    with pytest.raises(OperationError, match="HTTP 404"):
        client(github).pull_request_files("rockshard/other", 42)
    assert len(github.requests) == 1


def test_compare_with_submodule_moves(github: FakeGitHub) -> None:
    listed = client(github).compare_files("rockshard/demo", "a" * 40, "b" * 40)
    assert listed.complete
    by_path = {c.path: c for c in listed.changes}
    llvm = by_path["compiler/amd-llvm"]
    assert llvm.submodule and len(llvm.old) == 40 and len(llvm.new) == 40 and llvm.old != llvm.new
    new_sub = by_path["vendor/new-sub"]
    assert new_sub.submodule and new_sub.old == "" and new_sub.status == "A"
    assert not by_path["src/tools/smi/smi.c"].submodule
    assert any("/compare/" + "a" * 40 + "..." + "b" * 40 in r for r in github.requests)


@pytest.fixture
def topology() -> Topology:
    return load_topology(REPO / "BUILD_TOPOLOGY.toml")


def event_env(
    tmp_path: Path, fake: FakeGitHub, name: str, payload: dict[str, Any]
) -> dict[str, str]:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(payload))
    return {
        "GITHUB_EVENT_NAME": name,
        "GITHUB_EVENT_PATH": str(path),
        "GITHUB_REPOSITORY": "rockshard/demo",
        "GITHUB_TOKEN": "token",
        "GITHUB_API_URL": fake.url,
    }


def factory(ctx: EventContext) -> GitHubClient:
    return GitHubClient(
        ctx.token, base_url=ctx.api_url, retries=2, backoff=0.01, seconds_between_requests=None
    )


def test_event_pull_request(github: FakeGitHub, topology: Topology, tmp_path: Path) -> None:
    env = event_env(tmp_path, github, "pull_request", {"number": 42, "pull_request": PULL})
    report = affected_stages_for_event(topology, env=env, repo=tmp_path, client_factory=factory)
    assert report.origin == "pull request #42 of rockshard/demo"
    assert report.affected == ("math-libs", "ml-libs", "tools")
    assert {p.rule for p in report.paths} == {"source-set", "affects-none"}
    assert len(report.paths) == 231


def test_event_falls_back_to_every_stage(
    github: FakeGitHub, topology: Topology, tmp_path: Path
) -> None:
    github.always = BAD_GATEWAY
    env = event_env(tmp_path, github, "pull_request", {"number": 42, "pull_request": PULL})
    report = affected_stages_for_event(topology, env=env, repo=tmp_path, client_factory=factory)
    assert report.everything and report.affected == report.stages
    assert "the changed files could not be listed" in report.fallback
    assert "HTTP 502" in report.fallback


def test_event_truncated_listing_falls_back(
    github: FakeGitHub, topology: Topology, tmp_path: Path
) -> None:
    github.pull["changed_files"] = 3100
    env = event_env(tmp_path, github, "pull_request", {"number": 42, "pull_request": PULL})
    report = affected_stages_for_event(topology, env=env, repo=tmp_path, client_factory=factory)
    assert report.everything and "GitHub listed 230 of the 3100 changed files" in report.fallback


def test_event_push_compares(github: FakeGitHub, topology: Topology, tmp_path: Path) -> None:
    env = event_env(tmp_path, github, "push", {"before": "a" * 40, "after": "b" * 40})
    report = affected_stages_for_event(topology, env=env, repo=tmp_path, client_factory=factory)
    # compiler/amd-llvm and vendor/new-sub are submodules this repository's topology does
    # not know: unmapped, so every stage, saying which paths caused it
    assert report.everything
    assert "compiler/amd-llvm" in report.fallback and "vendor/new-sub" in report.fallback
