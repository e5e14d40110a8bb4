"""A local HTTP server on 127.0.0.1 answering as GitHub's REST API documents: pull request
files, comparisons, workflow runs and their jobs; pagination by ``per_page`` and ``Link``
headers, rate-limit headers on every answer, and faults injected once or always."""

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

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "github"
PULL = json.loads((FIXTURES / "pull_42.json").read_text())
FILES = json.loads((FIXTURES / "pull_42_files.json").read_text())
COMPARE = json.loads((FIXTURES / "compare.json").read_text())
BASE = "/repos/rockshard/demo"

Reply = tuple[int, dict[str, str], Any]


@dataclass
class FakeGitHub:
    """Serves /repos/rockshard/demo/...; a fault replies, once, to the first request whose
    path and query its regular expression matches. ``runs`` maps a run id to the run's JSON
    and its jobs; ``max_page`` caps a page below the ``per_page`` asked for; ``files`` and
    ``compare`` are what pull request 42 lists and what a comparison answers."""

    url: str = ""
    pull: dict[str, Any] = field(default_factory=lambda: dict(PULL))
    files: list[Any] = field(default_factory=lambda: list(FILES))
    compare: dict[str, Any] = field(default_factory=lambda: dict(COMPARE))
    runs: dict[int, tuple[dict[str, Any], list[dict[str, Any]]]] = field(default_factory=dict)
    faults: list[tuple[str, Reply]] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    always: Reply | None = None
    max_page: int = 100

    def _page(
        self, path: str, query: dict[str, list[str]], items: list[Any]
    ) -> tuple[dict[str, str], list[Any]]:
        per_page = min(int(query.get("per_page", ["30"])[0]), self.max_page)
        page = int(query.get("page", ["1"])[0])
        pages = max(1, (len(items) + per_page - 1) // per_page)
        extra = "".join(
            f"&{k}={v[0]}" for k, v in sorted(query.items()) if k not in ("page", "per_page")
        )
        links = []
        if page < pages:
            links.append(
                f'<{self.url}{path}?per_page={per_page}&page={page + 1}{extra}>; rel="next"'
            )
            links.append(f'<{self.url}{path}?per_page={per_page}&page={pages}{extra}>; rel="last"')
        headers = {"Link": ", ".join(links)} if links else {}
        return headers, items[(page - 1) * per_page : page * per_page]

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
        if split.path == f"{BASE}/pulls/42":
            return 200, {}, self.pull
        if split.path == f"{BASE}/pulls/42/files":
            headers, items = self._page(split.path, query, self.files)
            return 200, headers, items
        if split.path.startswith(f"{BASE}/compare/"):
            return 200, {}, self.compare
        found = re.fullmatch(rf"{BASE}/actions/runs/(\d+)(/jobs)?", split.path)
        if found and int(found.group(1)) in self.runs:
            run, jobs = self.runs[int(found.group(1))]
            if not found.group(2):
                return 200, {}, run
            headers, items = self._page(split.path, query, jobs)
            return 200, headers, {"total_count": len(jobs), "jobs": items}
        return (
            404,
            {},
            {
                "message": "Not Found",
                "documentation_url": "https://docs.github.com/rest",
                "status": "404",
            },
        )

    def rate_headers(self) -> dict[str, str]:
        """GitHub's rate-limit headers, counting the requests served."""
        used = len(self.requests)
        return {
            "X-RateLimit-Limit": "5000",
            "X-RateLimit-Remaining": str(5000 - used),
            "X-RateLimit-Reset": str(int(time.time()) + 3600),
            "X-RateLimit-Used": str(used),
            "X-RateLimit-Resource": "core",
        }


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
            for key, value in {**fake.rate_headers(), **headers}.items():
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
