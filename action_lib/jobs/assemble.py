"""A pipeline's product: every artifact of a run, checked, bootstrapped and merged into dist/,
then kept beside the run's artifacts (``<run folder>/product/``): the runner's disk is emptied
when the job ends."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from action_lib.artifacts.archive import write_archive
from action_lib.artifacts.dist import DistResult, assemble_dist
from action_lib.artifacts.fetch import MARKER_SUFFIX, FetchOptions, FetchResult, fetch
from action_lib.artifacts.names import format_digest, sidecar
from action_lib.artifacts.plan import MissingArtifactsError, select
from action_lib.jobs.convergence import Convergence, check_convergence
from action_lib.jobs.model import RunRef
from action_lib.jobs.stage_artifacts import produced_everywhere, screened_listing
from action_lib.topology.model import Conditions, Topology


@dataclass(frozen=True)
class Product:
    """What assembling a run gave."""

    convergence: Convergence
    fetched: FetchResult
    dist: DistResult
    build_dir: Path
    dist_dir: Path


def assemble_product(
    topology: Topology,
    conditions: Conditions,
    families: Sequence[str],
    source: RunRef,
    output_dir: Path,
    *,
    jobs: int = 2,
) -> Product:
    """Check the shards converge, fetch every artifact the pipeline produces into
    ``output_dir/build`` (bootstrap layout), and merge its stage dirs into ``output_dir/dist``."""
    store, run = source.store, source.run
    listing = screened_listing(topology, source)
    convergence = check_convergence(store, run, listing)
    wanted = produced_everywhere(topology, conditions, families)
    chosen, missing = select(wanted, listing)
    if missing:
        raise MissingArtifactsError(source.location(), missing)
    build_dir = output_dir / "build"
    fetched = fetch(
        store, run, chosen, build_dir, FetchOptions(layout="bootstrap", extract=True, jobs=jobs)
    )
    stage_dirs = sorted(m[: -len(MARKER_SUFFIX)] for m in fetched.markers)
    dist_dir = output_dir / "dist"
    dist = assemble_dist(build_dir, stage_dirs, dist_dir)
    return Product(convergence, fetched, dist, build_dir, dist_dir)


PRODUCT_FOLDER = "product"


@dataclass(frozen=True)
class KeptProduct:
    """The product archive in the store."""

    url: str  # the archive's URL (or path)
    size: int
    digest: str


def product_archive_name(run: str) -> str:
    """``<run id>-<platform>-dist.tar.zst`` for the run folder ``[owner-repo/]<run id>-<platform>``."""
    return f"{run.rsplit('/', 1)[-1]}-dist.tar.zst"


def keep_product(target: RunRef, product: Product) -> KeptProduct:
    """Push ``dist/`` as one deterministic archive (with its ``.sha256sum`` sidecar) into the
    run's ``product/`` folder, where no artifact listing sees it."""
    folder = RunRef(target.store, f"{target.run}/{PRODUCT_FOLDER}")
    name = product_archive_name(target.run)
    upload = folder.store.begin_upload(folder.run, name)
    try:
        info = write_archive(
            product.dist_dir.parent, upload.file, "zstd", only=(product.dist_dir.name,)
        )
        upload.commit()
    except BaseException:
        upload.abort()
        raise
    folder.store.write_text(folder.run, sidecar(name), format_digest(info.digest))
    return KeptProduct(f"{folder.location().rstrip('/')}/{name}", info.size, info.digest)
