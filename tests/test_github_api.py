"""PyGithub against a local HTTP server on 127.0.0.1 serving recorded GitHub API responses."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from action_lib.errors import OperationError
from action_lib.github_api import GitHubClient
from action_lib.jobs.event import EventContext, affected_stages_for_event
from action_lib.topology import Topology, load_topology

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "github"
REPO = Path(__file__).resolve().parent.parent
PULL = json.loads((FIXTURES / "pull_42.json").read_text())
FILES = json.loads((FIXTURES / "pull_42_files.json").read_text())
COMPARE = json.loads((FIXTURES / "compare.json").read_text())

Reply = tuple[int, dict[str, str], Any]


@dataclass
class FakeGitHub:
    """Serves /repos/rockshard/demo/...; a fault replies, once, to the first request whose
    path and query its regular expression matches."""

    url: str = ""
    pull: dict[str, Any] = field(default_factory=lambda: dict(PULL))
    faults: list[tuple[str, Reply]] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    always: Reply | None = None

    def reply(self, raw_path: str) -> Reply:
        split = urlsplit(raw_path)
        self.requests.append(raw_path)
        if self.always is not None:
            return self.always
        for n, (key, fault) in enumerate(self.faults):
            if re.search(key, raw_path):
                del self.faults[n]
                return fault
        query = parse_qs(split.query)
        base = "/repos/rockshard/demo"
        if split.path == f"{base}/pulls/42":
            return 200, {}, self.pull
        if split.path == f"{base}/pulls/42/files":
            per_page = int(query.get("per_page", ["30"])[0])
            page = int(query.get("page", ["1"])[0])
            pages = (len(FILES) + per_page - 1) // per_page
            links = []
            if page < pages:
                links.append(
                    f'<{self.url}{split.path}?per_page={per_page}&page={page + 1}>; rel="next"'
                )
                links.append(
                    f'<{self.url}{split.path}?per_page={per_page}&page={pages}>; rel="last"'
                )
            headers = {"Link": ", ".join(links)} if links else {}
            return 200, headers, FILES[(page - 1) * per_page : page * per_page]
        if split.path.startswith(f"{base}/compare/"):
            return 200, {}, COMPARE
        return 404, {}, {"message": "Not Found"}


def rate_limited(reset_in: float) -> Reply:
    headers = {
        "X-RateLimit-Limit": "60",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": str(int(time.time() + reset_in)),
    }
    return 403, headers, {"message": "API rate limit exceeded for 127.0.0.1."}


BAD_GATEWAY: Reply = (502, {}, {"message": "Server Error"})


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    fake = FakeGitHub()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, headers, body = fake.reply(self.path)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


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
