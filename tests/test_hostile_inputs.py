"""The hostile-input suite (issue 16): names with newlines, ``::``, ``%0A``, NUL, ``..``,
absolute paths, drive letters, reserved Windows names, 4,096-character names and undecodable
bytes, fed to every entry point that takes outside data. Asserted for each input: no
traceback, no write outside the intended directory, no line of output a runner would run as a
workflow command. The counts per entry point are printed at the end (``tally``).

The git-based entry point is in test_hostile_git.py (integration).
"""

from __future__ import annotations

import io
import json
import os
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from action_lib.artifacts.fetch import FetchOptions
from action_lib.artifacts.names import parse_archive, parse_stem, sidecar, try_parse_archive
from action_lib.artifacts.plan import screen_listing
from action_lib.cli.main import main
from action_lib.errors import FindingsError, InputError, OperationError, RockshardError
from action_lib.github_api.client import GitHubClient
from action_lib.github_api.runs import read_run
from action_lib.impact.analyze import Change, compute_impact
from action_lib.impact.render import report_json, report_markdown, report_text
from action_lib.inputs.paths import (
    commit_problems,
    component_problems,
    origin_problems,
    relative_path_problems,
)
from action_lib.jobs.event import EventContext, affected_stages_for_event
from action_lib.jobs.model import RunRef, StageJob
from action_lib.jobs.stage_artifacts import fetch_stage
from action_lib.pipeline.config import parse_pipeline_config
from action_lib.pipeline.matrix import plan_markdown, plan_pipeline
from action_lib.report import analyze_run
from action_lib.report.html import report_html
from action_lib.report.render import report_markdown as run_markdown
from action_lib.report.render import report_text as run_text
from action_lib.stores.base import OnBytes, Sink
from action_lib.topology import Conditions, Topology
from action_lib.topology.loader import check_topology_text, parse_topology
from tests.artifact_helpers import Entry, craft_archive
from tests.github_server import FakeGitHub
from tests.hostile import (
    SPECIAL,
    Tally,
    hostile_name,
    hostile_text,
    injections,
    snapshot,
    tally,
)
from tests.run_fixture import RUN_ID, github_jobs, github_run
from tests.topologies import MINIMAL

__all__ = ["tally"]  # the fixture, used by name

REPO = Path(__file__).resolve().parent.parent
SHA = "0123456789abcdef0123456789abcdef01234567"
QUICK = settings(max_examples=100, deadline=None)
SERVED = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
SOAK = settings(
    max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@dataclass(frozen=True)
class Ran:
    """One CLI run: status, stdout, stderr."""

    code: int
    out: str
    err: str


def run_cli(argv: list[str], env: Mapping[str, str] | None = None) -> Ran:
    """``main(argv)`` with stdout and stderr captured (no pytest fixture: usable in @given)."""
    out, err = io.StringIO(), io.StringIO()
    with (
        mock.patch.object(sys, "stdout", out),
        mock.patch.object(sys, "stderr", err),
        mock.patch.dict(os.environ, dict(env or {})),
    ):
        os.environ.pop("ROCKSHARD_DEBUG", None)
        code = main(argv)
    return Ran(code, out.getvalue(), err.getvalue())


def check_run(count: Any, ran: Ran, *, in_actions: bool = False, summary: str = "") -> None:
    """No traceback and no injected command, in stdout, stderr or the job summary."""
    crashed = ran.code not in (0, 1, 2) or "internal error" in ran.err or "Traceback" in ran.err
    injected = injections(ran.out, in_actions=in_actions) + injections(ran.err)
    injected += injections(summary)
    count.crashes += crashed
    count.injections += len(injected)
    assert not crashed, ran.err
    assert not injected, (injected, ran.out, ran.err)


def check_text(count: Any, *texts: str) -> None:
    """No line of any of ``texts`` is a workflow command."""
    injected = [c for t in texts for c in injections(t)]
    count.injections += len(injected)
    assert not injected, injected


def actions_env(tmp: Path) -> dict[str, str]:
    """The variables of an Actions step, with a fresh output file and job summary."""
    (tmp / "output").write_text("", encoding="utf-8")
    (tmp / "summary.md").write_text("", encoding="utf-8")
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_OUTPUT": str(tmp / "output"),
        "GITHUB_STEP_SUMMARY": str(tmp / "summary.md"),
    }


# --- topology loader and validate --------------------------------------------------------------

EXTERNAL = (
    '[source_sets.core]\ndescription = "core sources"\nsubmodules = ["core-src"]\n'
    "external_git_sources = [{ name = NAME, origin = ORIGIN, commit = COMMIT, path = PATH }]\n"
)
SLOTS: dict[str, tuple[str, str, Callable[[str], list[str]]]] = {
    "path-prefix": ('path_prefixes = ["math"]', "path_prefixes = [V]", relative_path_problems),
    "submodule": ('submodules = ["core-src"]', "submodules = [V]", relative_path_problems),
    "external-origin": ("", "ORIGIN", origin_problems),
    "external-path": ("", "PATH", relative_path_problems),
    "external-commit": ("", "COMMIT", commit_problems),
    "external-name": ("", "NAME", lambda v: [] if v == "ext" else ["not an entity name"]),
    "stage-name": ("[build_stages.first]", "[build_stages.V]", lambda v: ["renamed"]),
    "artifact-name": ("[artifacts.beta]", "[artifacts.V]", lambda v: ["renamed"]),
}


def _toml(value: str) -> str:
    return json.dumps(value)  # a TOML basic string (an undecodable byte stays an escape)


def topology_with(slot: str, value: str) -> str:
    """MINIMAL with ``value`` in ``slot``."""
    old, new, _ = SLOTS[slot]
    if slot.startswith("external-"):
        fields = {"NAME": '"ext"', "ORIGIN": '"https://example.com/ext.git"'}
        fields |= {"COMMIT": f'"{SHA}"', "PATH": '"optional-sources/ext"'}
        fields[new] = _toml(value)
        block = EXTERNAL
        for key, text in fields.items():
            block = block.replace(f"= {key}", f"= {text}")
        start = MINIMAL.index("[source_sets.core]")
        end = MINIMAL.index("[source_sets.math]")
        return MINIMAL[:start] + block + "\n" + MINIMAL[end:]
    return MINIMAL.replace(old, new.replace("V", _toml(value)), 1)


@QUICK
@given(st.sampled_from(sorted(SLOTS)), hostile_text(4), st.booleans())
def test_topology_loader(
    tally: Tally, tmp_path_factory: Any, slot: str, value: str, gha: bool
) -> None:
    count = tally["topology loader + validate"]
    count.inputs += 1
    text = topology_with(slot, value)
    _, findings = check_topology_text(text, "T.toml")  # raises nothing, whatever the input
    count.findings += len(findings)
    if SLOTS[slot][2](value):
        assert findings, (slot, value)
    tmp = tmp_path_factory.mktemp("topo")
    path = tmp / "BUILD_TOPOLOGY.toml"
    path.write_text(text, encoding="utf-8")
    env = actions_env(tmp) if gha else {}
    ran = run_cli(["topology", "validate", "--topology", str(path)], env)
    assert ran.code == (2 if findings else 0)
    check_run(count, ran, in_actions=gha)


@pytest.mark.parametrize("raw", [b"\xff\xfe", b"\x00", b'[metadata]\nversion = "\xc3\x28"\n'])
def test_topology_file_with_undecodable_bytes(tally: Tally, tmp_path: Path, raw: bytes) -> None:
    count = tally["topology loader + validate"]
    count.inputs += 1
    path = tmp_path / "BUILD_TOPOLOGY.toml"
    path.write_bytes(MINIMAL.encode() + raw)
    ran = run_cli(["topology", "validate", "--topology", str(path)])
    assert ran.code == 2
    count.findings += 1
    check_run(count, ran)


def test_the_issues_topology_is_refused_with_every_finding(tmp_path: Path) -> None:
    text = topology_with("external-origin", "--upload-pack=touch /tmp/pwned")
    text = text.replace('path_prefixes = ["math"]', 'path_prefixes = ["/etc", "../up"]')
    text = text.replace('"optional-sources/ext"', '"optional-sources/../../x"')
    text = text.replace('submodules = ["math-src"]', 'submodules = ["../../x"]')
    messages = [f.message for f in check_topology_text(text, "T.toml")[1]]
    for fragment in (
        "origin '--upload-pack=touch /tmp/pwned' starts with '-'",
        "path prefix '/etc' is absolute",
        "path prefix '../up' leaves the repository",
        "path 'optional-sources/../../x' leaves the repository",
        "submodule name '../../x' leaves its root",
    ):
        assert any(fragment in m for m in messages), (fragment, messages)


# --- pipeline settings loader and the matrix summary ---------------------------------------------


@QUICK
@given(hostile_text(3), hostile_text(2))
def test_pipeline_settings(tally: Tally, label: str, stage: str) -> None:
    count = tally["pipeline settings + plan summary"]
    count.inputs += 1
    text = f"[defaults]\nruns-on = {_toml(label)}\n[stages.{_toml(stage)}]\ntimeout-minutes = 5\n"
    topology, _ = parse_topology(MINIMAL)
    try:
        config = parse_pipeline_config(text, "P.toml", tuple(topology.build_stages))
    except FindingsError as exc:
        count.findings += len(exc.findings)
        check_text(count, *(escape_line(f.format()) for f in exc.findings))
        return
    plan = plan_pipeline(topology, Conditions("linux"), ("gfx94X-dcgpu",), config)
    check_text(count, plan_markdown(plan))
    assert all(e.runs_on == label for wave in plan.waves for e in wave)


def escape_line(line: str) -> str:
    """A line as the CLI prints it (``rockshard: <escaped>``)."""
    from action_lib.inputs.untrusted import escape

    return f"rockshard: {escape(line)}\n"


def test_matrix_with_hostile_settings_writes_a_safe_summary(tally: Tally, tmp_path: Path) -> None:
    count = tally["pipeline settings + plan summary"]
    count.inputs += 1
    topo = tmp_path / "BUILD_TOPOLOGY.toml"
    topo.write_text(MINIMAL, encoding="utf-8")
    (tmp_path / "rockshard-pipeline.toml").write_text(
        '[defaults]\nruns-on = "x\\n::add-mask::PWN"\n', encoding="utf-8"
    )
    env = actions_env(tmp_path)
    args = ["matrix", "--topology", str(topo), "--platform", "linux"]
    ran = run_cli([*args, "--amdgpu-families", "gfx94X-dcgpu", "--gha-output"], env)
    assert ran.code == 2 and "error[label]" in ran.err
    count.findings += 1
    check_run(count, ran, in_actions=True, summary=(tmp_path / "summary.md").read_text())


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


# --- store listings and artifact names ------------------------------------------------------------


class MemoryStore:
    """A store in memory whose listing is whatever a test puts in it (keys S3 could hold)."""

    url = "mem://store"

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.asked: list[str] = []

    def location(self, run: str) -> str:
        return f"{self.url}/{run}"

    def listing(self, run: str) -> Mapping[str, int]:
        return {k: len(v) for k, v in sorted(self.files.items())}

    def read_text(self, run: str, name: str) -> str | None:
        self.asked.append(name)
        data = self.files.get(name)
        return None if data is None else data.decode()

    def read_tail(self, run: str, name: str, size: int, n: int) -> bytes:
        self.asked.append(name)
        return self.files[name][-n:]

    def local_path(self, run: str, name: str) -> Path | None:
        return None

    def download(self, run: str, name: str, out: Sink, progress: OnBytes | None = None) -> None:
        self.asked.append(name)
        out.write(self.files[name])


@pytest.fixture(scope="module")
def good_archives(tmp_path_factory: Any) -> dict[str, bytes]:
    """The archives stage 'second' of MINIMAL fetches, with their sidecars."""
    tmp = tmp_path_factory.mktemp("archives")
    files: dict[str, bytes] = {}
    for artifact in ("alpha", "beta"):
        name = f"{artifact}_lib_generic.tar.zst"
        digest = craft_archive(tmp / name, [Entry(f"stage/{artifact}.txt", b"x")])
        files[name] = (tmp / name).read_bytes()
        files[sidecar(name)] = (digest + "\n").encode()
    return files


hostile_keys = st.lists(
    st.one_of(
        hostile_text(3),
        hostile_text(2).map(lambda s: s + ".tar.zst"),
        hostile_text(2).map(lambda s: f"alpha_lib_{s}.tar.zst"),
        st.sampled_from(SPECIAL).map(lambda s: f"../{s}_lib_generic.tar.zst"),
        st.just("zeta_lib_generic.tar.zst"),
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=40, deadline=None)
@given(hostile_keys)
def test_store_listing_and_fetch(
    tally: Tally, tmp_path_factory: Any, good_archives: dict[str, bytes], keys: list[str]
) -> None:
    count = tally["store listing + fetch"]
    count.inputs += len(keys)
    root = tmp_path_factory.mktemp("fetch")
    files = dict(good_archives)
    for key in keys:
        files.setdefault(key, b"PWN")
        files.setdefault(key + ".sha256sum", b"0" * 64 + b"\n")
    store = MemoryStore(files)
    topology, _ = parse_topology(MINIMAL)
    job = StageJob(topology, "second", Conditions("linux"), "gfx94X-dcgpu")
    before = snapshot(root)
    err = io.StringIO()
    options = FetchOptions(cache_dir=root / "cache")
    with mock.patch.object(sys, "stderr", err):
        result = fetch_stage(job, RunRef(store, "1-linux"), root / "out", options)  # type: ignore[arg-type]
    assert sorted(m.filename for m in result.moved) == sorted(
        n for n in good_archives if n.endswith(".zst")
    )
    written = snapshot(root) - before
    outside = {p for p in written if not p.startswith(("out", "cache"))}
    count.escapes += len(outside)
    assert not outside, outside
    assert all(n in good_archives for n in store.asked if n in files), store.asked
    screened = screen_listing(store.listing("1-linux"), topology)
    count.findings += len(screened.ignored)
    check_text(count, err.getvalue())


@settings(max_examples=15, deadline=None)
@given(st.lists(hostile_name(), min_size=1, max_size=4))
def test_local_store_listing_with_hostile_file_names(
    tally: Tally, tmp_path_factory: Any, good_archives: dict[str, bytes], names: list[str]
) -> None:
    count = tally["store listing + fetch"]
    count.inputs += len(names)
    root = tmp_path_factory.mktemp("local")
    run_dir = root / "store" / "1-linux"
    run_dir.mkdir(parents=True)
    for name, data in good_archives.items():
        (run_dir / name).write_bytes(data)
    for name in names:
        for variant in (name, name + ".tar.zst", f"alpha_lib_{name}.tar.zst"):
            try:
                (run_dir / variant).write_bytes(b"PWN")
                (run_dir / (variant + ".sha256sum")).write_text("0" * 64)
            except (OSError, UnicodeEncodeError):
                continue  # a name this file system refuses
    topo = root / "BUILD_TOPOLOGY.toml"
    topo.write_text(MINIMAL, encoding="utf-8")
    before = snapshot(root)
    err = io.StringIO()
    args = ["artifacts", "fetch", "--stage", "second", "--amdgpu-family", "gfx94X-dcgpu"]
    args += ["--topology", str(topo), "--store", str(root / "store"), "--run-id", "1"]
    args += ["--platform", "linux", "--output-dir", str(root / "out")]
    ran = run_cli(args)
    err.write(ran.err)
    assert ran.code == 0, ran.err
    written = snapshot(root) - before
    outside = {p for p in written if not p.startswith("out")}
    count.escapes += len(outside)
    assert not outside, outside
    count.findings += ran.err.count("': ")
    check_run(count, ran)


@settings(max_examples=300, deadline=None)
@given(st.one_of(hostile_text(4), hostile_text(2).map(lambda s: s + ".tar.zst")))
def test_artifact_names(tally: Tally, value: str) -> None:
    count = tally["artifact names"]
    count.inputs += 1
    for parse in (parse_archive, parse_stem):
        try:
            parse(value)
        except InputError as exc:
            count.findings += 1
            check_text(count, escape_line(str(exc)))
    parsed = try_parse_archive(value)
    if parsed is not None:
        name, compression = parsed
        assert name.archive(compression) == value
        assert component_problems(value) == []  # a parsed name is always one safe file name


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


# --- the soak: the same entry points, many more inputs (pytest --slow) ---------------------------


@pytest.mark.slow
@SOAK
@given(st.sampled_from(sorted(SLOTS)), hostile_text(6))
def test_soak_topology(tally: Tally, slot: str, value: str) -> None:
    count = tally["soak: topology loader"]
    count.inputs += 1
    _, findings = check_topology_text(topology_with(slot, value), "T.toml")
    count.findings += len(findings)
    check_text(count, *(escape_line(f.format()) for f in findings))


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


@pytest.mark.slow
@SOAK
@given(hostile_keys)
def test_soak_store_screen(tally: Tally, keys: list[str]) -> None:
    count = tally["soak: store listing"]
    count.inputs += len(keys)
    topology, _ = parse_topology(MINIMAL)
    screened = screen_listing(dict.fromkeys(keys, 1), topology)
    count.findings += len(screened.ignored)
    for name in screened.listing:
        assert component_problems(name) == []
    head, lines = screened.warning("mem://x")
    check_text(count, escape_line(head), *(escape_line(line) for line in lines))


# --- names that become paths, keys and URLs: refused where they enter -------------------------


@pytest.mark.parametrize(
    ("run", "name"),
    [
        ("../x", "a.tar.zst"),
        ("1-linux", "../../etc/passwd"),
        ("1-linux", "a\nb"),
        ("a/b/c/d/e", "x"),
    ],
    ids=["run-dotdot", "name-dotdot", "name-newline", "run-deep"],
)
def test_stores_refuse_names_that_leave_their_folder(
    tally: Tally, tmp_path: Path, run: str, name: str
) -> None:
    from action_lib.stores.local import LocalStore

    count = tally["store names + settings"]
    count.inputs += 1
    store = LocalStore(tmp_path / "store")
    before = snapshot(tmp_path)
    with pytest.raises(InputError, match="refused"):
        store.write_text(run, name, "PWN")
    with pytest.raises(InputError, match="refused"):
        store.read_text(run, name)
    count.findings += 1
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize(
    "flags",
    [
        ["--run-id", "../../x"],
        ["--run-id", "1\n::add-mask::PWN"],
        ["--store", "s3://Bad_Bucket/x"],
        ["--store", "s3://bucket/../x"],
        ["--store", "ftp://host/x"],
        ["--store", "/tmp/a\nb"],
        ["--endpoint-url", "javascript:alert(1)"],
        ["--external-repo", "../x"],
    ],
    ids=[
        "run-dotdot",
        "run-newline",
        "bucket",
        "prefix-dotdot",
        "scheme",
        "dir-newline",
        "endpoint",
        "repo",
    ],
)
def test_store_settings_are_checked(tally: Tally, tmp_path: Path, flags: list[str]) -> None:
    count = tally["store names + settings"]
    count.inputs += 1
    topo = tmp_path / "BUILD_TOPOLOGY.toml"
    topo.write_text(MINIMAL, encoding="utf-8")
    args = ["artifacts", "ls", "--topology", str(topo), "--platform", "linux"]
    ran = run_cli([*args, "--local-staging-dir", str(tmp_path / "store"), *flags])
    assert ran.code == 2, ran.err
    count.findings += 1
    check_run(count, ran)


def test_gitmodules_and_descriptors_refuse_paths_that_leave(tally: Tally) -> None:
    from action_lib.artifacts.descriptor import parse_descriptor
    from action_lib.sources.gitmodules import parse_gitmodules

    count = tally["store names + settings"]
    count.inputs += 3
    with pytest.raises(FindingsError) as caught:
        parse_gitmodules('[submodule "../../x"]\n\tpath = ../x\n\turl = --upload-pack=x\n')
    codes = sorted(f.code for f in caught.value.findings)
    assert codes == ["unsafe-name", "unsafe-path", "unsafe-url"], codes
    text = '[components.lib."stage\\n::error::x"]\ninclude = ["a\\u0000b", "..\\\\up/*", "C:/x"]\n'
    _, findings = parse_descriptor(text, "artifact.toml", "x")
    messages = [f.message for f in findings]
    assert any("control" in m for m in messages) and any("'..'" in m for m in messages), messages
    count.findings += len(codes) + len(findings)


def test_a_shard_record_naming_paths_is_refused(tally: Tally) -> None:
    from action_lib.jobs.convergence import check_convergence

    count = tally["store names + settings"]
    count.inputs += 1
    record = {"stage": "s\n::error::PWN", "archives": {"../../etc/passwd": "0" * 64}}
    store = MemoryStore({"rockshard-shard_s_generic.json": json.dumps(record).encode()})
    with pytest.raises(OperationError, match="not a shard record") as caught:
        check_convergence(store, "1-linux")  # type: ignore[arg-type]
    assert store.asked == ["rockshard-shard_s_generic.json"]
    count.findings += 1
    check_text(count, escape_line(str(caught.value)))


def test_undecodable_bytes_in_store_files_and_checkout_files(
    tally: Tally, tmp_path: Path, good_archives: dict[str, bytes]
) -> None:
    from action_lib.sources.checkout import read_gitmodules
    from action_lib.sources.git import GitRunner

    count = tally["store names + settings"]
    count.inputs += 2
    run_dir = tmp_path / "store" / "1-linux"
    run_dir.mkdir(parents=True)
    for name, data in good_archives.items():
        (run_dir / name).write_bytes(data)
    (run_dir / "alpha_lib_generic.tar.zst.sha256sum").write_bytes(b"\xff\xfe\n::error::PWN")
    topo = tmp_path / "BUILD_TOPOLOGY.toml"
    topo.write_text(MINIMAL, encoding="utf-8")
    args = ["artifacts", "fetch", "--stage", "second", "--amdgpu-family", "gfx94X-dcgpu"]
    args += ["--topology", str(topo), "--store", str(tmp_path / "store"), "--run-id", "1"]
    ran = run_cli([*args, "--platform", "linux", "--output-dir", str(tmp_path / "out")])
    assert ran.code == 1 and "not a sha256 digest" in ran.err, ran.err
    check_run(count, ran)
    (tmp_path / ".gitmodules").write_bytes(b'[submodule "a\xff"]\n\tpath = ../\xfe\n')
    with pytest.raises(FindingsError):
        read_gitmodules(GitRunner(), tmp_path)
    count.findings += 2


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


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("untrusted", "s3://bucket/../trusted"),
        ("untrusted", "s3://bucket/x\n::add-mask::PWN"),
        ("trusted", "/srv/store\r::error::PWN"),
        ("endpoint-url", "javascript:alert(1)"),
        ("region", "us-east-1; rm -rf /"),
        ("trusted-role", "${{ secrets.PWN }}"),
    ],
    ids=["dotdot", "newline", "dir-cr", "endpoint", "region", "role"],
)
def test_store_table_values_are_checked(tally: Tally, key: str, value: str) -> None:
    count = tally["pipeline settings + plan summary"]
    count.inputs += 1
    with pytest.raises(FindingsError) as caught:
        parse_pipeline_config(f"[store]\n{key} = {_toml(value)}\n", "P.toml")
    assert [f.code for f in caught.value.findings] == ["value"] * len(caught.value.findings)
    count.findings += len(caught.value.findings)
    check_text(count, *(escape_line(f.format()) for f in caught.value.findings))
