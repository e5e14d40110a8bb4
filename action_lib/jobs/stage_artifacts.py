"""A stage job's artifact moves: fetch its inbound set, push what it produced, record its shard.

Each push also writes a shard record (``rockshard-shard_<stage>_<family|generic>.json``): the
archives the job pushed with their digests. The final job of a pipeline reads every record and
checks that the shards of a per-arch stage pushed byte-identical generic halves.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from action_lib.artifacts.fetch import FetchOptions, FetchResult, fetch
from action_lib.artifacts.names import GENERIC
from action_lib.artifacts.plan import (
    MissingArtifactsError,
    Remote,
    Wanted,
    fetch_plan,
    present,
    push_plan,
    select,
)
from action_lib.artifacts.push import Moved, find_artifact_dirs, push
from action_lib.edges.progress import Progress
from action_lib.errors import OperationError
from action_lib.stores.base import Store
from action_lib.topology.model import Conditions, Topology
from action_lib.topology.queries import active_stages

SHARD_PREFIX = "rockshard-shard_"


def shard_record_name(stage: str, family: str) -> str:
    """The store name of a shard record."""
    return f"{SHARD_PREFIX}{stage}_{family or GENERIC}.json"


def stage_remotes(
    topology: Topology,
    stage: str,
    store: Store,
    run: str,
    conditions: Conditions,
    families: Sequence[str],
    *,
    exclude_artifacts: Sequence[str] = (),
    exclude_components: Sequence[str] = (),
) -> list[Remote]:
    """The archives ``stage`` must fetch from ``run``; every missing one is listed in one error."""
    wanted = fetch_plan(topology, stage, conditions, families, exclude_artifacts)
    chosen, missing = select(wanted, store.listing(run), exclude_components)
    if missing:
        raise MissingArtifactsError(store.location(run), missing)
    return chosen


def fetch_stage(
    topology: Topology,
    stage: str,
    store: Store,
    run: str,
    conditions: Conditions,
    families: Sequence[str],
    output_dir: Path,
    options: FetchOptions,
    *,
    exclude_artifacts: Sequence[str] = (),
    exclude_components: Sequence[str] = (),
    progress: Progress | None = None,
) -> FetchResult:
    """Fetch the exact inbound set of ``stage``; every missing artifact is listed in one error."""
    chosen = stage_remotes(
        topology,
        stage,
        store,
        run,
        conditions,
        families,
        exclude_artifacts=exclude_artifacts,
        exclude_components=exclude_components,
    )
    return fetch(store, run, chosen, output_dir, options, progress)


def push_stage(
    topology: Topology,
    stage: str,
    store: Store,
    run: str,
    conditions: Conditions,
    families: Sequence[str],
    build_dir: Path,
    *,
    compression: str = "zstd",
    level: int | None = None,
    jobs: int = 2,
    overwrite: bool = False,
    progress: Progress | None = None,
) -> list[Moved]:
    """Push exactly what ``stage`` produces (from ``build_dir/artifacts``), then its shard record."""
    wanted = push_plan(topology, stage, conditions, families)
    dirs = find_artifact_dirs(build_dir / "artifacts", wanted)
    moved = push(
        store,
        run,
        dirs,
        compression=compression,
        level=level,
        jobs=jobs,
        overwrite=overwrite,
        progress=progress,
    )
    family = families[0] if families and topology.build_stages[stage].per_arch else ""
    record = {
        "stage": stage,
        "family": family,
        "archives": {m.filename: m.digest for m in sorted(moved, key=lambda m: m.filename)},
    }
    store.write_text(
        run, shard_record_name(stage, family), json.dumps(record, indent=2, sort_keys=True) + "\n"
    )
    return moved


@dataclass(frozen=True)
class Convergence:
    """The result of comparing the shard records of a run."""

    shards: int
    shared_archives: int  # archives pushed by more than one shard (the generic halves)


def check_convergence(
    store: Store, run: str, listing: Mapping[str, int] | None = None
) -> Convergence:
    """Every archive pushed by several shards has one digest, which is the store's sidecar.

    ``listing`` is the run's listing when the caller already has it. Raises OperationError
    naming the shards and both digests when they differ.
    """
    listing = store.listing(run) if listing is None else listing
    records = sorted(n for n in listing if n.startswith(SHARD_PREFIX) and n.endswith(".json"))
    seen: dict[str, tuple[str, str]] = {}  # archive -> (digest, shard)
    shared: set[str] = set()
    problems: list[str] = []
    for name in records:
        text = store.read_text(run, name)
        if text is None:
            continue
        try:
            record = json.loads(text)
            archives = {str(k): str(v) for k, v in record["archives"].items()}
        except (ValueError, KeyError, AttributeError, TypeError):
            problems.append(f"{name}: not a shard record")
            continue
        shard = f"{record.get('stage', '?')}[{record.get('family') or GENERIC}]"
        for archive, digest in sorted(archives.items()):
            if archive in seen:
                shared.add(archive)
                if seen[archive][0] != digest:
                    problems.append(
                        f"{archive}: shard {seen[archive][1]} pushed {seen[archive][0]}, "
                        f"shard {shard} built {digest}"
                    )
            else:
                seen[archive] = (digest, shard)
    on_store = {remote.filename for remote in present(listing).values()}
    for archive in sorted(shared):
        if archive not in on_store:
            problems.append(f"{archive}: recorded by shards but absent from the store")
            continue
        stored = (store.read_text(run, archive + ".sha256sum") or "").strip()
        if stored and stored != seen[archive][0]:
            problems.append(
                f"{archive}: the store holds {stored}, the shards pushed {seen[archive][0]}"
            )
    if problems:
        raise OperationError("shards do not converge: " + "; ".join(problems))
    return Convergence(len(records), len(shared))


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
