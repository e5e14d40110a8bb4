"""``rockshard report --repo --run-id`` end to end through PyGithub against a local server that
answers as GitHub's REST API documents (tests/github_server.py): the run, its jobs over
several pages (``per_page``, ``Link``), rate-limit headers, a 502 then success; and the
answers that are the user's problem (exit 2) or GitHub's (exit 1)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from action_lib.cli.main import main
from action_lib.errors import InputError
from action_lib.github_api.client import GitHubClient
from action_lib.github_api.runs import read_run, run_from_environment
from tests.github_server import BAD_GATEWAY, FakeGitHub, rate_limited
from tests.run_fixture import (
    BILLED_MINUTES,
    RUN_ID,
    RUNNER_SECONDS,
    WALL,
    github_jobs,
    github_run,
    run_record,
)

REPO = Path(__file__).resolve().parent.parent
JOBS = f"/repos/rockshard/demo/actions/runs/{RUN_ID}/jobs"


@pytest.fixture
def served(github: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    """The run on the fake server, four jobs a page; retries do not sleep."""
    github.runs[RUN_ID] = (github_run(github.url), github_jobs(github.url))
    github.max_page = 4
    sleeps: list[float] = []
    defaults = GitHubClient.__init__.__kwdefaults__
    assert defaults is not None
    monkeypatch.setitem(defaults, "sleep", sleeps.append)
    monkeypatch.setenv("GITHUB_TOKEN", "token-for-tests")
    monkeypatch.delenv("GH_TOKEN", raising=False)
    monkeypatch.delenv("ACT", raising=False)
    yield github


def argv(fake: FakeGitHub, run_id: int = RUN_ID, *extra: str) -> list[str]:
    return [
        "report",
        "--repo",
        "rockshard/demo",
        "--run-id",
        str(run_id),
        "--api-url",
        fake.url,
        "--topology",
        str(REPO / "BUILD_TOPOLOGY.toml"),
        *extra,
    ]


def job_requests(fake: FakeGitHub) -> list[str]:
    return [r for r in fake.requests if r.startswith(JOBS)]


def test_read_run_over_pages_is_the_run(served: FakeGitHub) -> None:
    client = GitHubClient("t", base_url=served.url, backoff=0.0, seconds_between_requests=None)
    run = read_run(client, "rockshard/demo", RUN_ID)
    expected = run_record()
    assert [j.name for j in run.jobs] == [j.name for j in expected.jobs]
    assert [(j.created, j.started, j.completed) for j in run.jobs] == [
        (j.created, j.started, j.completed) for j in expected.jobs
    ]
    assert [j.steps for j in run.jobs] == [j.steps for j in expected.jobs]  # -08:00 step times
    assert run.platform == "linux" and run.created == expected.created
    assert run.url == f"https://github.com/rockshard/demo/actions/runs/{RUN_ID}"
    pages = job_requests(served)
    assert len(pages) == 3  # ten jobs, four a page, followed through Link headers
    assert "per_page=100" in pages[0] and "filter=latest" in pages[0]
    assert all("filter=latest" in p for p in pages)


def test_report_end_to_end_with_a_502_on_page_two(
    served: FakeGitHub, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    served.faults = [(rf"^{JOBS}\?.*page=2", BAD_GATEWAY)]
    page = tmp_path / "report.html"
    assert main([*argv(served), "--format", "json", "--html", str(page)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert served.faults == []  # the 502 was served, and the whole listing read again
    assert len([r for r in job_requests(served) if "page=2" in r]) == 2
    assert data["wall_seconds"] == WALL
    assert data["runner_seconds"] == RUNNER_SECONDS
    assert data["billed_minutes"] == BILLED_MINUTES
    assert data["critical_path"]["jobs"] == [
        "foundation",
        "compiler-runtime",
        "math-libs gfx94X-dcgpu",
        "ml-libs gfx94X-dcgpu",
    ]
    stage_jobs = [(j["stage"], j["family"]) for j in data["jobs"] if j["stage"]]
    assert len(stage_jobs) == len(set(stage_jobs)) == 8
    assert data["missing"] == [] and data["platform"] == "linux"
    assert page.read_text(encoding="utf-8").count('class="job') == 10


def test_report_markdown_to_the_job_summary(
    served: FakeGitHub,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("GITHUB_REPOSITORY", "rockshard/demo")
    monkeypatch.setenv("GITHUB_RUN_ID", str(RUN_ID))
    monkeypatch.setenv("GITHUB_API_URL", served.url)
    command = [
        "report",
        "--github-run",
        "--summary",
        "--topology",
        str(REPO / "BUILD_TOPOLOGY.toml"),
    ]
    assert main([*command, "--format", "markdown"]) == 0
    written = summary.read_text(encoding="utf-8")
    assert written.startswith("### rockshard run report: rockshard/demo run 7")
    assert "```mermaid\ngantt" in written
    assert capsys.readouterr().out.strip() == written.strip()


def test_rate_limit_is_waited_for(served: FakeGitHub, capsys: pytest.CaptureFixture[str]) -> None:
    served.faults = [(rf"^/repos/rockshard/demo/actions/runs/{RUN_ID}$", rate_limited(0))]
    assert main([*argv(served), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["wall_seconds"] == WALL


@pytest.mark.parametrize(
    ("status", "message", "expected"),
    [
        (404, "Not Found", "run 7 of rockshard/demo not found, or the token may not read it"),
        (403, "Resource not accessible by integration", "may not read the Actions runs"),
        (401, "Bad credentials", "the token was refused"),
    ],
    ids=["unknown-run", "no-access", "bad-token"],
)
def test_refusals_are_input_errors(
    served: FakeGitHub,
    capsys: pytest.CaptureFixture[str],
    status: int,
    message: str,
    expected: str,
) -> None:
    served.always = (status, {}, {"message": message})
    assert main(argv(served)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and expected in err[0] and f"HTTP {status}" in err[0], err
    assert len(served.requests) == 1  # not retried


def test_unknown_run_id(served: FakeGitHub, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv(served, 99)) == 2
    err = capsys.readouterr().err
    assert "run 99 of rockshard/demo not found" in err and "Traceback" not in err


def test_api_failing_after_retries(served: FakeGitHub, capsys: pytest.CaptureFixture[str]) -> None:
    served.always = BAD_GATEWAY
    assert main(argv(served)) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "reading run 7 of rockshard/demo failed after 5 attempts: HTTP 502" in err[0]
    assert len(served.requests) == 5


def test_bad_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(InputError, match="write OWNER/NAME"):
        read_run(GitHubClient(None), "no-slash", 1)
    with pytest.raises(InputError, match="GITHUB_RUN_ID are not set"):
        run_from_environment({"GITHUB_REPOSITORY": "a/b"})
    assert run_from_environment({"GITHUB_REPOSITORY": "a/b", "GITHUB_RUN_ID": "5"})[:3] == (
        "a/b",
        5,
        "https://api.github.com",
    )
