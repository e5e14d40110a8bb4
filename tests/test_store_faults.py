"""The S3 store through a fault-injecting proxy (tests/fault_proxy.py) in front of moto_server.

For each fault kind, a multi-archive stage (one archive large enough to go multipart) is pushed
and fetched through the proxy; the archives' digests and the fetched tree must equal those of a
clean run through a local store. Permanent faults must fail with one clear error and leave
nothing a reader takes for data; a clean re-run then repairs. A soak test runs many seeded
mixed schedules (marked slow; the default suite runs a few).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from action_lib.artifacts.fetch import FetchOptions, fetch
from action_lib.artifacts.plan import present
from action_lib.artifacts.push import Moved, find_artifact_dirs, push
from action_lib.edges.retry import Budget, RetryEvent, RetryPolicy
from action_lib.errors import OperationError
from action_lib.stores.base import Store
from action_lib.stores.local import LocalStore
from action_lib.stores.s3 import MB, S3Store
from action_lib.topology import Conditions, load_topology
from tests.artifact_helpers import build_stage, stage_dir_of, tree
from tests.fault_proxy import KINDS, FaultProxy, Schedule, running

pytestmark = pytest.mark.integration

FAST = RetryPolicy(
    {
        "throttled": Budget(12, 20.0),
        "server": Budget(12, 20.0),
        "connection": Budget(12, 20.0),
        "refused": Budget(2, 1.0),
        "dns": Budget(2, 1.0),
    },
    base=0.01,
    cap=0.1,
)
SOAK_SEEDS = int(os.environ.get("ROCKSHARD_SOAK_SEEDS", "200"))


@dataclass(frozen=True)
class Reference:
    """A stage built once, pushed and fetched cleanly through a local store."""

    build: Path
    dirs: list[tuple[object, Path]]
    digests: dict[str, str]
    fetched: dict[str, str]


@pytest.fixture(scope="module")
def reference(repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Reference:
    topology = load_topology(repo_root / "BUILD_TOPOLOGY.toml")
    root = tmp_path_factory.mktemp("faults")
    build = root / "build"
    build_stage(build, topology, "foundation")
    big = build / "artifacts" / "base_lib_generic" / stage_dir_of(topology, "base") / "lib"
    (big / "big.so").write_bytes(os.urandom(11 * MB + 12345))  # multipart: three parts
    from action_lib.artifacts.plan import push_plan

    wanted = push_plan(topology, "foundation", Conditions("linux"), ())
    dirs = find_artifact_dirs(build / "artifacts", wanted)
    store = LocalStore(root / "clean-store")
    moved = push(store, "1-linux", dirs, jobs=2)
    out = root / "clean-out"
    _fetch(store, "1-linux", out)
    return Reference(build, dirs, _digests(moved), tree(out))  # type: ignore[arg-type]


def _digests(moved: list[Moved]) -> dict[str, str]:
    return {m.filename: m.digest for m in moved}


def _fetch(store: Store, run: str, out: Path) -> None:
    remotes = list(present(store.listing(run)).values())
    assert remotes
    fetch(store, run, remotes, out, FetchOptions(layout="bootstrap", jobs=2))


@pytest.fixture(scope="module")
def proxy(moto_endpoint: str) -> Iterator[FaultProxy]:
    yield from running(moto_endpoint)


def _store(
    bucket: str, proxy: FaultProxy, notes: list[str] | None = None, **options: object
) -> S3Store:
    settings: dict[str, object] = {
        "endpoint_url": proxy.url,
        "jobs": 2,
        "retry_policy": FAST,
        "multipart_threshold": 5 * MB,
        "min_part": 5 * MB,
        "read_timeout": 1.0,
        "connect_timeout": 1.0,
        "on_notice": None if notes is None else notes.append,
    }
    return S3Store(bucket, **{**settings, **options})  # type: ignore[arg-type]


def _round_trip(
    reference: Reference, bucket: str, proxy: FaultProxy, run: str, tmp: Path, **options: object
) -> list[RetryEvent]:
    retries: list[RetryEvent] = []
    store = _store(bucket, proxy, None, on_retry=retries.append, **options)
    moved = push(store, run, reference.dirs, jobs=2)  # type: ignore[arg-type]
    assert _digests(moved) == reference.digests
    out = tmp / f"out-{run}"
    _fetch(store, run, out)
    assert tree(out) == reference.fetched
    return retries


@pytest.mark.parametrize("kind", KINDS)
def test_each_fault_kind_is_survived_byte_identical(
    kind: str, reference: Reference, s3_bucket: str, proxy: FaultProxy, tmp_path: Path
) -> None:
    delay = 1.5 if kind == "delay" else 0.3  # beyond the 1 s read timeout: a timeout
    rate = 0.3 if kind == "delay" else 1.0
    proxy.reset(Schedule(kinds=(kind,), rate=rate, seed=3, per_request=1, delay=delay))
    retries = _round_trip(reference, s3_bucket, proxy, "1-linux", tmp_path)
    assert {k for k, _, _ in proxy.injected} == {kind}
    if kind != "drop-part":  # a lost part is found by ListParts, not retried
        assert retries, "faults were injected but nothing was retried"


def test_server_ignoring_conditional_writes_is_detected(
    reference: Reference, s3_bucket: str, proxy: FaultProxy, tmp_path: Path
) -> None:
    proxy.reset(Schedule(rate=0.0, strip_conditions=True))
    notes: list[str] = []
    store = _store(s3_bucket, proxy, notes)
    assert not store.conditional_writes
    assert notes and "ignores conditional writes (If-None-Match: *)" in notes[0]
    moved = push(store, "1-linux", reference.dirs, jobs=2)  # type: ignore[arg-type]
    assert _digests(moved) == reference.digests
    again = push(store, "1-linux", reference.dirs, jobs=2)  # type: ignore[arg-type]
    assert {m.status for m in again} == {"unchanged"}


def _is_sidecar_put(method: str, path: str, query: dict[str, list[str]]) -> bool:
    return method == "PUT" and path.endswith(".sha256sum")


def _is_archive_get(method: str, path: str, query: dict[str, list[str]]) -> bool:
    return method == "GET" and path.endswith(".tar.zst") and "list-type" not in query


def test_permanent_fault_fails_cleanly_and_a_rerun_repairs(
    reference: Reference, s3_bucket: str, proxy: FaultProxy, tmp_path: Path
) -> None:
    proxy.reset(Schedule(kinds=("500",), rate=1.0, per_request=10**6, only=_is_sidecar_put))
    store = _store(s3_bucket, proxy, retry_policy=RetryPolicy({"server": Budget(3, 5.0)}))
    with pytest.raises(OperationError) as failed:
        push(store, "1-linux", reference.dirs, jobs=2)  # type: ignore[arg-type]
    lines = failed.value.lines()
    assert len(lines) == len(reference.digests)  # one line per archive, each naming it
    for line in lines:
        assert line.startswith(f"{s3_bucket}: writing {s3_bucket}/1-linux/")
        assert "gave up after 3 attempt(s)" in line and "(server)" in line
    listing = store.listing("1-linux")
    assert any(n.endswith(".tar.zst") for n in listing)  # archives written ...
    assert present(listing) == {}  # ... but none published: readers see nothing
    proxy.reset(Schedule(rate=0.0))
    _round_trip(reference, s3_bucket, proxy, "1-linux", tmp_path)


def test_permanent_download_fault_leaves_no_marker(
    reference: Reference, s3_bucket: str, proxy: FaultProxy, tmp_path: Path
) -> None:
    proxy.reset(Schedule(rate=0.0))
    store = _store(s3_bucket, proxy, retry_policy=RetryPolicy({"default": Budget(2, 5.0)}))
    push(store, "1-linux", reference.dirs, jobs=2)  # type: ignore[arg-type]
    proxy.reset(Schedule(kinds=("truncate",), rate=1.0, per_request=10**6, only=_is_archive_get))
    out = tmp_path / "out"
    with pytest.raises(OperationError) as failed:
        _fetch(store, "1-linux", out)
    assert "gave up after 2 attempt(s)" in failed.value.lines()[0]
    assert not list(out.rglob("*.prebuilt"))
    proxy.reset(Schedule(rate=0.0))
    _fetch(store, "1-linux", out)
    assert tree(out) == reference.fetched


def _soak(seed: int, reference: Reference, bucket: str, proxy: FaultProxy, tmp: Path) -> None:
    proxy.reset(Schedule(rate=0.15, seed=seed, per_request=2, delay=1.2))
    _round_trip(reference, bucket, proxy, f"{seed}-linux", tmp)


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_mixed_fault_schedules(
    seed: int, reference: Reference, s3_bucket: str, proxy: FaultProxy, tmp_path: Path
) -> None:
    _soak(seed, reference, s3_bucket, proxy, tmp_path)


@pytest.mark.slow
def test_soak_many_fault_schedules(
    reference: Reference, s3_bucket: str, proxy: FaultProxy, tmp_path: Path
) -> None:
    failures: list[str] = []
    for seed in range(1000, 1000 + SOAK_SEEDS):
        try:
            _soak(seed, reference, s3_bucket, proxy, tmp_path)
        except (AssertionError, OperationError) as exc:
            failures.append(f"seed {seed}: {exc}")
    assert not failures, f"{len(failures)} of {SOAK_SEEDS} schedules failed: {failures[:5]}"
