"""When generic halves differ, the refusal and the convergence check name the files; the
product is kept in the store."""

from __future__ import annotations

import hashlib
import json
import tarfile
from pathlib import Path

import pytest
import zstandard

from action_lib.artifacts.compare import archive_contents, directory_contents
from action_lib.artifacts.dist import DistResult
from action_lib.artifacts.fetch import FetchResult
from action_lib.errors import OperationError
from action_lib.jobs.assemble import Product, keep_product
from action_lib.jobs.convergence import Convergence, check_convergence
from action_lib.jobs.model import RunRef, StageJob
from action_lib.jobs.stage_artifacts import push_stage, shard_record_name
from action_lib.stores.local import LocalStore
from action_lib.topology import Conditions, Topology, load_topology
from tests.artifact_helpers import build_stage, stage_dir_of

RUN = "9-linux"
FAMILIES = ("gfx110X-all", "gfx94X-dcgpu")


@pytest.fixture(scope="module")
def topology(repo_root: Path) -> Topology:
    loaded: Topology = load_topology(repo_root / "BUILD_TOPOLOGY.toml")
    return loaded


def _job(topology: Topology, family: str) -> StageJob:
    return StageJob(topology, "math-libs", Conditions("linux"), family)


def _two_builds(topology: Topology, tmp_path: Path) -> tuple[Path, Path, str]:
    """math-libs built for both families; the second's generic blas header differs."""
    builds = []
    for family in FAMILIES:
        build = tmp_path / f"build-{family}"
        build_stage(build, topology, "math-libs", family)
        builds.append(build)
    header = f"{stage_dir_of(topology, 'blas')}/include/blas.h"
    changed = builds[1] / "artifacts" / "blas_dev_generic" / header
    changed.write_text(changed.read_text() + "/* built at 12:00 */\n")
    return builds[0], builds[1], header


def test_a_refused_push_names_the_files_that_differ(topology: Topology, tmp_path: Path) -> None:
    first, second, header = _two_builds(topology, tmp_path)
    target = RunRef(LocalStore(tmp_path / "store"), RUN)
    push_stage(_job(topology, FAMILIES[0]), target, first)
    with pytest.raises(OperationError) as info:
        push_stage(_job(topology, FAMILIES[1]), target, second)
    lines = info.value.lines()
    assert len(lines) == 1, lines  # only the differing generic archive is refused
    assert lines[0].startswith("blas_dev_generic.tar.zst: different content")
    assert f"files that differ: {header});" in lines[0]
    assert "stored sha256" in lines[0] and "new sha256" in lines[0]


def test_convergence_names_the_files_that_differ(topology: Topology, tmp_path: Path) -> None:
    # Two jobs of one wave racing: both push before either's sidecar is there, the last wins.
    first, second, header = _two_builds(topology, tmp_path)
    target = RunRef(LocalStore(tmp_path / "store"), RUN)
    push_stage(_job(topology, FAMILIES[0]), target, first)
    push_stage(_job(topology, FAMILIES[1]), target, second, overwrite=True)
    record = json.loads(
        target.store.read_text(RUN, shard_record_name("math-libs", FAMILIES[1])) or "{}"
    )
    assert header in record["contents"]["blas_dev_generic.tar.zst"]
    assert not any("gfx" in a for a in record["contents"])  # generic archives only
    with pytest.raises(OperationError) as info:
        check_convergence(target.store, RUN)
    message = str(info.value)
    assert f"(files that differ: {header})" in message
    assert "the store holds" in message  # and the first shard's digest is not the stored one


def test_archive_and_directory_contents_agree(topology: Topology, tmp_path: Path) -> None:
    build = tmp_path / "build"
    build_stage(build, topology, "foundation")
    target = RunRef(LocalStore(tmp_path / "store"), RUN)
    job = StageJob(topology, "foundation", Conditions("linux"), "")
    moved = push_stage(job, target, build)
    for item in moved:
        name = item.filename.split(".tar.")[0]
        path = target.store.local_path(RUN, item.filename)
        assert path is not None
        with path.open("rb") as raw:
            stored = archive_contents(raw, "zstd", item.filename)
        assert stored == directory_contents(build / "artifacts" / name), name


def test_the_product_is_kept_as_one_archive_beside_the_run(tmp_path: Path) -> None:
    dist = tmp_path / "product" / "dist"
    (dist / "bin").mkdir(parents=True)
    (dist / "bin" / "tool").write_text("#!/bin/sh\n")
    (dist / "README").write_text("product\n")
    (tmp_path / "product" / "build").mkdir()  # beside dist, not in the archive
    (tmp_path / "product" / "build" / "junk").write_text("x")
    product = Product(Convergence(0, 0), FetchResult(), DistResult(2, 1), tmp_path, dist)
    store = LocalStore(tmp_path / "store")
    kept = keep_product(RunRef(store, f"acme-rock/{RUN}"), product)
    archive = tmp_path / "store" / "acme-rock" / RUN / "product" / f"{RUN}-dist.tar.zst"
    assert kept.url == str(archive)
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    assert kept.digest == digest
    assert (archive.parent / f"{archive.name}.sha256sum").read_text().strip() == digest
    assert not store.listing(f"acme-rock/{RUN}")  # the artifacts' listing does not see it
    with archive.open("rb") as raw:
        stream = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
        with tarfile.open(fileobj=stream, mode="r|") as tar:
            names = [m.name for m in tar]
    assert names == ["artifact_manifest.txt", "dist/README", "dist/bin", "dist/bin/tool"]
