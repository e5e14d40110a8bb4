"""The hostile-input suite (issue 16), GitHub's API and what rockshard shows of it: impact from
the changed files of a pull request (hostile names, malformed entries, 3,001 files), run
reports from workflow jobs, job summaries, annotations and error lines. Asserted: no
traceback, a clear fallback, no line a runner would run as a workflow command.
"""

from __future__ import annotations

import io
import json
import os
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import strategies as st

from action_lib.errors import OperationError, RockshardError
from action_lib.github_api.client import GitHubClient
from action_lib.github_api.runs import read_run
from action_lib.impact.analyze import Change, compute_impact
from action_lib.impact.render import report_json, report_markdown, report_text
from action_lib.jobs.event import EventContext, affected_stages_for_event
from action_lib.report import analyze_run
from action_lib.report.html import report_html
from action_lib.report.render import report_markdown as run_markdown
from action_lib.report.render import report_text as run_text
from action_lib.topology import Conditions, Topology
from tests.github_server import FakeGitHub
from tests.hostile import (
    QUICK,
    SERVED,
    SHA,
    SOAK,
    Ran,
    Tally,
    actions_env,
    check_run,
    check_text,
    hostile_text,
    injections,
    run_cli,
    tally,
)
from tests.run_fixture import RUN_ID, github_jobs, github_run

__all__ = ["tally"]  # the fixture, used by name

REPO = Path(__file__).resolve().parent.parent


# --- impact from the API ------------------------------------------------------------------------

IMPACT_TOPOLOGY = REPO / "BUILD_TOPOLOGY.toml"


def _entry(name: object, **extra: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"sha": SHA, "status": "modified", "additions": 1, "patch": "@@"}
    if name is not None:
        entry["filename"] = name
    return entry | extra


MALFORMED: list[dict[str, Any]] = [
    _entry(None),
    _entry(42),
    _entry(["a"]),
    _entry("x" * 5000),
    _entry("a\x00b"),
    _entry("ok.c", previous_filename={"no": 1}),
    _entry("ok.c", status=7, patch=["x"]),
]
file_entries = st.lists(
    st.one_of(hostile_text(3).map(_entry), st.sampled_from(MALFORMED)), min_size=1, max_size=6
)


def _event_env(tmp: Path, fake: FakeGitHub) -> dict[str, str]:
    event = tmp / "event.json"
    payload = {"pull_request": {"number": 42, "base": {"sha": SHA}, "head": {"sha": SHA[::-1]}}}
    event.write_text(json.dumps(payload), encoding="utf-8")
    return {
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_REPOSITORY": "rockshard/demo",
        "GITHUB_TOKEN": "token-for-tests",
        "GITHUB_API_URL": fake.url,
    }


def _fast_client(ctx: EventContext) -> GitHubClient:
    return GitHubClient(ctx.token, base_url=ctx.api_url, retries=0, seconds_between_requests=None)


@pytest.fixture(scope="module")
def impact_topology() -> Topology:
    from action_lib.topology import load_topology

    return load_topology(IMPACT_TOPOLOGY)


@SERVED
@given(file_entries)
def test_impact_from_the_api(
    tally: Tally,
    github: FakeGitHub,
    tmp_path: Path,
    impact_topology: Topology,
    entries: list[dict[str, Any]],
) -> None:
    count = tally["impact from the API"]
    count.inputs += len(entries)
    github.files = entries
    github.pull = github.pull | {"changed_files": len(entries)}
    env = _event_env(tmp_path, github)
    report = affected_stages_for_event(
        impact_topology, env=env, repo=tmp_path, client_factory=_fast_client
    )
    if any(e in MALFORMED for e in entries):
        assert report.fallback and report.everything, report
        count.findings += 1
    check_text(count, report_text(report), report_markdown(report))
    json.dumps(report_json(report))


def test_impact_from_the_api_with_3001_files_falls_back(
    tally: Tally, github: FakeGitHub, tmp_path: Path, impact_topology: Topology
) -> None:
    count = tally["impact from the API"]
    github.files = [_entry(f"src/f{n}.c") for n in range(3001)]
    github.pull = github.pull | {"changed_files": 3001}
    count.inputs += 3001
    report = affected_stages_for_event(
        impact_topology, env=_event_env(tmp_path, github), client_factory=_fast_client
    )
    assert report.everything and "more than 3000" in report.fallback, report.fallback
    assert report.paths == ()  # nothing kept from an answer that was cut short
    count.findings += 1


@pytest.mark.parametrize(
    "pull",
    [{"changed_files": None}, {"changed_files": "many"}, {"changed_files": -1}],
    ids=["missing-count", "text-count", "negative"],
)
def test_impact_from_a_malformed_pull_request_falls_back(
    tally: Tally, github: FakeGitHub, tmp_path: Path, impact_topology: Topology, pull: Any
) -> None:
    count = tally["impact from the API"]
    count.inputs += 1
    github.pull = github.pull | pull
    report = affected_stages_for_event(
        impact_topology, env=_event_env(tmp_path, github), client_factory=_fast_client
    )
    assert report.everything and report.fallback
    count.findings += 1


@pytest.mark.parametrize(
    "payload",
    [
        {"pull_request": {"number": 42, "base": {"sha": "--output=/tmp/x"}, "head": {"sha": SHA}}},
        {"pull_request": "not a table"},
        {"pull_request": {"number": "42; rm", "base": [], "head": None}},
    ],
    ids=["option-as-sha", "not-a-table", "wrong-types"],
)
def test_impact_from_a_hostile_event_file_falls_back(
    tally: Tally, tmp_path: Path, impact_topology: Topology, payload: Any
) -> None:
    count = tally["impact from the API"]
    count.inputs += 1
    event = tmp_path / "event.json"
    event.write_text(json.dumps(payload), encoding="utf-8")
    env = {"GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": str(event), "ACT": "true"}
    report = affected_stages_for_event(impact_topology, env=env, repo=tmp_path)
    assert report.everything and report.fallback
    count.findings += 1


def test_impact_cli_in_actions_wraps_and_escapes(
    tally: Tally, github: FakeGitHub, tmp_path: Path
) -> None:
    count = tally["impact from the API"]
    names = ["src/a\n::add-mask::PWN", "src/b\r::set-output name=x::PWN", "##[error]PWN.c"]
    github.files = [_entry(n) for n in names]
    github.pull = github.pull | {"changed_files": len(names)}
    count.inputs += len(names)
    env = _event_env(tmp_path, github) | actions_env(tmp_path)
    args = ["impact", "--event", "--topology", str(IMPACT_TOPOLOGY), "--repo", str(tmp_path)]
    for fmt in ("text", "markdown", "json"):
        ran = run_cli([*args, "--format", fmt, "--gha-output"], env)
        summary = (tmp_path / "summary.md").read_text()
        check_run(count, ran, in_actions=True, summary=summary)
        if fmt != "json":
            assert ran.out.startswith("::stop-commands::"), ran.out
    assert "<code>src/a\\n" not in summary  # the backslash is a character reference
    assert "src/a&#92;n&#58;&#92;&#58;add-mask&#58;&#92;&#58;PWN" in summary


# --- job summaries and reports of outside data -------------------------------------------------


@QUICK
@given(st.lists(hostile_text(3), min_size=1, max_size=5), hostile_text(2))
def test_impact_summary(
    tally: Tally, impact_topology: Topology, paths: list[str], why: str
) -> None:
    count = tally["job summaries"]
    count.inputs += len(paths) + 1
    report = compute_impact(impact_topology, [Change(p) for p in paths], origin=why)
    markdown = report_markdown(report)
    check_text(count, report_text(report), markdown)
    for line in markdown.splitlines():
        if line.startswith("| "):
            assert line.count("|") in (3, 5), line  # no value splits a cell
    assert "<script" not in markdown


def _hostile_jobs(url: str, names: list[str]) -> list[dict[str, Any]]:
    jobs = github_jobs(url)
    for job, name in zip(jobs, names, strict=False):
        job["name"] = name
        job["html_url"] = "javascript:alert('PWN')"
        job["steps"][0]["name"] = name
    return jobs


@SERVED
@given(st.lists(hostile_text(3).filter(bool), min_size=1, max_size=4), hostile_text(2))
def test_run_report_from_the_api(
    tally: Tally, github: FakeGitHub, impact_topology: Topology, names: list[str], title: str
) -> None:
    count = tally["run jobs from the API"]
    count.inputs += len(names) + 1
    run = github_run(github.url) | {"name": title, "html_url": "javascript:alert(1)"}
    github.runs[RUN_ID] = (run, _hostile_jobs(github.url, names))
    client = GitHubClient("t", base_url=github.url, retries=0, seconds_between_requests=None)
    record = read_run(client, "rockshard/demo", RUN_ID)
    report = analyze_run(record, impact_topology, Conditions("linux"))
    page = report_html(report)
    check_text(count, run_text(report), run_markdown(report), page)
    ET.fromstring(page.split("\n", 1)[1])  # well-formed XHTML: every name was escaped
    assert "javascript:" not in page


@pytest.mark.parametrize(
    "change",
    [
        {"name": None},
        {"name": 7},
        {"steps": "many"},
        {"steps": [{"name": 1, "number": "x"}]},
        {"started_at": "yesterday"},
    ],
    ids=["no-name", "number-name", "steps-text", "bad-step", "bad-time"],
)
def test_run_report_from_a_malformed_answer(
    tally: Tally, github: FakeGitHub, change: dict[str, Any]
) -> None:
    count = tally["run jobs from the API"]
    count.inputs += 1
    jobs = github_jobs(github.url)
    jobs[0] = jobs[0] | change
    github.runs[RUN_ID] = (github_run(github.url), jobs)
    client = GitHubClient("t", base_url=github.url, retries=0, seconds_between_requests=None)
    try:
        read_run(client, "rockshard/demo", RUN_ID)
    except OperationError as exc:
        count.findings += 1
        assert "malformed" in str(exc) or "GitHub listed" in str(exc), exc


@QUICK
@given(hostile_text(5))
def test_annotations_and_warnings(tally: Tally, tmp_path_factory: Any, message: str) -> None:
    from action_lib.edges import gha

    count = tally["annotations"]
    count.inputs += 1
    out, err = io.StringIO(), io.StringIO()
    env = actions_env(tmp_path_factory.mktemp("gha"))
    with (
        mock.patch.object(sys, "stdout", out),
        mock.patch.object(sys, "stderr", err),
        mock.patch.dict(os.environ, env),
        gha.guard_output(),
    ):
        gha.error(message)
        gha.warning(message, [message])
        print(message)
        sys.stderr.write(message)
    injected = injections(out.getvalue(), in_actions=True) + injections(err.getvalue())
    count.injections += len(injected)
    assert not injected, injected


def test_errors_echoing_server_text_stay_on_their_line(tally: Tally, tmp_path: Path) -> None:
    count = tally["annotations"]
    count.inputs += 1

    exc = RockshardError("GitHub API: HTTP 500: a\n::error::PWN\r##[add-mask]PWN")
    ran_err = io.StringIO()
    with (
        mock.patch.object(sys, "stderr", ran_err),
        mock.patch.dict(os.environ, actions_env(tmp_path)),
    ):
        from action_lib.cli.main import _report
        from action_lib.edges import gha

        out = io.StringIO()
        with mock.patch.object(sys, "stdout", out), gha.guard_output():
            _report(exc)
    check_run(count, Ran(1, out.getvalue(), ran_err.getvalue()), in_actions=True)
    assert "a\\n:\\:error:\\:PWN" in ran_err.getvalue()


def test_compute_matrix_summary_shows_hostile_names_as_text(
    tally: Tally, github: FakeGitHub, tmp_path: Path
) -> None:
    count = tally["impact from the API"]
    names = ["src/a\n::add-mask::PWN", "<img src=x onerror=alert(1)>|", "##[set-env name=X]PWN"]
    github.files = [_entry(n) for n in names]
    github.pull = github.pull | {"changed_files": len(names)}
    count.inputs += len(names)
    env = _event_env(tmp_path, github) | actions_env(tmp_path)
    env["ROCKSHARD_STORE_UNTRUSTED"] = "s3://untrusted-bucket/ci"  # a pull request's own store
    args = ["matrix", "--topology", str(IMPACT_TOPOLOGY), "--platform", "linux", "--impact"]
    args += ["--amdgpu-families", "gfx94X-dcgpu", "--repo", str(tmp_path), "--gha-output"]
    ran = run_cli(args, env)
    summary = (tmp_path / "summary.md").read_text(encoding="utf-8")
    check_run(count, ran, in_actions=True, summary=summary)
    assert ran.code == 0, ran.err
    assert "<img" not in summary and "&#60;img src=x onerror=alert&#40;1&#41;&#62;&#124;" in summary


# --- the soak (pytest --slow) ---


@pytest.mark.slow
@SOAK
@given(st.lists(hostile_text(5), min_size=1, max_size=20), hostile_text(3))
def test_soak_impact_summary(
    tally: Tally, impact_topology: Topology, paths: list[str], why: str
) -> None:
    count = tally["soak: job summaries"]
    count.inputs += len(paths)
    report = compute_impact(impact_topology, [Change(p) for p in paths], origin=why)
    check_text(count, report_text(report), report_markdown(report))
