"""``rockshard simulate``: schedules checked against hand-computed cases, properties of the
scheduler, timings files, change histories, and a simulation of a reported run."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from action_lib.cli.main import main
from action_lib.errors import InputError
from action_lib.impact.analyze import Change
from action_lib.report import analyze_run
from action_lib.report.render import report_json
from action_lib.simulate import (
    HistoryCommit,
    ImpactSelection,
    SimJob,
    Timings,
    Workload,
    build_workload,
    parse_history,
    parse_timings,
    resolve_timings,
    simulate,
    simulate_history,
)
from action_lib.simulate.history import percentile
from action_lib.simulate.workload import JobKey
from action_lib.topology import load_topology
from action_lib.topology.model import Conditions, Topology
from tests.run_fixture import WALL, run_record

REPO = Path(__file__).resolve().parent.parent
LINUX = Conditions("linux")


def job(stage: str, seconds: float, wave: int, *deps: str, family: str = "") -> SimJob:
    """A job; ``deps`` as "stage" or "stage/family"."""
    keys = tuple((d.partition("/")[0], d.partition("/")[2]) for d in deps)
    return SimJob(stage, family, seconds, wave, keys)


def load(*jobs: SimJob, families: Sequence[str] = ()) -> Workload:
    return Workload("linux", tuple(families), tuple(jobs))


CHAIN = load(job("a", 10, 0), job("b", 20, 1, "a"), job("c", 5, 2, "b"))
DIAMOND = load(
    job("a", 10, 0), job("b", 20, 1, "a"), job("c", 5, 1, "a"), job("d", 10, 2, "b", "c")
)
# a wide wave: eight quick jobs and one slow one; in the DAG "c" needs only "b1"
WIDE = load(
    job("a", 10, 0),
    *(job(f"b{n}", 5, 1, "a") for n in range(1, 9)),
    job("b9", 50, 1, "a"),
    job("c", 10, 2, "b1"),
)
# per-family chains: the waves wait on the slowest shard of each wave, the DAG does not
SHARDS = load(
    job("a", 10, 0),
    job("b", 20, 1, "a", family="f1"),
    job("b", 5, 1, "a", family="f2"),
    job("c", 5, 2, "a", "b/f1", family="f1"),
    job("c", 30, 2, "a", "b/f2", family="f2"),
    families=("f1", "f2"),
)
NARROW = load(
    job("a", 10, 0), *(job(f"b{n}", 5, 1, "a") for n in range(1, 5)), job("b5", 10, 1, "a")
)


@pytest.mark.parametrize(
    ("workload", "runners", "waves", "dag", "monolithic", "runner_seconds"),
    [
        (CHAIN, None, 35, 35, 35, 35),
        (DIAMOND, None, 40, 40, 45, 45),
        (DIAMOND, 1, 45, 45, 45, 45),
        (WIDE, None, 70, 60, 110, 110),
        (SHARDS, None, 60, 45, 45, 70),
        # two runners for five jobs: the waves serve them in matrix order (5, 5 | 5, 5 | 10),
        # the DAG the longest first (10, 5 | 5 | 5, 5)
        (NARROW, 2, 30, 25, 40, 40),
    ],
    ids=[
        "chain",
        "diamond",
        "diamond-1-runner",
        "wide-wave-slow-job",
        "shards",
        "runners-below-width",
    ],
)
def test_hand_computed_schedules(
    workload: Workload,
    runners: int | None,
    waves: float,
    dag: float,
    monolithic: float,
    runner_seconds: float,
) -> None:
    assert simulate(workload, "waves", runners).wall == waves
    assert simulate(workload, "dag", runners).wall == dag
    assert simulate(workload, "monolithic", runners).wall == monolithic
    assert simulate(workload, "waves", runners).runner_seconds == runner_seconds
    assert simulate(workload, "dag", runners).runner_seconds == runner_seconds


def test_monolithic_builds_the_generic_stages_once_per_family() -> None:
    outcome = simulate(SHARDS, "monolithic")
    # f1: a 10 + b 20 + c 5; f2: a 10 + b 5 + c 30
    assert {p.name: p.end - p.start for p in outcome.placed} == {
        "all stages f1": 35,
        "all stages f2": 45,
    }
    assert outcome.runner_seconds == 80 and outcome.wall == 45
    assert simulate(SHARDS, "monolithic", 1).wall == 80


def test_overhead_and_pipeline_jobs() -> None:
    framed = Workload("linux", (), CHAIN.jobs, before=3, after=4, overhead=2)
    outcome = simulate(framed, "waves")
    # setup 3, three jobs, final 4; each of the five jobs starts 2 s late
    assert outcome.wall == 3 + 35 + 4 + 5 * 2
    assert outcome.runner_seconds == 3 + 35 + 4  # the start latency is not runner time
    assert [p.name for p in outcome.placed] == ["(setup)", "a", "b", "c", "(final)"]


@st.composite
def workloads(draw: st.DrawFn) -> tuple[Workload, int | None]:
    """Random layered stage DAGs, generic and per-family jobs, random durations."""
    families = draw(st.sampled_from([(), ("f1",), ("f1", "f2", "f3")]))
    jobs: list[SimJob] = []
    layers = draw(st.integers(1, 4))
    for wave in range(layers):
        for n in range(draw(st.integers(1, 3))):
            stage = f"s{wave}{n}"
            per_arch = bool(families) and draw(st.booleans())
            earlier = sorted({j.stage for j in jobs if j.wave < wave})
            ups = draw(st.lists(st.sampled_from(earlier), unique=True)) if earlier else []
            if wave and not ups:
                ups = [next(j.stage for j in jobs if j.wave == wave - 1)]
            for family in families if per_arch else ("",):
                deps = tuple(
                    j.key
                    for j in jobs
                    if j.stage in ups and (not family or not j.family or j.family == family)
                )
                seconds = draw(st.integers(1, 100))
                jobs.append(SimJob(stage, family, float(seconds), wave, deps))
    runners = draw(st.one_of(st.none(), st.integers(1, 4)))
    return Workload("linux", families, tuple(jobs)), runners


def longest_path(workload: Workload) -> float:
    finish: dict[JobKey, float] = {}
    for j in workload.jobs:
        finish[j.key] = j.seconds + max((finish[d] for d in j.deps), default=0.0)
    return max(finish.values(), default=0.0)


@settings(max_examples=200, deadline=None)
@given(workloads())
def test_schedule_properties(case: tuple[Workload, int | None]) -> None:
    workload, runners = case
    total = sum(j.seconds for j in workload.jobs)
    bound = longest_path(workload)
    by_label = {j.label: j for j in workload.jobs}
    results = {v: simulate(workload, v, runners) for v in ("monolithic", "waves", "dag")}
    for variant, outcome in results.items():
        # never more runners than allowed at once, never a job before what it waits on
        moments = sorted({p.start for p in outcome.placed})
        for moment in moments:
            busy = sum(1 for p in outcome.placed if p.start <= moment < p.end)
            assert runners is None or busy <= runners
        if variant != "monolithic":
            ends = {p.name: p.end for p in outcome.placed}
            for p in outcome.placed:
                for dep in by_label[p.name].deps:
                    assert ends[f"{dep[0]} {dep[1]}".strip()] <= p.start
            assert outcome.runner_seconds == total
            assert outcome.wall >= bound
            assert outcome.wall >= total / (runners or len(workload.jobs)) - 1e-9
    assert results["monolithic"].runner_seconds >= total
    if runners is None:
        assert results["dag"].wall == bound
        waves: dict[int, float] = {}
        for j in workload.jobs:
            waves[j.wave] = max(waves.get(j.wave, 0.0), j.seconds)
        assert results["waves"].wall == sum(waves.values())
        assert results["dag"].wall <= results["waves"].wall


# --- timings files -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def topology() -> Topology:
    loaded: Topology = load_topology(REPO / "BUILD_TOPOLOGY.toml")
    return loaded


PUBLISHED: dict[str, object] = {
    "_about": "TheRock's published format, with this repository's stages",
    "monolithic_per_family_minutes": {
        "linux/gfx94X-dcgpu": [20, 30],
        "linux/gfx110X-all": 25,
        "old_job_timeout": 720,
    },
    "stage_minutes_cold_vs_warm_remote_ccache": {
        "compiler-runtime": {"cold": 10, "warm": 4, "compiles": 3000},
        "math-libs/gfx94X-dcgpu": {"cold": 8, "warm": 6},
    },
    "math_libs_minutes_by_family": {"linux": {"gfx110X-all": 5}, "windows": {"gfx110X-all": 9}},
    "other_minutes": {
        "foundation": 1,
        "comm-libs": 2.5,
        "tools": 1.5,
        "comm-libs/23-targets": 103,
        "link-everything": 3,
    },
    "workflow_timeouts_minutes": {"linux": {"math-libs": 480}},
}


def timings_of(topology: Topology, *files: Mapping[str, object], ccache: str = "cold") -> Timings:
    parsed = [parse_timings(json.dumps(f), f"t{n}.json") for n, f in enumerate(files)]
    return resolve_timings(parsed, topology, ccache)


def test_published_format(topology: Topology) -> None:
    timings = timings_of(topology, PUBLISHED)
    assert timings.job_seconds("linux", "compiler-runtime", "") == 600
    assert timings.job_seconds("linux", "math-libs", "gfx94X-dcgpu") == 480
    assert timings.job_seconds("linux", "math-libs", "gfx110X-all") == 300
    assert timings.job_seconds("windows", "math-libs", "gfx110X-all") == 540
    assert timings.job_seconds("linux", "math-libs", "gfx1151") is None
    assert timings.job_seconds("linux", "comm-libs", "") == 150
    assert timings.monolithic[("linux", "gfx94X-dcgpu")] == (1200, 1800)
    assert timings.monolithic[("linux", "gfx110X-all")] == (1500, 1500)
    ignored = " ".join(timings.ignored)
    assert "old_job_timeout" in ignored and "workflow_timeouts_minutes" in ignored
    assert "'23-targets' is not a GPU family" in ignored
    assert "link-everything (no stage of that name)" in ignored
    warm = timings_of(topology, PUBLISHED, ccache="warm")
    assert warm.job_seconds("linux", "compiler-runtime", "") == 240
    assert warm.job_seconds("linux", "tools", "") == 90  # its only figure
    assert "other_minutes.tools" in warm.notes[0]


def test_later_files_override_and_strict_table(topology: Topology) -> None:
    timings = timings_of(topology, PUBLISHED, {"stage_minutes": {"linux/ml-libs": 2, "tools": 3}})
    assert timings.job_seconds("linux", "ml-libs", "gfx110X-all") == 120
    assert timings.job_seconds("linux", "tools", "") == 180
    with pytest.raises(
        InputError, match=r"t0.json: stage_minutes.tool: unknown stage 'tool'.*tools"
    ):
        timings_of(topology, {"stage_minutes": {"tool": 3}})
    with pytest.raises(InputError, match=r"not a number of minutes"):
        timings_of(topology, {"stage_minutes": {"tools": "3"}})


def test_missing_stage_is_never_zero(topology: Topology) -> None:
    timings = timings_of(topology, PUBLISHED)
    families = ("gfx110X-all", "gfx94X-dcgpu")
    with pytest.raises(InputError) as info:
        build_workload(topology, LINUX, families, timings)
    assert str(info.value).startswith(
        "t0.json: no duration for ml-libs/gfx110X-all, ml-libs/gfx94X-dcgpu on linux"
    )
    workload = build_workload(topology, LINUX, families, timings, only_timed=True)
    assert workload.left_out == (("ml-libs", "no timings"),)
    assert [j.label for j in workload.jobs] == [
        "foundation",
        "compiler-runtime",
        "comm-libs",
        "math-libs gfx110X-all",
        "math-libs gfx94X-dcgpu",
        "tools",
    ]
    assert simulate(workload, "waves").wall == 60 + 600 + 480 + 90
    subset = build_workload(topology, LINUX, families, timings, stages=["tools", "foundation"])
    # tools needs foundation through compiler-runtime and comm-libs, left out
    assert [(j.label, j.wave, j.deps) for j in subset.jobs] == [
        ("foundation", 0, ()),
        ("tools", 1, (("foundation", ""),)),
    ]
    assert dict(subset.left_out)["compiler-runtime"] == "left out"


def test_simulate_command_missing_stage_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "timings.json"
    path.write_text(json.dumps(PUBLISHED), encoding="utf-8")
    argv = ["simulate", "--topology", str(REPO / "BUILD_TOPOLOGY.toml"), "--timings", str(path)]
    argv += ["--amdgpu-families", "gfx110X-all,gfx94X-dcgpu"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no duration for ml-libs/gfx110X-all" in err[0], err
    assert main([*argv, "--only-timed", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["left_out"] == [{"stage": "ml-libs", "why": "no timings"}]
    assert data["one_commit"]["waves"]["wall_seconds"] == 60 + 600 + 480 + 90


# --- a reported run, simulated --------------------------------------------------------------


def test_simulating_a_reported_run(topology: Topology, tmp_path: Path) -> None:
    report = report_json(analyze_run(run_record(), topology, LINUX))
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report), encoding="utf-8")
    timings = resolve_timings([parse_timings(path.read_text(), "report.json")], topology, "cold")
    assert (timings.before, timings.after, timings.overhead) == (60, 60, 5.2)
    families = ("gfx110X-all", "gfx94X-dcgpu")
    exact = build_workload(topology, LINUX, families, timings, overhead=0)
    # setup 60, foundation 180, compiler-runtime 600, wave 2's slowest 900, wave 3's 600, assemble 60
    assert simulate(exact, "waves").wall == 2400
    # the run took 30 s more: each of the six jobs in a row started 4 to 6 s late
    assert WALL - 2400 == 30
    measured = build_workload(topology, LINUX, families, timings)  # the measured mean latency
    assert simulate(measured, "waves").wall == pytest.approx(2400 + 6 * 5.2)
    assert simulate(exact, "dag").wall == 2400  # ml-libs gfx94X waited on its own math-libs


# --- change histories --------------------------------------------------------------------


def test_parse_history(tmp_path: Path) -> None:
    lines = [
        {"commit": "b" * 40, "date": "2026-01-02T10:00:00+02:00", "subject": "two", "changes": []},
        {
            "commit": "a" * 40,
            "date": "2026-01-02T09:30:00+00:00",
            "subject": "one",
            "changes": [{"path": "src/tools/x.c", "status": "M", "submodule": False}],
        },
    ]
    commits = parse_history("\n".join(json.dumps(x) for x in lines) + "\n", "h.jsonl")
    assert [c.subject for c in commits] == ["two", "one"]  # 08:00 UTC before 09:30 UTC
    assert commits[1].changes == (Change("src/tools/x.c", "M", False),)
    with pytest.raises(InputError, match=r"^h.jsonl:2: not a commit record"):
        parse_history(json.dumps(lines[0]) + "\n{nope\n", "h.jsonl")


@dataclass(frozen=True)
class Fixed:
    """A selection that rebuilds the jobs of the stages named in a commit's subject."""

    name: str = "fixed"

    def jobs_to_build(self, commit: HistoryCommit, workload: Workload) -> frozenset[JobKey]:
        return frozenset(j.key for j in workload.jobs if j.stage in commit.subject.split())


def test_history_with_a_selection() -> None:
    commits = [
        HistoryCommit(str(n), f"2026-01-0{n + 1}", s, ())
        for n, s in enumerate(["a b c d", "d", "docs only", "c"])
    ]
    result = simulate_history(DIAMOND, commits, Fixed())
    cached = [(c.wall["cached"], c.runner["cached"], c.built) for c in result.commits]
    assert cached == [(40, 45, 4), (10, 10, 1), (0, 0, 0), (5, 5, 1)]
    assert all(c.wall["waves"] == 40 and c.runner["monolithic"] == 45 for c in result.commits)
    assert percentile([3, 1, 2, 4], 0.5) == 2 and percentile([3, 1, 2, 4], 0.9) == 4


def test_impact_selection_on_the_demo(topology: Topology) -> None:
    families = ("gfx110X-all", "gfx94X-dcgpu")
    timings = timings_of(topology, PUBLISHED, {"stage_minutes": {"ml-libs": 2}})
    workload = build_workload(topology, LINUX, families, timings)
    selection = ImpactSelection(topology, LINUX)
    commit = HistoryCommit("x", "2026-01-01", "tools", (Change("src/tools/kinfo/main.c"),))
    assert selection.jobs_to_build(commit, workload) == {("tools", "")}
    commit = HistoryCommit("y", "2026-01-01", "math", (Change("src/math-libs/blas/k.c"),))
    assert selection.jobs_to_build(commit, workload) == {
        ("math-libs", "gfx110X-all"),
        ("math-libs", "gfx94X-dcgpu"),
        ("ml-libs", "gfx110X-all"),
        ("ml-libs", "gfx94X-dcgpu"),
    }
