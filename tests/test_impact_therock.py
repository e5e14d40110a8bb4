"""Impact with TheRock's topology, .gitmodules and descriptor folders, and its history."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from action_lib.impact import Change, ImpactRules, compute_impact
from action_lib.sources import parse_gitmodules
from action_lib.sources.gitmodules import GitSubmodule
from action_lib.sources.layout import descriptor_locations, folder_groups
from action_lib.topology import Conditions, Topology, load_topology

pytestmark = pytest.mark.therock
LINUX = Conditions(platform="linux", processor="x86_64")
TheRock = tuple[Topology, tuple[GitSubmodule, ...], ImpactRules]


@pytest.fixture(scope="module")
def therock(therock_dir: Path) -> TheRock:
    topology = load_topology(therock_dir / "BUILD_TOPOLOGY.toml")
    submodules = parse_gitmodules((therock_dir / "gitmodules").read_text())
    files = [p.relative_to(therock_dir).as_posix() for p in therock_dir.rglob("artifact*.toml")]
    locations, _ = descriptor_locations(topology, files)
    return topology, submodules, ImpactRules().extended(folders=folder_groups(topology, locations))


CASES = [
    # (id, changes, affected stages, rule of the first path, detail)
    (
        "llvm-by-path",
        [Change("compiler/amd-llvm", submodule=True)],
        "all",
        "submodule",
        "llvm-project",
    ),
    (
        "rocm-libraries",
        [Change("rocm-libraries", submodule=True)],
        ["math-libs", "cv-libs"],
        "submodule",
        "rocm-libraries",
    ),
    (
        "rocgdb",
        [Change("debug-tools/rocgdb/source", submodule=True)],
        ["debug-tools"],
        "submodule",
        "rocgdb",
    ),
    (
        "blas-folder",
        [Change("math-libs/BLAS/CMakeLists.txt")],
        ["math-libs"],
        "artifact-folder",
        "math-libs/BLAS",
    ),
    (
        "mesa-windows-only-off",
        [Change("third-party/sysdeps/linux/amd-mesa/mesa-fork", submodule=True)],
        ["media-libs"],
        "submodule",
        "amd-mesa",
    ),
]


@pytest.mark.parametrize(
    ("changes", "stages", "rule", "detail"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_therock_changes(
    therock: TheRock, changes: list[Change], stages: str | list[str], rule: str, detail: str
) -> None:
    topology, submodules, rules = therock
    report = compute_impact(topology, changes, submodules=submodules, rules=rules, conditions=LINUX)
    if stages == "all":
        assert report.everything and not report.fallback
    else:
        assert sorted(report.affected) == sorted(stages)
    assert (report.paths[0].rule, report.paths[0].detail) == (rule, detail)


def test_unmapped_path_next_to_mapped_one(therock: TheRock) -> None:
    topology, submodules, rules = therock
    changes = [Change("math-libs/CMakeLists.txt"), Change("third-party/boost/CMakeLists.txt")]
    report = compute_impact(topology, changes, submodules=submodules, rules=rules, conditions=LINUX)
    assert report.everything
    assert "third-party/boost/CMakeLists.txt" in report.fallback


def test_history_benchmark(therock_dir: Path) -> None:
    script = Path(__file__).resolve().parent.parent / "benchmarks" / "impact_history.py"
    done = subprocess.run(
        [sys.executable, str(script), "--json", "--therock", str(therock_dir)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    main = figures["default_rules"]
    full = figures["pipeline"]["stage_jobs_per_full_rebuild"]
    assert main["commits"] == len(figures["per_commit"]) == 600
    assert main["baseline_jobs"] == full * 600
    assert main["jobs"] == sum(c["jobs"] for c in figures["per_commit"]) < main["baseline_jobs"]
    assert figures["ci_changes_affect_none"]["jobs"] <= main["jobs"]
    assert sum(main["buckets"].values()) == 600
    fallback_count = main["kinds"].get("every stage: fallback (unmapped path)", 0)
    assert len(figures["fallback_commits"]) == fallback_count
    assert all(c["unmapped"] for c in figures["fallback_commits"])
