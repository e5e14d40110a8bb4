"""A pipeline's product: every artifact of a run, checked, bootstrapped and merged into dist/."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from action_lib.artifacts.dist import DistResult, assemble_dist
from action_lib.artifacts.fetch import MARKER_SUFFIX, FetchOptions, FetchResult, fetch
from action_lib.artifacts.plan import MissingArtifactsError, select
from action_lib.jobs.convergence import Convergence, check_convergence
from action_lib.jobs.model import RunRef
from action_lib.jobs.stage_artifacts import produced_everywhere
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
    listing = store.listing(run)
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
