"""Issue 12's proof: the generated Linux pipeline, replayed with act in a temporary clone of
this repository, with one local store shared by every replay, builds only what changed.

One module-scoped fixture runs the replays in sequence (they build on each other's records):

1. cold: every stage built, records written;
2. the same commit again: nothing built, the product byte-identical to the cold one;
3. a CI-only change (README, .github/): no key changes, nothing built;
4. a source change in the leaf stage tools: only tools built; the product equals a monolithic
   build of the changed tree;
5. a comment appended to a C source of the first stage: it rebuilds, every stage below is cut
   off (its inbound archives are byte-identical);
6. one record's archive deleted, another's corrupted: those two stages are built, nothing fails;
7. a pull request adding a GPU family: exactly the new family's jobs are built, no record is
   written.

The same story on S3 (the loopback moto server, where every reuse is a server-side copy) is
marked slow; tests/test_cache_flow.py checks the server-side copy in the default suite.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from action_lib.stores.base import Store, open_store
from tests.fixtures.gitrepos import GIT_ENV, snapshot_checkout
from tests.replay_helpers import REPO, require_act, rockshard, tool_env, tree
from tests.s3_server import FAKE_CREDENTIALS

pytestmark = [pytest.mark.integration, pytest.mark.act]

FAMILIES = ("gfx110X-all", "gfx94X-dcgpu")
ALL_JOBS = {
    ("foundation", ""),
    ("compiler-runtime", ""),
    ("comm-libs", ""),
    ("tools", ""),
    *((stage, f) for stage in ("math-libs", "ml-libs") for f in FAMILIES),
}


@dataclass
class Replayed:
    """One replay: its JSON summary, and where its product is."""

    name: str
    data: dict[str, Any]
    workdir: Path
    log: str

    @property
    def outcomes(self) -> dict[tuple[str, str], str]:
        """(stage, family) -> built | reused | cutoff."""
        return {(s["stage"], s["family"]): s["outcome"] for s in self.data["stages"]}

    def built(self) -> set[tuple[str, str]]:
        """The stage jobs that built their stage."""
        return {job for job, outcome in self.outcomes.items() if outcome == "built"}

    def stage_jobs_run(self) -> set[tuple[str, str]]:
        """The wave jobs that started (a reused stage starts none)."""
        return {
            (j["stage"], j["family"])
            for j in self.data["jobs"]
            if j["stage"] and j["result"] != "skipped"
        }

    @property
    def dist(self) -> Path:
        """The assembled product."""
        return self.workdir / "product" / "dist"


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=tool_env(GIT_ENV), capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def commit(clone: Path, message: str) -> None:
    git(clone, "add", "-A")
    git(clone, "commit", "-q", "-m", message)


@dataclass
class Where:
    """The store every replay of a story shares: its --store value, endpoint, environment."""

    url: str
    endpoint: str = ""
    env: dict[str, str] = field(default_factory=dict)

    def open(self) -> Store:
        return open_store(self.url, local_default=Path(), endpoint_url=self.endpoint or None)


def run_replay(
    clone: Path,
    root: Path,
    where: Where,
    name: str,
    *,
    families: tuple[str, ...] = FAMILIES,
    event: str = "workflow_dispatch",
) -> Replayed:
    workdir = root / name
    extra = ["--endpoint-url", where.endpoint] if where.endpoint else []
    done = rockshard(
        "replay",
        "--platform",
        "linux",
        "--amdgpu-families",
        ",".join(families),
        "--repo",
        clone,
        "--workdir",
        workdir,
        "--store",
        where.url,
        "--run-id",
        name,
        "--event",
        event,
        "--format",
        "json",
        *extra,
        env=where.env,
        timeout=1200,
    )
    log = done.stdout[-3000:] + done.stderr[-5000:]
    assert done.returncode == 0, log
    return Replayed(name, json.loads(done.stdout), workdir, log)


def monolithic(clone: Path, build: Path) -> Path:
    """The whole super-build of ``clone`` in one build dir; returns its dist/."""
    env = tool_env()
    cmake = shutil.which("cmake", path=env["PATH"])
    assert cmake is not None
    configure = [
        *("-S", str(clone), "-B", str(build), "-G", "Ninja"),
        f"-DROCKSHARD_AMDGPU_FAMILIES={';'.join(FAMILIES)}",
        f"-DROCKSHARD_PYTHON={sys.executable}",
    ]
    for args in (
        configure,
        ["--build", str(build)],
    ):
        done = subprocess.run(
            [cmake, *args], env=env, capture_output=True, text=True, timeout=900, check=False
        )
        assert done.returncode == 0, (done.stdout + done.stderr)[-6000:]
    return build / "dist"


def record_names(store: Store) -> set[str]:
    return set(store.listing("cache"))


@dataclass
class Story:
    """Every replay of the proof, the clone and the store they shared."""

    clone: Path
    where: Where
    replays: dict[str, Replayed]
    mono_dist: Path
    records_before_pr: set[str]
    records_after_pr: set[str]
    damaged: dict[str, str]


def tell(root: Path, where: Where) -> Story:
    """Run every replay of the proof in one clone against one store."""
    clone = snapshot_checkout(REPO, root / "clone")
    replays: dict[str, Replayed] = {}
    store = where.open()

    def replay(name: str, **options: Any) -> None:
        replays[name] = run_replay(clone, root, where, name, **options)

    replay("cold")
    replay("same")
    readme = clone / "README.md"
    readme.write_text(readme.read_text(encoding="utf-8") + "\nA line for the cache test.\n")
    workflow = clone / ".github" / "workflows" / "rockshard-linux.yml"
    workflow.write_text(workflow.read_text(encoding="utf-8") + "# a comment\n")
    commit(clone, "CI-only change")
    replay("ci-only")
    smi = clone / "src" / "tools" / "smi" / "src" / "smi.c"
    text = smi.read_text(encoding="utf-8")
    assert "end of rs-smi" in text
    smi.write_text(text.replace("end of rs-smi", "end of the rs-smi report"), encoding="utf-8")
    commit(clone, "leaf change")
    replay("leaf")
    mono_dist = monolithic(clone, root / "mono")
    crc = clone / "src" / "third-party" / "sysdeps" / "src" / "crc32.c"
    crc.write_text(crc.read_text(encoding="utf-8") + "/* a comment at the end */\n")
    commit(clone, "comment in the first stage")
    replay("comment")
    # Damage two records of this commit: delete one archive, overwrite another (same size).
    damaged: dict[str, str] = {}
    for stage, family, how in (("tools", "", "delete"), ("ml-libs", FAMILIES[1], "corrupt")):
        latest = json.loads(
            store.read_text("cache", f"{stage}_{family or 'generic'}_latest.json") or ""
        )
        # An archive of this job only: a generic half is named by the other family's record too.
        own = [n for n in sorted(latest["archives"]) if family and n.endswith(f"_{family}.tar.zst")]
        name = (own or sorted(latest["archives"]))[0]
        if how == "delete":
            store.delete(latest["run"], name)
        else:
            size = int(latest["archives"][name]["size"])
            store.delete(latest["run"], name)  # other runs' hard links keep their bytes
            upload = store.begin_upload(latest["run"], name)
            upload.file.write(b"\0" * size)
            upload.commit()
        damaged[f"{stage}[{family}]" if family else stage] = name
    replay("damaged")
    before = record_names(store)
    replay("pull-request", families=(*FAMILIES, "gfx1151"), event="pull_request")
    return Story(clone, where, replays, mono_dist, before, record_names(store), damaged)


@pytest.fixture(
    scope="module",
    params=["local", pytest.param("s3", marks=pytest.mark.slow)],
)
def story(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Story]:
    require_act()
    root = tmp_path_factory.mktemp(f"cache-replay-{request.param}")
    if request.param == "local":
        yield tell(root, Where(str(root / "store")))
        return
    import boto3

    endpoint = str(request.getfixturevalue("moto_endpoint"))
    env = {
        **FAKE_CREDENTIALS,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        bucket = f"rockshard-{uuid.uuid4().hex[:12]}"
        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(
            Bucket=bucket
        )
        yield tell(root, Where(f"s3://{bucket}/ci", endpoint, env))


def test_cold_replay_builds_every_stage_and_records_it(story: Story) -> None:
    cold = story.replays["cold"]
    assert cold.outcomes == dict.fromkeys(ALL_JOBS, "built")
    assert cold.stage_jobs_run() == ALL_JOBS
    assert {s["record"] for s in cold.data["stages"]} == {"written"}
    assert all(s["reason"] == "no record of this job yet" for s in cold.data["stages"])


def test_the_same_commit_again_builds_nothing(story: Story) -> None:
    cold, same = story.replays["cold"], story.replays["same"]
    assert same.outcomes == dict.fromkeys(ALL_JOBS, "reused")
    assert same.stage_jobs_run() == set()  # no wave job started
    assert {s["source_run"] for s in same.data["stages"]} == {"cold-linux"}
    assert tree(same.dist) == tree(cold.dist)


def test_a_ci_only_change_changes_no_key(story: Story) -> None:
    same, ci = story.replays["same"], story.replays["ci-only"]
    assert ci.built() == set() and ci.stage_jobs_run() == set()
    assert {s["key"] for s in ci.data["stages"]} == {s["key"] for s in same.data["stages"]}


def test_a_leaf_change_builds_only_that_stage(story: Story) -> None:
    leaf = story.replays["leaf"]
    assert leaf.built() == {("tools", "")}
    assert leaf.stage_jobs_run() == {("tools", "")}
    (tools,) = [s for s in leaf.data["stages"] if s["stage"] == "tools"]
    assert "src/tools/" in tools["reason"], tools
    sharded, whole = tree(leaf.dist), tree(story.mono_dist)
    assert sorted(sharded) == sorted(whole)
    assert [p for p in sorted(whole) if sharded[p] != whole[p]] == []
    assert tree(leaf.dist) != tree(story.replays["cold"].dist)


def test_a_comment_in_the_first_stage_cuts_off_everything_below(story: Story) -> None:
    comment = story.replays["comment"]
    got = dict(comment.outcomes)
    assert got.pop(("foundation", "")) == "built"
    assert set(got.values()) == {"cutoff"}
    assert comment.stage_jobs_run() == ALL_JOBS  # static keys missed: every job started...
    for stage in comment.data["stages"]:
        if stage["outcome"] == "cutoff":  # ...but found its inbound bytes unchanged
            assert stage["source_run"] in ("cold-linux", "leaf-linux"), stage
            assert stage["record"] == "written"
    assert tree(comment.dist) == tree(story.replays["leaf"].dist)


def test_damaged_records_are_misses_never_failures(story: Story) -> None:
    damaged = story.replays["damaged"]
    assert damaged.built() == {("tools", ""), ("ml-libs", FAMILIES[1])}
    reasons = {s["stage"]: s["reason"] for s in damaged.data["stages"] if s["outcome"] == "built"}
    assert "is gone" in reasons["tools"], reasons
    assert "changed since the record was written" in reasons["ml-libs"], reasons
    assert tree(damaged.dist) == tree(story.replays["comment"].dist)


def test_a_pull_request_builds_the_new_family_and_writes_no_record(story: Story) -> None:
    pr = story.replays["pull-request"]
    new = {("math-libs", "gfx1151"), ("ml-libs", "gfx1151")}
    assert pr.built() == new
    assert pr.stage_jobs_run() == new
    for stage in pr.data["stages"]:
        if stage["outcome"] == "built":
            assert stage["record"].startswith("not written: ") and "pull request" in stage["record"]
    assert story.records_after_pr == story.records_before_pr
