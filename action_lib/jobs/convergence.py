"""The convergence check of a run: every shard that pushed an archive pushed the same bytes.

When two shards' archives differ, the files that differ are named from the contents their
shard records list (per-arch jobs record them for their generic archives)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from action_lib.artifacts.compare import describe, differing_paths
from action_lib.artifacts.names import GENERIC, try_parse_archive
from action_lib.artifacts.plan import present
from action_lib.errors import OperationError
from action_lib.jobs.stage_artifacts import SHARD_PREFIX
from action_lib.stores.base import Store


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
    listed: dict[tuple[str, str], dict[str, str]] = {}  # (archive, shard) -> contents
    shared: set[str] = set()
    problems: list[str] = []
    for name in records:
        text = store.read_text(run, name)
        if text is None:
            continue
        try:
            record = json.loads(text)
            archives = {str(k): str(v) for k, v in record["archives"].items()}
            contents = {
                str(a): {str(k): str(v) for k, v in c.items()}
                for a, c in dict(record.get("contents") or {}).items()
            }
            if any(try_parse_archive(a) is None for a in archives):  # records are outside data
                raise ValueError("not an archive name")
        except (ValueError, KeyError, AttributeError, TypeError):
            problems.append(f"{name}: not a shard record")
            continue
        shard = f"{record.get('stage', '?')}[{record.get('family') or GENERIC}]"
        for archive, files in contents.items():
            listed[(archive, shard)] = files
        for archive, digest in sorted(archives.items()):
            if archive in seen:
                shared.add(archive)
                first_digest, first = seen[archive]
                if first_digest != digest:
                    problems.append(
                        f"{archive}: shard {first} pushed {first_digest}, shard {shard} built "
                        f"{digest}" + _files(listed, archive, first, shard)
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


def _files(
    listed: Mapping[tuple[str, str], Mapping[str, str]], archive: str, first: str, second: str
) -> str:
    """`` (files that differ: ...)`` from the two shards' records, "" when one lists none."""
    a, b = listed.get((archive, first)), listed.get((archive, second))
    if a is None or b is None:
        return ""
    found = differing_paths(a, b, (f"shard {first}", f"shard {second}"))
    return f" (files that differ: {describe(found)})" if found else ""
