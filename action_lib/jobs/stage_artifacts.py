"""A stage job's artifact moves: fetch its inbound set, push what it produced, record its shard.

Each push also writes a shard record (``rockshard-shard_<stage>_<family|generic>.json``): the
archives the job pushed with their digests. The final job of a pipeline reads every record
(:mod:`action_lib.jobs.convergence`) and checks that the shards of a per-arch stage pushed
byte-identical generic halves. A per-arch job's record also lists the content of each file of
its generic archives, so that when two jobs' generic halves differ the check names the files.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from action_lib.artifacts.fetch import FetchOptions, FetchResult, fetch
from action_lib.artifacts.names import GENERIC
from action_lib.artifacts.plan import (
    MissingArtifactsError,
    Remote,
    Wanted,
    fetch_plan,
    push_plan,
    screen_listing,
    select,
)
from action_lib.artifacts.push import Moved, find_artifact_dirs, push
from action_lib.edges import gha
from action_lib.edges.progress import Progress
from action_lib.jobs.model import RunRef, StageJob
from action_lib.topology.model import Conditions, Topology
from action_lib.topology.queries import active_stages

SHARD_PREFIX = "rockshard-shard_"


def shard_record_name(stage: str, family: str) -> str:
    """The store name of a shard record."""
    return f"{SHARD_PREFIX}{stage}_{family or GENERIC}.json"


def stage_remotes(
    job: StageJob,
    source: RunRef,
    *,
    exclude_artifacts: Sequence[str] = (),
    exclude_components: Sequence[str] = (),
) -> list[Remote]:
    """The archives ``job`` must fetch from ``source``; every missing one is listed in one error."""
    wanted = fetch_plan(job.topology, job.stage, job.conditions, job.families, exclude_artifacts)
    chosen, missing = select(wanted, screened_listing(job.topology, source), exclude_components)
    if missing:
        raise MissingArtifactsError(source.location(), missing)
    return chosen


def screened_listing(topology: Topology, source: RunRef) -> Mapping[str, int]:
    """The listing of ``source`` without names no archive of ``topology`` can have; each
    ignored name is a warning (an annotation in Actions)."""
    screened = screen_listing(source.store.listing(source.run), topology)
    head, lines = screened.warning(source.location())
    if head:
        gha.warning(head, lines)
    return screened.listing


def fetch_stage(
    job: StageJob,
    source: RunRef,
    output_dir: Path,
    options: FetchOptions,
    *,
    exclude_artifacts: Sequence[str] = (),
    exclude_components: Sequence[str] = (),
    progress: Progress | None = None,
) -> FetchResult:
    """Fetch the exact inbound set of ``job``; every missing artifact is listed in one error."""
    chosen = stage_remotes(
        job,
        source,
        exclude_artifacts=exclude_artifacts,
        exclude_components=exclude_components,
    )
    return fetch(source.store, source.run, chosen, output_dir, options, progress)


def push_stage(
    job: StageJob,
    target: RunRef,
    build_dir: Path,
    *,
    compression: str = "zstd",
    level: int | None = None,
    jobs: int = 2,
    overwrite: bool = False,
    progress: Progress | None = None,
    annotate: Callable[[list[Moved]], Mapping[str, Any]] | None = None,
) -> list[Moved]:
    """Push exactly what ``job`` produces (from ``build_dir/artifacts``), then its shard record.

    ``annotate`` is called once every archive is complete, before the shard record is written;
    what it returns is added to the record (the stage cache writes its record there)."""
    wanted = push_plan(job.topology, job.stage, job.conditions, job.families)
    dirs = find_artifact_dirs(build_dir / "artifacts", wanted)
    shared = [name for name, _ in dirs if job.per_arch and name.target == GENERIC]
    moved = push(
        target.store,
        target.run,
        dirs,
        compression=compression,
        level=level,
        jobs=jobs,
        overwrite=overwrite,
        progress=progress,
        record_contents=shared,
    )
    ordered = sorted(moved, key=lambda m: m.filename)
    record: dict[str, Any] = {
        "stage": job.stage,
        "family": job.family,
        "archives": {m.filename: m.digest for m in ordered},
    }
    contents = {m.filename: dict(sorted(m.contents.items())) for m in ordered if m.contents}
    if contents:
        record["contents"] = contents
    if annotate is not None:
        record.update(annotate(moved))
    target.store.write_text(
        target.run,
        shard_record_name(job.stage, job.family),
        json.dumps(record, indent=2, sort_keys=True) + "\n",
    )
    return moved


def produced_everywhere(
    topology: Topology, conditions: Conditions, families: Sequence[str]
) -> list[Wanted]:
    """Every archive target a whole pipeline produces: each active stage, each family."""
    out: set[Wanted] = set()
    for stage in active_stages(topology, conditions):
        if topology.build_stages[stage].per_arch:
            for family in families:
                out.update(push_plan(topology, stage, conditions, (family,)))
        else:
            out.update(push_plan(topology, stage, conditions))
    return sorted(out)
