"""Same-name races and kill -9 at random moments, on a local store and on S3 (moto).

- Two processes publish one name at the same instant: identical content, both succeed;
  different content, exactly one fails, naming both digests, and the store stays consistent.
- A push or fetch killed with SIGKILL at a random moment leaves nothing a reader takes for data
  (every published archive matches its sidecar; every ``.prebuilt`` marker's stage dir is
  complete), and a re-run completes and verifies. The default suite kills a few times; the
  ``slow`` variants 50 times each.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from action_lib.artifacts.fetch import FetchOptions, fetch
from action_lib.artifacts.plan import present, push_plan
from action_lib.artifacts.push import find_artifact_dirs, publish, push, stored_digest
from action_lib.cli.main import main
from action_lib.errors import OperationError
from action_lib.stores.base import Store
from action_lib.stores.local import TEMP_MARK, LocalStore
from action_lib.topology import Conditions, load_topology
from tests.artifact_helpers import build_stage, stage_dir_of, tree
from tests.kill_child import open_test_store

pytestmark = pytest.mark.skipif(
    sys.platform == "win32" or "fork" not in multiprocessing.get_all_start_methods(),
    reason="forks processes and sends SIGKILL",
)
RACES = int(os.environ.get("ROCKSHARD_RACES", "50"))  # the slow variant; the default runs 8


def _publisher(
    url: str, endpoint: str | None, name: str, data: bytes, barrier: object, out: object
) -> None:
    store = open_test_store(url, endpoint)
    upload = store.begin_upload("race-linux", name)
    upload.file.write(data)
    digest = hashlib.sha256(data).hexdigest()
    barrier.wait()  # type: ignore[attr-defined]
    try:
        status = publish(store, "race-linux", name, upload, digest, grace=30)
        out.put((digest, "ok", status))  # type: ignore[attr-defined]
    except OperationError as exc:
        upload.abort()
        out.put((digest, "failed", str(exc)))  # type: ignore[attr-defined]


def _race(store_url: str, endpoint: str | None, name: str, contents: tuple[bytes, bytes]) -> list:  # type: ignore[type-arg]
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(2)
    out = ctx.Queue()
    procs = [
        ctx.Process(target=_publisher, args=(store_url, endpoint, name, data, barrier, out))
        for data in contents
    ]
    for proc in procs:
        proc.start()
    results = sorted(out.get(timeout=120) for _ in procs)
    for proc in procs:
        proc.join(timeout=60)
        assert proc.exitcode == 0
    return results


def _races(count: int, same: bool, store_url: str, endpoint: str | None, store: Store) -> None:
    for i in range(count):
        name = f"r{i}_lib_generic.tar.zst"
        a = os.urandom(2000 + i)
        b = a if same else os.urandom(2000 + i)
        results = _race(store_url, endpoint, name, (a, b))
        stored = (store.read_text("race-linux", name + ".sha256sum") or "").strip()
        assert stored_digest(store, "race-linux", name) == stored  # consistent
        if same:
            assert [r[1] for r in results] == ["ok", "ok"], results
            assert {r[2] for r in results} <= {"uploaded", "unchanged"}
            assert stored == hashlib.sha256(a).hexdigest()
        else:
            verdicts = sorted(r[1] for r in results)
            assert verdicts == ["failed", "ok"], f"race {i}: {results}"
            winner = next(r for r in results if r[1] == "ok")
            loser = next(r for r in results if r[1] == "failed")
            assert stored == winner[0]
            assert f"stored sha256 {winner[0]}, new sha256 {loser[0]}" in loser[2]


@pytest.mark.parametrize("same", [True, False], ids=["identical", "different"])
def test_same_name_races(
    same: bool, store_url: str, endpoint: str | None, make_store: Callable[..., Store]
) -> None:
    _races(8, same, store_url, endpoint, make_store())


@pytest.mark.slow
@pytest.mark.parametrize("same", [True, False], ids=["identical", "different"])
def test_same_name_races_50_times(
    same: bool, store_url: str, endpoint: str | None, make_store: Callable[..., Store]
) -> None:
    _races(RACES, same, store_url, endpoint, make_store())


@dataclass(frozen=True)
class Stage:
    """A built stage, its reference digests and fetched tree, and the directory list file."""

    work: Path
    dirs: list[tuple[object, Path]]
    digests: dict[str, str]
    fetched: dict[str, str]


@pytest.fixture(scope="module")
def stage(repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Stage:
    topology = load_topology(repo_root / "BUILD_TOPOLOGY.toml")
    work = tmp_path_factory.mktemp("kill")
    build = work / "build"
    build_stage(build, topology, "foundation")
    lib = build / "artifacts" / "base_lib_generic" / stage_dir_of(topology, "base") / "lib"
    (lib / "big.so").write_bytes(os.urandom(16 << 20))
    data = lib / "data"
    data.mkdir()
    for n in range(300):  # many small files: an extraction takes a while
        (data / f"f{n:03d}.txt").write_bytes(os.urandom(n * 10))
    dirs = find_artifact_dirs(
        build / "artifacts", push_plan(topology, "foundation", Conditions("linux"), ())
    )
    (work / "dirs.json").write_text(json.dumps([[n.stem, str(p)] for n, p in dirs]))
    clean = LocalStore(work / "clean")
    moved = push(clean, "1-linux", dirs, jobs=2)
    out = work / "clean-out"
    fetch(
        clean,
        "1-linux",
        list(present(clean.listing("1-linux")).values()),
        out,
        FetchOptions(layout="bootstrap", jobs=2),
    )
    return Stage(work, dirs, {m.filename: m.digest for m in moved}, tree(out))  # type: ignore[arg-type]


def _child(verb: str, url: str, run: str, directory: Path, endpoint: str | None) -> list[str]:
    argv = [sys.executable, "-m", "tests.kill_child", verb, url, run, str(directory)]
    return argv + ([endpoint] if endpoint else [])


def _killed(argv: list[str], cwd: Path, at: float) -> bool:
    """Run, SIGKILL after ``at`` seconds; True when it was killed before finishing."""
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _, err = proc.communicate(timeout=at)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        return True
    assert proc.returncode == 0, err.decode()[-2000:]
    return False


def _timed(argv: list[str], cwd: Path) -> float:
    start = time.monotonic()
    assert not _killed(argv, cwd, 300)
    return time.monotonic() - start


def _published_archives_match(store: Store, run: str, stage: Stage) -> None:
    for remote in present(store.listing(run)).values():
        side = (store.read_text(run, remote.filename + ".sha256sum") or "").strip()
        assert side == stage.digests[remote.filename]
        assert stored_digest(store, run, remote.filename) == side


def _markers_complete(out: Path, stage: Stage) -> None:
    now = tree(out) if out.exists() else {}
    for marker in [p for p in now if p.endswith(".prebuilt")]:
        prefix = marker[: -len(".prebuilt")] + "/"
        want = {k: v for k, v in stage.fetched.items() if k.startswith(prefix)}
        assert {k: v for k, v in now.items() if k.startswith(prefix)} == want, marker


def _kill_runs(
    count: int,
    stage: Stage,
    store_url: str,
    endpoint: str | None,
    make_store: Callable[..., Store],
    repo_root: Path,
    tmp_path: Path,
    cli_args: list[str],
) -> None:
    rng = random.Random(count)
    store = open_test_store(store_url, endpoint)
    push_time = _timed(_child("push", store_url, "t-linux", stage.work, endpoint), repo_root)
    fetch_time = _timed(
        _child("fetch", store_url, "t-linux", tmp_path / "t-out", endpoint), repo_root
    )
    kills = 0
    for i in range(count):
        run = f"k{i}-linux"
        at = rng.uniform(0.0, push_time)
        kills += _killed(_child("push", store_url, run, stage.work, endpoint), repo_root, at)
        _published_archives_match(store, run, stage)
        moved = push(store, run, stage.dirs, jobs=2)  # type: ignore[arg-type]
        assert {m.filename: m.digest for m in moved} == stage.digests
        if isinstance(store, LocalStore):  # the re-run removed what the dead one left
            assert not [p for p in (store.root / run).iterdir() if TEMP_MARK in p.name]
    for i in range(count):
        out = tmp_path / f"out{i}"
        at = rng.uniform(0.0, fetch_time)
        kills += _killed(_child("fetch", store_url, "t-linux", out, endpoint), repo_root, at)
        _markers_complete(out, stage)
        fetch(
            store,
            "t-linux",
            list(present(store.listing("t-linux")).values()),
            out,
            FetchOptions(layout="bootstrap", jobs=2),
        )
        assert tree(out) == stage.fetched
    assert kills >= count  # most runs were interrupted
    assert main(["artifacts", "gc", "--all-runs", "--older-than", "0", *cli_args]) == 0
    assert not store.gc(None, 0)


def _cli_args(store_url: str, endpoint: str | None) -> list[str]:
    return ["--store", store_url] + (["--endpoint-url", endpoint] if endpoint else [])


def test_kill_push_and_fetch_at_random_moments(
    stage: Stage,
    store_url: str,
    endpoint: str | None,
    make_store: Callable[..., Store],
    repo_root: Path,
    tmp_path: Path,
) -> None:
    _kill_runs(
        3,
        stage,
        store_url,
        endpoint,
        make_store,
        repo_root,
        tmp_path,
        _cli_args(store_url, endpoint),
    )


@pytest.mark.slow
def test_kill_push_and_fetch_50_times(
    stage: Stage,
    store_url: str,
    endpoint: str | None,
    make_store: Callable[..., Store],
    repo_root: Path,
    tmp_path: Path,
) -> None:
    _kill_runs(
        50,
        stage,
        store_url,
        endpoint,
        make_store,
        repo_root,
        tmp_path,
        _cli_args(store_url, endpoint),
    )
