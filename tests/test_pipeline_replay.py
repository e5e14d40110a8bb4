"""The sharded Linux pipeline, replayed with act on this machine (issue 5's proof).

One replay with the local store and one monolithic build of the same tree are shared by the
module; a second replay stores to S3 on the loopback moto server. Every stage job runs on its
own, in its own build directory, receiving nothing from upstream but artifacts from the store.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import uuid
import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path

import pytest

from action_lib.cli.main import main
from action_lib.families import expand_families
from action_lib.topology import load_topology, queries
from action_lib.topology.model import Conditions, Topology
from tests.replay_helpers import (
    ARCHIVE,
    REPO,
    ReplayRun,
    assert_jobs_build_only_their_stage,
    assert_jobs_fetch_exactly_their_inbound,
    closure,
    expected_jobs,
    replay,
    require_act,
    rockshard,
    run_program,
    shard_records,
    stage_artifacts,
    tool_env,
    tree,
)
from tests.s3_server import FAKE_CREDENTIALS
from tests.test_superbuild import TESTS, results, wave_of

pytestmark = [pytest.mark.integration, pytest.mark.act]

FAMILIES = ("gfx110X-all", "gfx94X-dcgpu")
PLATFORM = "linux"


@pytest.fixture(scope="module")
def topology() -> Topology:
    loaded: Topology = load_topology(REPO / "BUILD_TOPOLOGY.toml")
    return loaded


@pytest.fixture(scope="module")
def linux_replay(tmp_path_factory: pytest.TempPathFactory) -> ReplayRun:
    """``rockshard replay --platform linux`` with the local store, in its own work dir."""
    require_act()
    workdir = tmp_path_factory.mktemp("replay-linux")
    return replay(workdir, PLATFORM, FAMILIES, f"test-{uuid.uuid4().hex[:10]}")


@pytest.fixture(scope="module")
def monolithic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One build dir, everything enabled, the replay's two families; the same cmake (the
    virtual environment's, first on PATH) as the replay."""
    build = tmp_path_factory.mktemp("monolithic") / "mono"
    env = tool_env()
    cmake = shutil.which("cmake", path=env["PATH"])
    assert cmake is not None
    for args in (
        [
            "-S",
            str(REPO),
            "-B",
            str(build),
            "-G",
            "Ninja",
            f"-DROCKSHARD_AMDGPU_FAMILIES={';'.join(FAMILIES)}",
            f"-DROCKSHARD_PYTHON={sys.executable}",  # the replay's stage jobs use it too
        ],
        ["--build", str(build)],
    ):
        done = subprocess.run(
            [cmake, *args], env=env, capture_output=True, text=True, timeout=900, check=False
        )
        assert done.returncode == 0, (done.stdout + done.stderr)[-6000:]
    return build


def _run_folder(run: ReplayRun) -> Path:
    return run.local_store / run.run_folder


def test_every_job_succeeded_and_the_jobs_are_the_matrix(
    linux_replay: ReplayRun, topology: Topology, capsys: pytest.CaptureFixture[str]
) -> None:
    assert linux_replay.process.returncode == 0, linux_replay.output[-4000:]
    assert {j.job_id for j in linux_replay.jobs} >= {"setup", "assemble"}
    failed = [(j.job_id, j.stage, j.family, j.result) for j in linux_replay.jobs]
    assert all(j.result == "success" for j in linux_replay.jobs), failed
    argv = ["matrix", "--topology", str(REPO / "BUILD_TOPOLOGY.toml"), "--platform", PLATFORM]
    argv += ["--amdgpu-families", ",".join(FAMILIES), "--format", "json"]
    assert main(argv) == 0
    plan = json.loads(capsys.readouterr().out)
    planned = {
        (e["stage"], e["family"], f"wave-{k}") for k, wave in enumerate(plan["waves"]) for e in wave
    }
    ran = {(j.stage, j.family, j.job_id) for j in linux_replay.stage_jobs()}
    assert ran == planned
    assert len(linux_replay.stage_jobs()) == len(planned)  # no entry ran twice
    assert {(s, f) for s, f, _ in ran} == expected_jobs(topology, PLATFORM, FAMILIES)


def test_every_stage_job_pushed_its_archives(linux_replay: ReplayRun, topology: Topology) -> None:
    folder = _run_folder(linux_replay)
    records = shard_records(folder)
    jobs = {(j.stage, j.family or "generic") for j in linux_replay.stage_jobs()}
    assert set(records) == jobs
    recorded: set[str] = set()
    for (stage, family), archives in records.items():
        names = {ARCHIVE.match(a) for a in archives}
        assert None not in names, archives
        assert {m.group(1) for m in names if m} == stage_artifacts(topology, stage, PLATFORM)
        assert {m.group(3) for m in names if m} <= {"generic", family}
        for archive, digest in archives.items():
            data = (folder / archive).read_bytes()
            assert hashlib.sha256(data).hexdigest() == digest, archive
            sidecar = folder / f"{archive}.sha256sum"
            assert sidecar.read_text(encoding="utf-8") == digest + "\n", archive
        recorded.update(archives)
    on_store = {p.name for p in folder.iterdir() if ARCHIVE.match(p.name)}
    assert on_store == recorded


def test_each_job_builds_its_stage_and_bootstraps_the_rest(
    linux_replay: ReplayRun, topology: Topology
) -> None:
    assert_jobs_build_only_their_stage(linux_replay, topology)
    assert_jobs_fetch_exactly_their_inbound(linux_replay, topology, _run_folder(linux_replay))


def test_dist_equals_a_monolithic_build(linux_replay: ReplayRun, monolithic: Path) -> None:
    sharded = tree(linux_replay.dist)
    whole = tree(monolithic / "dist")
    assert sorted(sharded) == sorted(whole)
    assert [p for p in sorted(whole) if sharded[p] != whole[p]] == []
    assert any(v.startswith(b"symlink -> ") for v in whole.values())
    assert len(whole) > 100


def test_generic_halves_of_per_arch_shards_are_identical(
    linux_replay: ReplayRun, topology: Topology
) -> None:
    records = shard_records(_run_folder(linux_replay))
    per_arch = sorted(s for s, stage in topology.build_stages.items() if stage.per_arch)
    shared_total = 0
    for stage in per_arch:
        first, second = (records[(stage, f)] for f in FAMILIES)
        shared = sorted(set(first) & set(second))
        assert shared, stage
        assert all(a.endswith("_generic.tar.zst") for a in shared), shared
        assert [a for a in first if a.endswith("_generic.tar.zst")] == shared
        assert [a for a in shared if first[a] != second[a]] == []
        shared_total += len(shared)
    (assemble,) = (j for j in linux_replay.jobs if j.job_id == "assemble")
    count = len(linux_replay.stage_jobs())
    assert (
        f"shards: {count} recorded, {shared_total} generic archive(s) pushed by several "
        "shards, all byte-identical" in assemble.log
    ), assemble.log[-3000:]


def test_a_differing_generic_half_is_refused(linux_replay: ReplayRun, tmp_path: Path) -> None:
    store = tmp_path / "store"
    shutil.copytree(linux_replay.local_store, store)
    folder = store / linux_replay.run_folder
    family = FAMILIES[1]
    build = tmp_path / "build"
    common: list[str | Path] = ["--topology", REPO / "BUILD_TOPOLOGY.toml", "--platform", PLATFORM]
    common += ["--local-staging-dir", store]
    done = rockshard(
        "stage",
        "run",
        "--stage",
        "math-libs",
        "--amdgpu-family",
        family,
        "--from-run-id",
        linux_replay.run_id,
        "--dialect",
        "rockshard",
        "--build-dir",
        build,
        "--source-dir",
        REPO,
        *common,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    push = [
        "artifacts",
        "push",
        "--stage",
        "math-libs",
        "--amdgpu-families",
        family,
        "--build-dir",
        build,
        "--run-id",
        linux_replay.run_id,
        *common,
    ]
    # A rebuild in another directory is byte-identical: pushing it changes nothing.
    record = folder / f"rockshard-shard_math-libs_{family}.json"
    before = json.loads(record.read_text(encoding="utf-8"))["archives"]
    again = rockshard(*push)
    assert again.returncode == 0, again.stdout + again.stderr
    assert json.loads(record.read_text(encoding="utf-8"))["archives"] == before
    # Now a generic half that differs.
    generic = build / "artifacts" / "blas_dev_generic"
    header = next(p for p in sorted(generic.rglob("*.h")) if not p.is_symlink())
    header.write_text(header.read_text(encoding="utf-8") + "/* differs */\n", encoding="utf-8")
    archive = "blas_dev_generic.tar.zst"
    stored = before[archive]
    refused = rockshard(*push)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    message = refused.stderr
    assert archive in message and f"stored sha256 {stored}" in message, message
    # and which file: the one changed, nothing else
    assert f"files that differ: {header.relative_to(generic).as_posix()})" in message, message
    new = re.search(r"new sha256 ([0-9a-f]{64})", message)
    assert new is not None and new.group(1) != stored, message
    assert (folder / f"{archive}.sha256sum").read_text(encoding="utf-8") == stored + "\n"
    assert hashlib.sha256((folder / archive).read_bytes()).hexdigest() == stored


def test_the_product_is_kept_in_the_store(linux_replay: ReplayRun) -> None:
    archive = _run_folder(linux_replay) / "product" / f"{linux_replay.run_folder}-dist.tar.zst"
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    sidecar = archive.with_name(archive.name + ".sha256sum")
    assert sidecar.read_text(encoding="utf-8").strip() == digest
    assert f"kept:      {archive}" in linux_replay.output


def test_stage_run_builds_no_upstream_subproject(
    linux_replay: ReplayRun, topology: Topology, tmp_path: Path
) -> None:
    done = rockshard(
        "stage",
        "run",
        "--stage",
        "tools",
        "--from-run-id",
        linux_replay.run_id,
        "--local-staging-dir",
        linux_replay.local_store,
        "--platform",
        PLATFORM,
        "--dialect",
        "rockshard",
        "--build-dir",
        tmp_path / "build",
        "--topology",
        REPO / "BUILD_TOPOLOGY.toml",
        "--source-dir",
        REPO,
    )
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-4000:]
    own = stage_artifacts(topology, "tools", PLATFORM)
    upstream = closure(topology, own, PLATFORM) - own
    assert {"sysdeps", "kcc", "core-runtime", "core-hip", "ccl"} <= upstream
    declared = {
        artifact: (subproject, how)
        for subproject, artifact, how in re.findall(
            r"rockshard subproject (\S+) \(artifact (\S+)\): (build from|prebuilt)", log
        )
    }
    assert set(declared) == upstream | own
    assert {a for a, (_, how) in declared.items() if how == "prebuilt"} == upstream
    assert {a for a, (_, how) in declared.items() if how == "build from"} == own
    # ninja's step lines: only the stage's own subprojects are configured and built.
    configured = set(re.findall(r"Configuring subproject ([A-Za-z0-9_-]+)", log))
    built = set(re.findall(r"Building subproject ([A-Za-z0-9_-]+)", log))
    assert configured == built == {declared[a][0] for a in own}
    assert {"kinfo", "smi"} <= configured


def test_product_tools_and_tests_run_every_targets_kernels(
    linux_replay: ReplayRun, topology: Topology
) -> None:
    dist = linux_replay.dist
    targets = expand_families(FAMILIES)
    for program in TESTS:
        status, output = run_program(dist / "bin" / program)
        assert status == 0, (program, output)
        found = results(output)
        assert sorted(found) == sorted(targets), (program, output)
        for target, fields in found.items():
            assert fields["status"] == "ok", (program, target, output)
            assert int(fields["wave"]) == wave_of(target), (program, target, output)
    per_arch = sum(a.type == "target-specific" for a in topology.artifacts.values())
    status, output = run_program(dist / "bin" / "kinfo", "--check")
    assert status == 0, output
    for target in targets:
        rows = re.findall(rf"^\d+\s+{target}\s+\S+\s+(\d+)\s+\S+\s+ok$", output, re.M)
        assert rows == [str(wave_of(target))] * per_arch, (target, output)
    status, output = run_program(dist / "bin" / "rs-smi")
    assert status == 0, output
    for target in targets:
        assert re.search(rf"\s{target}\s+{wave_of(target)}\s+{per_arch}$", output, re.M), output
    status, output = run_program(dist / "bin" / "ccl-test")
    assert status == 0 and f"ranks={len(targets)} " in output, output
    assert output.rstrip().endswith("ok"), output


# The S3 path under act is in the default suite through tests/test_consumer_act.py (every job
# of another repository's pipeline through S3) and tests/test_cache_flow.py; this whole-pipeline
# variant is in `pytest --slow` to keep make test under 15 minutes on 2 cores.
@pytest.mark.slow
def test_replay_with_the_s3_store(
    linux_replay: ReplayRun,
    moto_endpoint: str,
    s3_bucket: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    import boto3

    credentials = {
        **FAKE_CREDENTIALS,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    run = replay(
        tmp_path_factory.mktemp("replay-s3"),
        PLATFORM,
        FAMILIES,
        f"test-s3-{uuid.uuid4().hex[:10]}",
        store=s3_bucket,
        endpoint_url=moto_endpoint,
        env=credentials,
    )
    assert run.process.returncode == 0, run.output[-4000:]
    assert all(j.result == "success" for j in run.jobs), [(j.job_id, j.result) for j in run.jobs]
    assert {(j.stage, j.family) for j in run.stage_jobs()} == {
        (j.stage, j.family) for j in linux_replay.stage_jobs()
    }
    assert not run.local_store.exists() or not any(run.local_store.rglob("*.tar.zst"))
    bucket, _, prefix = s3_bucket.removeprefix("s3://").partition("/")
    client = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")
    folder = f"{prefix}/{run.run_folder}/"
    objects: dict[str, bytes] = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=folder):
        for item in page.get("Contents", []):
            key = item["Key"]
            if key.endswith((".sha256sum", ".json")):
                body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
                objects[key.removeprefix(folder)] = body
            else:
                objects[key.removeprefix(folder)] = b""
    local = _run_folder(linux_replay)
    # The product is kept beside the artifacts, the same bytes as the local store's replay.
    product = f"product/{run.run_folder}-dist.tar.zst"
    kept = {k for k in objects if k.startswith("product/")}
    assert kept == {product, product + ".sha256sum"}
    local_sidecar = local / "product" / f"{linux_replay.run_folder}-dist.tar.zst.sha256sum"
    assert objects[product + ".sha256sum"] == local_sidecar.read_bytes()
    objects = {k: v for k, v in objects.items() if k not in kept}
    assert sorted(objects) == sorted(p.name for p in local.iterdir() if p.is_file())
    # The same archives, byte for byte: their digests (and so the shard records) match.
    for name, body in objects.items():
        if name.endswith((".sha256sum", ".json")):
            assert body == (local / name).read_bytes(), name
    assert tree(run.dist) == tree(linux_replay.dist)


# --- the run report of the replay (issue 15) -----------------------------------------------


def _act_step_seconds(log: Path) -> dict[tuple[str, str, str], float]:
    """(job id, stage, family) -> the seconds act itself measured for the job's top-level
    steps (``executionTime``, nanoseconds), read here from act's log."""
    out: dict[tuple[str, str, str], float] = {}
    for line in log.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        ids = entry.get("stepID") if isinstance(entry, dict) else None
        if not isinstance(ids, list) or len(ids) != 1 or "executionTime" not in entry:
            continue
        matrix = entry.get("matrix") or {}
        key = (entry["jobID"], matrix.get("stage", ""), matrix.get("family", ""))
        out[key] = out.get(key, 0.0) + entry["executionTime"] / 1e9
    return out


@pytest.fixture(scope="module")
def replay_report(linux_replay: ReplayRun, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``rockshard report --format json`` of the replay's run record."""
    out = tmp_path_factory.mktemp("replay-report") / "report.json"
    done = rockshard(
        "report",
        "--run-file",
        linux_replay.workdir,
        "--topology",
        REPO / "BUILD_TOPOLOGY.toml",
        "--format",
        "json",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out.write_text(done.stdout, encoding="utf-8")
    return out


def test_replay_writes_its_report_beside_the_product(linux_replay: ReplayRun) -> None:
    page = linux_replay.workdir / "product" / "report.html"
    assert f"report:    {page}" in linux_replay.output
    root = ET.fromstring(page.read_text(encoding="utf-8").removeprefix("<!DOCTYPE html>\n"))
    svg = "{http://www.w3.org/2000/svg}"
    timeline = next(root.iter(f"{svg}svg"))
    bars = [r for r in timeline.iter(f"{svg}rect") if "job" in r.get("class", "").split()]
    assert len(bars) == len(linux_replay.jobs)
    assert not any(e.tag.endswith("script") for e in root.iter())


def test_report_of_the_replay(
    linux_replay: ReplayRun, replay_report: Path, topology: Topology
) -> None:
    data = json.loads(replay_report.read_text(encoding="utf-8"))
    stage_jobs = [j for j in data["jobs"] if j["stage"]]
    # every stage job appears once
    ran = [(j["stage"], j["family"]) for j in stage_jobs]
    assert len(ran) == len(set(ran)) and set(ran) == expected_jobs(topology, PLATFORM, FAMILIES)
    assert data["missing"] == [] and data["duplicates"] == [] and data["running"] == []
    # each job's phases add up to its time; its steps to what act itself measured of them
    act_steps = _act_step_seconds(linux_replay.workdir / "act.log")
    run = json.loads((linux_replay.workdir / "run.json").read_text(encoding="utf-8"))
    for job, record in zip(
        data["jobs"], sorted(run["jobs"], key=lambda j: j["started"]), strict=True
    ):
        phases = sum(v for k, v in job["phases"].items() if k != "queue")
        assert phases == pytest.approx(job["seconds"], abs=0.01), job
        assert job["name"] == record["name"]
        key = (
            record["job_id"],
            record["matrix"].get("stage", ""),
            record["matrix"].get("family", ""),
        )
        ours = sum(
            datetime.fromisoformat(s["completed"].replace("Z", "+00:00")).timestamp()
            - datetime.fromisoformat(s["started"].replace("Z", "+00:00")).timestamp()
            for s in record["steps"]
            if s["name"] not in ("Set up job", "Complete job")
        )
        assert abs(ours - act_steps[key]) < 1.0, (key, ours, act_steps[key])
    assert abs(data["wall_seconds"] - data["run"]["measured_seconds"]) < 1.0
    assert sum(j["seconds"] for j in data["jobs"]) == pytest.approx(
        data["runner_seconds"], abs=0.01
    )
    # the critical path is a path of the stage DAG
    upstream = queries.stage_graph(topology, Conditions(PLATFORM))
    by_label = {f"{j['stage']} {j['family']}".strip(): j for j in stage_jobs}
    path = [by_label[label] for label in data["critical_path"]["jobs"]]
    assert path and path[0]["stage"] == "foundation"
    for before, after in itertools.pairwise(path):
        assert before["stage"] in upstream[after["stage"]]
        assert before["family"] in ("", after["family"]) or not after["family"]
        assert before["end"] <= after["start"]


def test_simulating_the_replay_gives_its_wall_time(
    replay_report: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = json.loads(replay_report.read_text(encoding="utf-8"))
    jobs = data["jobs"]
    peak = max(sum(1 for o in jobs if o["start"] <= j["start"] < o["end"]) for j in jobs)
    argv = ["simulate", "--topology", str(REPO / "BUILD_TOPOLOGY.toml"), "--platform", PLATFORM]
    argv += ["--amdgpu-families", ",".join(FAMILIES), "--timings", str(replay_report)]
    argv += ["--runners", str(peak), "--job-overhead", "0", "--format", "json"]
    assert main(argv) == 0
    simulated = json.loads(capsys.readouterr().out)["one_commit"]["waves"]["wall_seconds"]
    measured = data["wall_seconds"]
    # the same jobs in a row (setup, each wave's slowest, assemble); what the replay took more
    # is each job's start latency: at most the slowest one, per job in the row
    in_a_row = len(data["waves"]) + 2
    assert -0.01 <= measured - simulated <= in_a_row * data["overhead_seconds"]["max"] + 0.01
