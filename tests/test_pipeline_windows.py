"""The sharded Windows pipeline, replayed with act on this machine (issue 7's proof).

The backend runs with ``--platform windows`` while the build uses the host toolchain, so the
jobs, the store folder, and what each job builds, fetches and pushes are Windows's; and for
TheRock's real topology, the Windows matrix is checked against the topology and the family data.
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import pytest

from action_lib.cli.main import main
from action_lib.families import expand_families
from action_lib.topology import load_topology
from action_lib.topology.model import Conditions, Topology
from action_lib.topology.queries import active_stages
from tests.replay_helpers import (
    ARCHIVE,
    REPO,
    ReplayRun,
    assert_jobs_build_only_their_stage,
    assert_jobs_fetch_exactly_their_inbound,
    enabled_artifacts,
    expected_jobs,
    replay,
    require_act,
    run_program,
    shard_records,
    stage_artifacts,
)
from tests.test_superbuild import TESTS, results, wave_of

FAMILIES = ("gfx110X-all", "gfx1151")
PLATFORM = "windows"
_SUBPROJECT_CALL = re.compile(r"^rockshard_subproject\((\S+) ARTIFACT (\S+) ", re.M)


@pytest.fixture(scope="module")
def topology() -> Topology:
    loaded: Topology = load_topology(REPO / "BUILD_TOPOLOGY.toml")
    return loaded


@pytest.fixture(scope="module")
def windows_replay(tmp_path_factory: pytest.TempPathFactory) -> ReplayRun:
    """``rockshard replay --platform windows`` with the local store, in its own work dir."""
    require_act()
    workdir = tmp_path_factory.mktemp("replay-windows")
    return replay(workdir, PLATFORM, FAMILIES, f"test-win-{uuid.uuid4().hex[:10]}")


@pytest.fixture(scope="module")
def disabled(topology: Topology) -> set[str]:
    """The artifacts of this repository's topology that are not built on Windows."""
    off = set(topology.artifacts) - enabled_artifacts(topology, PLATFORM)
    assert "ccl" in off
    return off


def _subprojects_of(artifacts: set[str]) -> set[str]:
    """The super-build's subprojects (CMakeLists.txt) of ``artifacts``."""
    text = (REPO / "CMakeLists.txt").read_text(encoding="utf-8")
    return {name for name, artifact in _SUBPROJECT_CALL.findall(text) if artifact in artifacts}


@pytest.mark.integration
@pytest.mark.act
def test_every_job_succeeded_and_the_jobs_are_the_windows_stage_set(
    windows_replay: ReplayRun, topology: Topology
) -> None:
    assert windows_replay.process.returncode == 0, windows_replay.output[-4000:]
    failed = [(j.job_id, j.stage, j.family, j.result) for j in windows_replay.jobs]
    assert all(j.result == "success" for j in windows_replay.jobs), failed
    assert {j.job_id for j in windows_replay.jobs} >= {"setup", "assemble"}
    windows = Conditions(PLATFORM)
    planned = {
        (stage, family)
        for stage in active_stages(topology, windows)
        for family in (FAMILIES if topology.build_stages[stage].per_arch else ("",))
    }
    ran = [(j.stage, j.family) for j in windows_replay.stage_jobs()]
    assert sorted(ran) == sorted(planned)
    assert set(ran) == expected_jobs(topology, PLATFORM, FAMILIES)
    assert "comm-libs" not in {stage for stage, _ in ran}
    assert "comm-libs" in topology.build_stages  # a stage, with nothing to build on Windows


@pytest.mark.integration
@pytest.mark.act
def test_the_store_folder_is_the_windows_run(windows_replay: ReplayRun, topology: Topology) -> None:
    store = windows_replay.local_store
    # The run's folder, and the stage cache's records beside it (keyed for windows).
    assert sorted(p.name for p in store.iterdir()) == ["cache", f"{windows_replay.run_id}-windows"]
    records_ = [json.loads(p.read_text()) for p in (store / "cache").iterdir()]
    assert records_ and {r["platform"] for r in records_} == {"windows"}
    records = shard_records(store / windows_replay.run_folder)
    assert set(records) == {(j.stage, j.family or "generic") for j in windows_replay.stage_jobs()}
    for (stage, _), archives in records.items():
        names = {m.group(1) for a in archives if (m := ARCHIVE.match(a))}
        assert names == stage_artifacts(topology, stage, PLATFORM), stage


@pytest.mark.integration
@pytest.mark.act
def test_artifacts_disabled_on_windows_are_neither_built_nor_pushed_nor_fetched(
    windows_replay: ReplayRun, topology: Topology, disabled: set[str]
) -> None:
    folder = windows_replay.local_store / windows_replay.run_folder
    pushed = {m.group(1) for p in folder.iterdir() if (m := ARCHIVE.match(p.name))}
    assert pushed
    assert not pushed & disabled
    subprojects = _subprojects_of(disabled)
    assert subprojects == {"ccl"}
    for job in windows_replay.stage_jobs():
        where = (job.stage, job.family)
        # Neither declared (built or bootstrapped from a fetched artifact) nor configured/built.
        assert not {a for a, _ in job.declared().values()} & disabled, where
        assert not (job.steps("Configuring") | job.steps("Building")) & subprojects, where
        # The feature report: off because of the pipeline's platform, not the host's.
        report = re.findall(r"^-- +CCL +(.*)$", job.log, re.M)
        assert report == ["OFF  ccl (disabled on windows)"], (where, report)
    # Each job fetched exactly the archives of what it needs on Windows; the assemble job
    # expected nothing of the disabled artifacts either: it found all it wanted.
    assert_jobs_fetch_exactly_their_inbound(windows_replay, topology, folder)
    assert not any("ccl" in path.name for path in windows_replay.dist.rglob("*"))


@pytest.mark.integration
@pytest.mark.act
def test_each_job_builds_its_stage_and_bootstraps_the_rest(
    windows_replay: ReplayRun, topology: Topology
) -> None:
    assert_jobs_build_only_their_stage(windows_replay, topology)


@pytest.mark.integration
@pytest.mark.act
def test_the_windows_product_runs_every_targets_kernels(windows_replay: ReplayRun) -> None:
    dist = windows_replay.dist
    targets = expand_families(FAMILIES)
    for program in TESTS:
        status, output = run_program(dist / "bin" / program)
        assert status == 0, (program, output)
        found = results(output)
        assert sorted(found) == sorted(targets), (program, output)
        assert all(f["status"] == "ok" for f in found.values()), (program, output)
        assert all(int(f["wave"]) == wave_of(t) for t, f in found.items()), (program, output)
    status, output = run_program(dist / "bin" / "kinfo", "--check")
    assert status == 0 and f"devices: {len(targets)}" in output, output
    assert not (dist / "bin" / "ccl-test").exists()


@pytest.mark.therock
def test_therock_windows_matrix_fans_out_over_the_windows_families(
    therock_dir: Path, therock_topology_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every stage with something to build on Windows gets its jobs: each per-arch stage one
    per Windows family of the nightly tier (the tiers from TheRock's family data, minus its
    Linux-only families), each generic stage one."""
    topology = load_topology(therock_topology_path)
    data = json.loads((therock_dir / "amdgpu_targets.json").read_text(encoding="utf-8"))
    nightly = [f for tier in ("presubmit", "postsubmit", "nightly") for f in data["ci_tiers"][tier]]
    linux_only = set(data["linux_only_families"])
    windows_families = sorted(set(nightly) - linux_only)
    assert linux_only & set(nightly)  # the tier does hold Linux-only families to drop
    argv = ["matrix", "--topology", str(therock_topology_path), "--platform", PLATFORM]
    assert main([*argv, "--tier", "nightly", "--format", "json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert sorted(plan["families"]) == windows_families
    entries = [e for wave in plan["waves"] for e in wave]
    expected = {s for s in topology.build_stages if stage_artifacts(topology, s, PLATFORM)}
    assert set(topology.build_stages) - expected  # some stage has nothing on Windows
    assert {e["stage"] for e in entries} == expected
    for stage in sorted(expected):
        families = sorted(e["family"] for e in entries if e["stage"] == stage)
        if topology.build_stages[stage].per_arch:
            assert families == windows_families, stage
        else:
            assert families == [""], stage
    assert any(topology.build_stages[s].per_arch for s in expected)
