"""The stage cache's job-level flow on a real git repository and a real store (local and S3
on the loopback moto server), with fake stage builds: setup job (keys, reuse), stage jobs
(job-time lookup, cutoff), push (records, trust), verification of records.

The act replays (tests/test_cache_replay.py) run the same flow through the generated
workflow with real cmake builds; here every branch is reached in seconds.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from action_lib.cache.lookup import list_records, lookup
from action_lib.cache.records import CACHE_ROOT, LATEST, parse_record, record_name
from action_lib.jobs.cache_plan import CachePlan, key_computer, plan_cache, run_outcomes
from action_lib.jobs.cache_stage import job_time_lookup, push_annotation, write_state
from action_lib.jobs.model import RunRef, StageJob
from action_lib.jobs.stage_artifacts import push_stage
from action_lib.pipeline.config import parse_pipeline_config
from action_lib.stores.base import Store, open_store
from action_lib.topology import Topology, load_topology, queries
from action_lib.topology.model import Conditions
from tests.artifact_helpers import build_stage
from tests.fixtures.gitrepos import commit_all, make_repo, use_git_env

pytestmark = pytest.mark.integration  # git, and the S3 server for the s3 variant

REPO = Path(__file__).resolve().parent.parent
LINUX = Conditions("linux")
FAMILIES = ("gfx110X-all", "gfx94X-dcgpu")
SETTINGS = """\
[inputs]
every-stage = ["CMakeLists.txt", "cmake/"]
no-stage = ["docs/", "*.md", ".github/"]
"""
PUBLISHING = {"GITHUB_EVENT_NAME": "workflow_dispatch"}
PULL_REQUEST = {"GITHUB_EVENT_NAME": "pull_request"}


def sources(topology: Topology) -> dict[str, str]:
    """One file under every path prefix of the topology, the build files, docs."""
    files = {
        "BUILD_TOPOLOGY.toml": (REPO / "BUILD_TOPOLOGY.toml").read_text(encoding="utf-8"),
        "rockshard-pipeline.toml": SETTINGS,
        "CMakeLists.txt": "project(x)\n",
        "cmake/helpers.cmake": "# helpers\n",
        "README.md": "# readme\n",
        ".github/workflows/ci.yml": "name: ci\n",
    }
    for source_set in topology.source_sets.values():
        for prefix in source_set.path_prefixes:
            files[f"{prefix}/main.c"] = f"/* {source_set.name} */\n"
    return files


@dataclass
class Pipeline:
    """A temporary repository, one store, and fake runs of the pipeline over them."""

    repo: Path
    store: Store
    topology: Topology
    runs: list[str] = field(default_factory=list)

    def plan(self, run: str, mode: str = "auto", families: tuple[str, ...] = FAMILIES) -> CachePlan:
        config = parse_pipeline_config(SETTINGS, "rockshard-pipeline.toml")
        computer = key_computer(
            self.topology,
            LINUX,
            config,
            self.repo,
            self.repo / "BUILD_TOPOLOGY.toml",
            self.repo / "rockshard-pipeline.toml",
            {},
        )
        return plan_cache(computer, families, RunRef(self.store, run), mode=mode, jobs=4)

    def run(
        self,
        run: str,
        tmp: Path,
        *,
        environ: dict[str, str] = PUBLISHING,
        families: tuple[str, ...] = FAMILIES,
    ) -> tuple[CachePlan, list[dict[str, Any]]]:
        """The setup job, then every stage job left in the matrix, in build order."""
        plan = self.plan(run, families=families)
        target = RunRef(self.store, run)
        for job in queries.expand_jobs(self.topology, families, LINUX):
            if (job.stage, job.family) in plan.reused():
                continue
            stage_job = StageJob(self.topology, job.stage, LINUX, job.family)
            found, state = job_time_lookup(stage_job, target, mode="auto", environ=environ)
            if found.hit:
                continue
            build = tmp / run / f"{job.stage}-{job.family or 'generic'}"
            build_stage(build, self.topology, job.stage, job.family, LINUX)
            write_state(build, state)
            annotate = push_annotation(stage_job, target, build, mode="auto", environ=environ)
            push_stage(stage_job, target, build, annotate=annotate)
        self.runs.append(run)
        return plan, run_outcomes(target)


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.slow)], ids=["local", "s3"])
def pipeline(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Pipeline]:
    use_git_env(monkeypatch)
    topology = load_topology(REPO / "BUILD_TOPOLOGY.toml")
    repo = tmp_path / "repo"
    make_repo(repo, sources(topology))
    if request.param == "s3":
        url = str(request.getfixturevalue("s3_bucket"))
        endpoint = str(request.getfixturevalue("moto_endpoint"))
        store = open_store(url, local_default=tmp_path, endpoint_url=endpoint)
    else:
        store = open_store(str(tmp_path / "store"), local_default=tmp_path)
    yield Pipeline(repo, store, topology)


def outcomes(rows: list[dict[str, Any]]) -> dict[tuple[str, str], str]:
    return {(r["stage"], r["family"]): r["outcome"] for r in rows}


def test_cold_warm_leaf_change_and_cutoff(pipeline: Pipeline, tmp_path: Path) -> None:
    cold, rows = pipeline.run("r1-linux", tmp_path)
    jobs = {(j.stage, j.family) for j in queries.expand_jobs(pipeline.topology, FAMILIES, LINUX)}
    assert outcomes(rows) == dict.fromkeys(jobs, "built")
    assert {r["record"] for r in rows} == {"written"}
    assert all(j.reason == "no record of this job yet" for j in cold.jobs)

    warm, rows = pipeline.run("r2-linux", tmp_path)
    assert warm.reused() == jobs
    assert outcomes(rows) == dict.fromkeys(jobs, "reused")
    assert {r["source_run"] for r in rows} == {"r1-linux"}
    first = pipeline.store.listing("r1-linux")
    second = pipeline.store.listing("r2-linux")
    archives = {n: s for n, s in first.items() if ".tar." in n}
    assert {n: s for n, s in second.items() if ".tar." in n} == archives

    (pipeline.repo / "src/tools/main.c").write_text("/* tools v2 */\n", encoding="utf-8")
    commit_all(pipeline.repo, "tools change")
    leaf, rows = pipeline.run("r3-linux", tmp_path)
    assert outcomes(rows) == {job: "built" if job == ("tools", "") else "reused" for job in jobs}
    tools = leaf.job("tools", "")
    assert tools is not None and tools.reason.startswith("since ")
    assert "source:src/tools/" in tools.reason or "src/tools/: " in tools.reason, tools.reason

    # A comment in the first stage's source: its key changes (and, Merkle, every key below
    # it), but the fake build produces the same bytes, so every stage below is cut off.
    (pipeline.repo / "src/base/main.c").write_text("/* base */\n/* a comment */\n", "utf-8")
    commit_all(pipeline.repo, "comment")
    cut, rows = pipeline.run("r4-linux", tmp_path)
    assert cut.reused() == set()
    got = outcomes(rows)
    assert got.pop(("foundation", "")) == "built"
    assert set(got.values()) == {"cutoff"}
    for row in rows:
        if row["outcome"] == "cutoff":
            assert row["record"] == "written"
    # The cutoff jobs recorded themselves under their new static keys: the next run of this
    # commit reuses everything in its setup job.
    again, rows = pipeline.run("r5-linux", tmp_path)
    assert again.reused() == jobs


def test_ci_only_change_and_new_family(pipeline: Pipeline, tmp_path: Path) -> None:
    pipeline.run("r1-linux", tmp_path)
    (pipeline.repo / "README.md").write_text("# readme v2\n", encoding="utf-8")
    (pipeline.repo / ".github/workflows/ci.yml").write_text("name: ci2\n", encoding="utf-8")
    commit_all(pipeline.repo, "docs and ci")
    plan, _ = pipeline.run("r2-linux", tmp_path)
    assert len(plan.reused()) == len(plan.jobs) == 8
    more = (*FAMILIES, "gfx1151")
    plan, rows = pipeline.run("r3-linux", tmp_path, families=more)
    built = {job for job, outcome in outcomes(rows).items() if outcome == "built"}
    assert built == {("math-libs", "gfx1151"), ("ml-libs", "gfx1151")}


def test_a_pull_request_reads_but_writes_no_record(pipeline: Pipeline, tmp_path: Path) -> None:
    pipeline.run("r1-linux", tmp_path)
    before = {r.name for r in list_records(pipeline.store)}
    (pipeline.repo / "src/tools/main.c").write_text("/* from a pull request */\n", "utf-8")
    commit_all(pipeline.repo, "pr")
    plan, rows = pipeline.run("pr-linux", tmp_path, environ=PULL_REQUEST)
    assert len(plan.reused()) == 7
    (tools,) = [r for r in rows if r["stage"] == "tools"]
    assert tools["outcome"] == "built"
    assert tools["record"].startswith("not written: a ") and "pull request" in tools["record"]
    assert {r.name for r in list_records(pipeline.store)} == before


def test_a_damaged_record_is_a_miss_never_a_failure(pipeline: Pipeline, tmp_path: Path) -> None:
    cold, _ = pipeline.run("r1-linux", tmp_path)
    store = pipeline.store
    tools = cold.job("tools", "")
    ml = cold.job("ml-libs", FAMILIES[1])
    assert tools is not None and ml is not None
    tools_record = parse_record(
        store.read_text(CACHE_ROOT, record_name("tools", "", tools.key)) or ""
    )
    ml_record = parse_record(
        store.read_text(CACHE_ROOT, record_name("ml-libs", FAMILIES[1], ml.key)) or ""
    )
    gone = sorted(tools_record.archives)[0]
    store.delete("r1-linux", gone)
    bad = sorted(ml_record.archives)[-1]
    upload = store.begin_upload("r1-linux", bad)
    upload.file.write(b"\0" * ml_record.archives[bad].size)  # same size, other bytes
    upload.commit()
    found = lookup(store, "tools", "", tools.key)
    assert not found.hit and gone in found.reason and "is gone" in found.reason
    found = lookup(store, "ml-libs", FAMILIES[1], ml.key)
    assert not found.hit and "changed since the record was written" in found.reason
    plan, rows = pipeline.run("r2-linux", tmp_path)
    got = outcomes(rows)
    assert {job for job, outcome in got.items() if outcome == "built"} == {
        ("tools", ""),
        ("ml-libs", FAMILIES[1]),
    }
    assert "unusable" in (plan.job("tools", "") or tools).reason
    # Rebuilt and recorded again: the next run reuses them from r2.
    plan, rows = pipeline.run("r3-linux", tmp_path)
    assert set(outcomes(rows).values()) == {"reused"}
    assert {r["source_run"] for r in rows if r["stage"] == "tools"} == {"r2-linux"}


def test_malformed_and_foreign_records_are_misses(pipeline: Pipeline, tmp_path: Path) -> None:
    cold, _ = pipeline.run("r1-linux", tmp_path)
    store = pipeline.store
    tools = cold.job("tools", "")
    foundation = cold.job("foundation", "")
    assert tools is not None and foundation is not None
    store.write_text(CACHE_ROOT, record_name("tools", "", tools.key), "{not json")
    text = store.read_text(CACHE_ROOT, record_name("foundation", "", foundation.key)) or ""
    store.write_text(CACHE_ROOT, record_name("tools", "", foundation.key), text)
    assert "malformed" in lookup(store, "tools", "", tools.key).reason
    assert "for another key" in lookup(store, "tools", "", foundation.key).reason
    plan, rows = pipeline.run("r2-linux", tmp_path)
    # The setup job missed on the static key; at job time its content key (intact) hit.
    assert "malformed" in (plan.job("tools", "") or tools).reason
    assert outcomes(rows)[("tools", "")] == "cutoff"


def test_no_permission_to_write_records(pipeline: Pipeline, tmp_path: Path) -> None:
    if pipeline.store.local_path("x", "y") is None:
        pytest.skip("a local store: the cache folder is made unwritable")
    root = Path(pipeline.store.location(CACHE_ROOT))
    root.parent.mkdir(parents=True, exist_ok=True)
    root.write_text("not a folder\n", encoding="utf-8")  # nothing can be written below it
    _plan, rows = pipeline.run("r1-linux", tmp_path)
    assert {r["outcome"] for r in rows} == {"built"}
    for row in rows:
        assert row["record"].startswith("not written: the store refused it"), row
    assert "archives" in json.loads(
        pipeline.store.read_text("r1-linux", "rockshard-shard_tools_generic.json") or "{}"
    )


def test_records_name_both_keys_and_the_latest(pipeline: Pipeline, tmp_path: Path) -> None:
    cold, _ = pipeline.run("r1-linux", tmp_path)
    names = {r.name: r for r in list_records(pipeline.store, "tools")}
    tools = cold.job("tools", "")
    assert tools is not None
    record = parse_record(
        pipeline.store.read_text(CACHE_ROOT, record_name("tools", "", tools.key)) or ""
    )
    assert set(names) == {
        record_name("tools", "", record.key),
        record_name("tools", "", record.content_key),
        record_name("tools", "", LATEST),
    }
    assert record.run == "r1-linux" and record.commit == cold.commit
    assert record.inputs == dict(tools.inputs)
    assert all(a.fingerprint for a in record.archives.values())
    assert set(record.inbound) and all(".tar." in n for n in record.inbound)


def test_reuse_on_s3_is_a_server_side_copy(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    s3_bucket: str,
    moto_endpoint: str,
) -> None:
    """In the default suite (the other S3 variants are slow): a hit on S3 moves no byte
    through the runner."""
    use_git_env(monkeypatch)
    topology = load_topology(REPO / "BUILD_TOPOLOGY.toml")
    make_repo(tmp_path / "repo", sources(topology))
    store = open_store(s3_bucket, local_default=tmp_path, endpoint_url=moto_endpoint)
    pipeline = Pipeline(tmp_path / "repo", store, topology)
    pipeline.run("r1-linux", tmp_path, families=FAMILIES[:1])
    calls: list[tuple[str, str]] = []

    def record(params: Any, model: Any, **_: Any) -> None:
        calls.append((str(model.name), str(params.get("Key", ""))))

    client = store.client  # type: ignore[attr-defined]
    client.meta.events.register("before-parameter-build.s3.*", record)
    plan = pipeline.plan("r2-linux", families=FAMILIES[:1])
    assert len(plan.reused()) == len(plan.jobs) == 6
    copies = [key for op, key in calls if op in ("CopyObject", "UploadPartCopy")]
    archives = [
        n for n in store.listing("r2-linux") if ".tar." in n and not n.endswith(".sha256sum")
    ]
    assert archives and sorted({k.rsplit("/", 1)[1] for k in copies}) == sorted(archives)
    moved = [
        key
        for op, key in calls
        if op in ("GetObject", "PutObject", "CreateMultipartUpload", "UploadPart")
        and key.endswith((".tar.zst", ".tar.xz"))
    ]
    assert moved == []
