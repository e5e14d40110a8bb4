"""The pipeline's convergence check over shard records, on a real local store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from action_lib.errors import OperationError
from action_lib.jobs.convergence import check_convergence
from action_lib.jobs.stage_artifacts import shard_record_name
from action_lib.stores.local import LocalStore

RUN = "r1-linux"
ARCHIVE = "blas_lib_generic.tar.zst"
DIGEST_A = "a" * 64
DIGEST_B = "b" * 64


def record(store: LocalStore, stage: str, family: str, archives: dict[str, str]) -> None:
    body = {"stage": stage, "family": family, "archives": archives}
    store.write_text(RUN, shard_record_name(stage, family), json.dumps(body))


def publish(store: LocalStore, name: str, digest: str) -> None:
    store.write_text(RUN, name, "archive bytes")
    store.write_text(RUN, name + ".sha256sum", digest + "\n")


def test_identical_generic_halves_converge(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    publish(store, ARCHIVE, DIGEST_A)
    record(
        store,
        "math-libs",
        "gfx110X-all",
        {ARCHIVE: DIGEST_A, "blas_lib_gfx110X-all.tar.zst": "c" * 64},
    )
    record(
        store,
        "math-libs",
        "gfx94X-dcgpu",
        {ARCHIVE: DIGEST_A, "blas_lib_gfx94X-dcgpu.tar.zst": "d" * 64},
    )
    result = check_convergence(store, RUN)
    assert (result.shards, result.shared_archives) == (2, 1)


def test_differing_generic_halves_name_both_shards_and_digests(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    publish(store, ARCHIVE, DIGEST_A)
    record(store, "math-libs", "gfx110X-all", {ARCHIVE: DIGEST_A})
    record(store, "math-libs", "gfx94X-dcgpu", {ARCHIVE: DIGEST_B})
    with pytest.raises(OperationError) as info:
        check_convergence(store, RUN)
    message = str(info.value)
    assert "math-libs[gfx110X-all]" in message and "math-libs[gfx94X-dcgpu]" in message
    assert DIGEST_A in message and DIGEST_B in message


def test_store_sidecar_must_match_the_shards(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    publish(store, ARCHIVE, DIGEST_B)
    record(store, "math-libs", "gfx110X-all", {ARCHIVE: DIGEST_A})
    record(store, "math-libs", "gfx94X-dcgpu", {ARCHIVE: DIGEST_A})
    with pytest.raises(OperationError, match=f"the store holds {DIGEST_B}"):
        check_convergence(store, RUN)


def test_a_shared_archive_missing_from_the_store(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    record(store, "math-libs", "gfx110X-all", {ARCHIVE: DIGEST_A})
    record(store, "math-libs", "gfx94X-dcgpu", {ARCHIVE: DIGEST_A})
    with pytest.raises(OperationError, match="absent from the store"):
        check_convergence(store, RUN)
