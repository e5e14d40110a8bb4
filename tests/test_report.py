"""``rockshard report``'s pure core on a run with hand-chosen times (tests/run_fixture.py):
mapping, phases, critical path, waves, runner time; text, JSON, markdown and HTML."""

from __future__ import annotations

import dataclasses
import itertools
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from action_lib.cli.main import main
from action_lib.errors import InputError
from action_lib.jobs import replay as act_replay
from action_lib.report import analyze_run, identify, loads_run, phase_rules
from action_lib.report.html import report_html
from action_lib.report.render import mermaid_gantt, report_json, report_markdown, report_text
from action_lib.topology import load_topology, queries
from action_lib.topology.model import Conditions, Topology
from tests.run_fixture import BILLED_MINUTES, RUNNER_SECONDS, WALL, run_record

REPO = Path(__file__).resolve().parent.parent
LINUX = Conditions("linux")
SVG = "{http://www.w3.org/2000/svg}"
XHTML = "{http://www.w3.org/1999/xhtml}"


@pytest.fixture(scope="module")
def topology() -> Topology:
    loaded: Topology = load_topology(REPO / "BUILD_TOPOLOGY.toml")
    return loaded


@pytest.mark.parametrize(
    ("name", "matrix", "job_id", "expected"),
    [
        ("wave 2: math-libs gfx94X-dcgpu", {}, "", ("math-libs", "gfx94X-dcgpu", 2)),
        ("wave 1: compiler-runtime", {}, "", ("compiler-runtime", "", 1)),
        ("wave 1: compiler-runtime ", {}, "", ("compiler-runtime", "", 1)),
        ("whatever", {"stage": "tools", "family": ""}, "wave-3", ("tools", "", 3)),
        ("Build math-libs (gfx1151)", {}, "", ("math-libs", "gfx1151", None)),
        ("setup", {}, "setup", ("", "", None)),
        ("assemble", {}, "", ("", "", None)),
    ],
    ids=[
        "wave-per-arch",
        "wave-generic",
        "trailing-space",
        "matrix",
        "other-workflow",
        "setup",
        "assemble",
    ],
)
def test_identify(
    topology: Topology, name: str, matrix: dict[str, str], job_id: str, expected: tuple[object, ...]
) -> None:
    found = identify(name, matrix, job_id, topology.build_stages, ["gfx1151", "gfx94X-dcgpu"])
    assert (found.stage, found.family, found.wave) == expected


@pytest.mark.parametrize(
    ("step", "phase"),
    [
        ("Set up job", "other"),
        ("Run actions/checkout@v5", "sources"),
        ("Sources", "sources"),
        ("Fetch sources", "sources"),
        ("Fetch inbound artifacts", "fetch"),
        ("Run ./actions/setup-stage", "fetch"),
        ("Configure", "configure"),
        ("Build stage-math-libs", "build"),
        ("Run ./actions/push-stage-artifacts", "push"),
        ("Push stage artifacts", "push"),
        ("Post Run actions/checkout@v5", "other"),
        ("Install rockshard", "other"),
        ("Complete job", "other"),
    ],
)
def test_default_step_phases(step: str, phase: str) -> None:
    assert phase_rules().phase(step) == phase


def test_extra_step_phase_rules_win_and_are_checked() -> None:
    assert phase_rules(["build=^Install"]).phase("Install rockshard") == "build"
    with pytest.raises(InputError, match="PHASE=REGEX"):
        phase_rules(["compile=x"])
    with pytest.raises(InputError, match="bad regular expression"):
        phase_rules(["build=("])


def test_analysis_of_the_run(topology: Topology) -> None:
    report = analyze_run(run_record(), topology, LINUX)
    assert report.wall == WALL
    assert report.runner_seconds == RUNNER_SECONDS
    assert report.billed_minutes == BILLED_MINUTES
    assert report.families == ("gfx110X-all", "gfx94X-dcgpu")
    assert report.missing == () and report.duplicates == () and report.running == ()
    assert [j.label for j in report.jobs][:2] == ["setup", "foundation"]
    # every stage job: its phases add up to its queue plus its runner time
    for job in report.jobs:
        assert sum(job.phases.values()) == pytest.approx(job.phases["queue"] + job.seconds)
    math94 = next(j for j in report.jobs if j.label == "math-libs gfx94X-dcgpu")
    assert dict(math94.phases) == {
        "queue": 6,
        "sources": 18,
        "fetch": 10,
        "configure": 30,
        "build": 810,
        "push": 15,
        "other": 17,
    }
    totals = report.phase_totals()
    assert totals["build"] == sum(t - 90 for t in (180, 600, 300, 600, 900, 300, 600, 200))
    assert totals["fetch"] == 8 * 10
    # the last stage job, back through what each waited for last
    assert [j.label for j in report.critical_path] == [
        "foundation",
        "compiler-runtime",
        "math-libs gfx94X-dcgpu",
        "ml-libs gfx94X-dcgpu",
    ]
    waves = {w.wave: w for w in report.waves}
    assert waves[2].slowest == "math-libs gfx94X-dcgpu" and waves[2].waited == 1761 - 1462
    assert waves[3].slowest == "ml-libs gfx94X-dcgpu" and waves[3].waited == 2366 - 2065
    assert waves[0].waited == 0 and waves[0].jobs == ("foundation",)
    assert sorted(report.gaps) == sorted([5, 5, 5, 5, 7, 6, 4, 5, 6, 4])


def test_critical_path_is_a_path_of_the_stage_dag(topology: Topology) -> None:
    report = analyze_run(run_record(), topology, LINUX)
    upstream = queries.stage_graph(topology, LINUX)
    path = report.critical_path
    for before, after in itertools.pairwise(path):
        assert before.identity.stage in upstream[after.identity.stage]
        assert before.identity.family in ("", after.identity.family) or not after.identity.family
        assert before.end <= after.start


def test_missing_duplicate_and_running_jobs_are_reported(topology: Topology) -> None:
    run = run_record()
    jobs = [j for j in run.jobs if j.name != "wave 3: tools"]
    jobs.append(dataclasses.replace(jobs[2], completed=None))  # a second compiler-runtime
    jobs.append(jobs[3])  # comm-libs twice
    report = analyze_run(dataclasses.replace(run, jobs=tuple(jobs)), topology, LINUX)
    assert report.missing == ("tools",)
    assert report.duplicates == ("comm-libs",)
    assert report.running == ("wave 1: compiler-runtime",)
    text = report_text(report)
    assert "no timing (the stage job did not run): tools" in text
    assert "still running, not counted: wave 1: compiler-runtime" in text


def test_text_json_and_markdown(topology: Topology) -> None:
    report = analyze_run(run_record(), topology, LINUX)
    text = report_text(report)
    assert "wall 40m 30s" in text and "runner time 1h 03m" in text and "billed 64 min" in text
    assert (
        "foundation -> compiler-runtime -> math-libs gfx94X-dcgpu -> ml-libs gfx94X-dcgpu" in text
    )
    data = report_json(report)
    assert data["format"] == "rockshard-report/1"
    assert data["critical_path"]["work_seconds"] == 180 + 600 + 900 + 600
    assert data["critical_path"]["span_seconds"] == 2366 - 70
    assert data["overhead_seconds"] == {"mean": 5.2, "max": 7}
    assert len(data["jobs"]) == 10 and json.loads(json.dumps(data)) == data
    markdown = report_markdown(report)
    assert "```mermaid\ngantt\n" in markdown
    assert markdown.count("| --- |") >= 2


def test_mermaid_gantt_has_one_task_per_job(topology: Topology) -> None:
    report = analyze_run(run_record(), topology, LINUX)
    chart = mermaid_gantt(report)
    tasks = re.findall(
        r"^  (\S[^:\n]*?) :([^,\n]+(?:, [^,\n]+)*?), (\d+), (\d+)s$", chart, re.MULTILINE
    )
    assert len(tasks) == len(report.jobs)
    crit = [name for name, tags, _s, _d in tasks if "crit" in tags]
    assert crit == [
        "foundation",
        "compiler-runtime",
        "math-libs gfx94X-dcgpu",
        "ml-libs gfx94X-dcgpu",
    ]
    by_name = {name: (int(start), int(length)) for name, _t, start, length in tasks}
    assert by_name["math-libs gfx94X-dcgpu"] == (861, 900)
    assert "dateFormat X" in chart and "section wave 2" in chart


def test_html_is_well_formed_offline_with_one_bar_per_job(topology: Topology) -> None:
    report = analyze_run(run_record(), topology, LINUX)
    page = report_html(report)
    root = ET.fromstring(page.removeprefix("<!DOCTYPE html>\n"))
    assert root.tag == f"{XHTML}html"
    assert not list(root.iter(f"{XHTML}script")) and not list(root.iter(f"{SVG}script"))
    for element in root.iter():
        for attribute in ("src", "href"):
            value = element.get(attribute, "")
            assert not value.startswith(("http:", "https:", "//")), (element.tag, value)
    timeline, graph = list(root.iter(f"{SVG}svg"))
    bars = [r for r in timeline.iter(f"{SVG}rect") if "job" in r.get("class", "").split()]
    assert len(bars) == len(report.jobs)
    critical = [r for r in bars if "critical" in r.get("class", "").split()]
    assert len(critical) == 4
    stages = [r for r in graph.iter(f"{SVG}rect") if "stage" in r.get("class", "").split()]
    assert len(stages) == len(topology.build_stages)
    edges = [p for p in graph.iter(f"{SVG}path") if "edge" in p.get("class", "").split()]
    assert (
        len(edges)
        == len(report.stage_edges)
        == sum(len(v) for v in queries.stage_graph(topology, LINUX).values())
    )


def test_run_record_round_trip(tmp_path: Path) -> None:
    run = run_record()
    again = loads_run(run.dumps(), "run.json")
    assert again == run
    with pytest.raises(InputError, match=r"x.json: not a rockshard run record"):
        loads_run('{"jobs": []}', "x.json")
    with pytest.raises(InputError, match=r"x.json: jobs\[0\]: not a time"):
        loads_run(
            json.dumps(
                {"format": "rockshard-run/1", "jobs": [{"name": "a", "started": "yesterday"}]}
            ),
            "x.json",
        )


def test_report_command_on_a_run_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "run.json"
    path.write_text(run_record().dumps(), encoding="utf-8")
    page = tmp_path / "out" / "report.html"
    argv = ["report", "--run-file", str(path), "--topology", str(REPO / "BUILD_TOPOLOGY.toml")]
    assert main([*argv, "--format", "json", "--html", str(page)]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["wall_seconds"] == WALL
    assert f"report: {page.as_posix()}" in captured.err
    ET.fromstring(page.read_text(encoding="utf-8").removeprefix("<!DOCTYPE html>\n"))
    assert main([*argv[:2], str(tmp_path / "nope.json"), *argv[3:]]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "nope.json: cannot read the run record" in err[0]


def test_report_under_act_writes_a_note(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("ACT", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert main(["report", "--github-run", "--summary"]) == 0
    assert "under act" in capsys.readouterr().out
    assert "rockshard replay" in summary.read_text(encoding="utf-8")


def test_report_needs_exactly_one_source(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report"]) == 2
    assert main(["report", "--repo", "a/b"]) == 2
    assert "go together" in capsys.readouterr().err


def _act(job_id: str, matrix: dict[str, str], msg: str, **fields: Any) -> str:
    entry = {
        "job": f"rockshard Linux pipeline/{fields.pop('name', job_id)}",
        "jobID": job_id,
        "level": "info",
        "matrix": matrix,
        "msg": msg,
        "time": "2026-11-30T05:16:22Z",
        **fields,
    }
    return json.dumps(entry)


def test_act_log_records_jobs_and_top_level_steps() -> None:
    matrix = {"stage": "math-libs", "family": "gfx94X-dcgpu"}
    name = "wave 2: math-libs gfx94X-dcgpu-3"
    lines: list[tuple[str, dict[str, Any]]] = [
        ("⭐ Run Set up job", {"step": "Set up job", "stepid": ["--setup-job"]}),
        (
            "  ✅  Success - Set up job",
            {"step": "Set up job", "stepid": ["--setup-job"], "stepResult": "success"},
        ),
        (
            "⭐ Run Main ./actions/setup-stage",
            {"stage": "Main", "step": "./actions/setup-stage", "stepID": ["setup"]},
        ),
        (
            "⭐ Run Main python -m action_lib stage setup",
            {"stage": "Main", "step": "./actions/setup-stage", "stepID": ["setup", "setup"]},
        ),
        (
            "stage math-libs: fetched 6 archive(s)",
            {
                "stage": "Main",
                "step": "./actions/setup-stage",
                "stepID": ["setup", "setup"],
                "raw_output": True,
            },
        ),
        (
            "  ✅  Success - Main python",
            {
                "stage": "Main",
                "step": "./actions/setup-stage",
                "stepID": ["setup", "setup"],
                "stepResult": "success",
                "executionTime": 900000000,
            },
        ),
        (
            "  ✅  Success - Main ./actions/setup-stage",
            {
                "stage": "Main",
                "step": "./actions/setup-stage",
                "stepID": ["setup"],
                "stepResult": "success",
                "executionTime": 950000000,
            },
        ),
        (  # a composite action's outputs come after its result: no second step
            "  ⚙  ::set-output:: fetched=6",
            {"stage": "Main", "step": "./actions/setup-stage", "stepID": ["setup"]},
        ),
        (
            "⭐ Run Post ./actions/setup-stage",
            {"stage": "Post", "step": "./actions/setup-stage", "stepID": ["setup"]},
        ),
        (
            "  ✅  Success - Post ./actions/setup-stage",
            {
                "stage": "Post",
                "step": "./actions/setup-stage",
                "stepID": ["setup"],
                "stepResult": "success",
            },
        ),
        ("🏁  Job succeeded", {"jobResult": "success"}),
    ]
    log = act_replay.ActLog()
    finished = [
        log.feed(_act("wave-2", matrix, msg, name=name, **fields), 1000.0 + n * 0.25)
        for n, (msg, fields) in enumerate(lines)
    ]
    assert finished[:-1] == [None] * (len(lines) - 1) and finished[-1] is not None
    (job,) = log.replay.jobs
    assert [(s.name, s.started, s.ended, s.result) for s in job.steps] == [
        ("Set up job", 1000.0, 1000.25, "success"),
        ("./actions/setup-stage", 1000.5, 1001.5, "success"),
        ("Post ./actions/setup-stage", 1002.0, 1002.25, "success"),
    ]
    replay = act_replay.Replay(0, log.replay.jobs, seconds=3.0, launched=999.0)
    record = act_replay.run_record(replay, "replay x", "linux").jobs[0]
    assert record.name == "wave 2: math-libs gfx94X-dcgpu"
    assert (record.started, record.completed, record.conclusion) == (1000.0, 1002.5, "success")
    assert record.matrix == matrix and record.job_id == "wave-2"
    # without arrival times, act's own (whole-second) stamps
    assert (
        act_replay.ActLog().feed(_act("setup", {}, "🏁  Job succeeded", jobResult="success"))
        is not None
    )
