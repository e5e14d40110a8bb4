"""A stage job's cache work: the job-time lookup in setup-stage, the record written by push.

At job time the stage's content key is computed from the digests of its inbound archives
(their sidecars in the run folder; nothing is downloaded) instead of the upstream stages'
keys. A record under it is a hit: the upstream stages were rebuilt but produced the same
bytes, so this stage is cut off. A hit copies the archives into the run and (when this run may
write records) records them under the static key too, so the next run of the commit finds them
in its setup job.

After a build, push writes the record under both keys: last, after every archive is complete,
and only when the event may write records (:mod:`action_lib.settings.cache`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from action_lib.artifacts.names import parse_digest, sidecar
from action_lib.artifacts.plan import fetch_plan, select
from action_lib.artifacts.push import Moved
from action_lib.cache.keys import StageKey
from action_lib.cache.lookup import fingerprint_for, lookup, reuse, write_record
from action_lib.cache.records import ArchiveRef, CacheRecord
from action_lib.errors import InputError, RockshardError
from action_lib.jobs.cache_plan import read_plan, shard_note, write_shard
from action_lib.jobs.event import event_context
from action_lib.jobs.model import RunRef, StageJob
from action_lib.stores.base import Store, open_store

STATE_FILE = "rockshard-cache-state.json"


def may_write(mode: str, environ: Mapping[str, str]) -> tuple[bool, str]:
    """Whether this run may write cache records, and why (or why not)."""
    if mode in ("off", "read"):
        return False, f"the cache mode is {mode}"
    if not environ.get("GITHUB_EVENT_NAME"):
        if mode == "write":
            return True, "written from a terminal with --cache write"
        return False, "no workflow event: records are written by publishing runs (--cache write)"
    try:
        trust = event_context(environ).trust()
    except InputError as exc:
        return False, f"the workflow event cannot be read ({exc})"
    allowed = trust.publishes if mode == "auto" else trust.trusted
    return allowed, trust.reason


@dataclass(frozen=True)
class JobTime:
    """What the job-time lookup found for one stage job."""

    outcome: str  # "reused", "cutoff", "build" or "off"
    key: str = ""
    content_key: str = ""
    source_run: str = ""
    reason: str = ""
    record: str = ""  # for a cutoff: whether the static-key record was written

    @property
    def hit(self) -> bool:
        """True when the stage need not be built."""
        return self.outcome in ("reused", "cutoff")


def inbound_digests(job: StageJob, source: RunRef, jobs: int = 8) -> dict[str, str] | None:
    """Archive name -> sha256 of every inbound archive (read from the sidecars), or None when
    one is missing (the fetch reports it)."""
    wanted = fetch_plan(job.topology, job.stage, job.conditions, job.families)
    chosen, missing = select(wanted, source.store.listing(source.run))
    if missing:
        return None

    def digest(name: str) -> tuple[str, str]:
        text = source.store.read_text(source.run, sidecar(name))
        if text is None:
            raise InputError(f"{name}: its sidecar vanished")
        return name, parse_digest(text, f"{source.location()}/{sidecar(name)}")

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return dict(sorted(pool.map(digest, [r.filename for r in chosen])))


def records_store(target: RunRef) -> Store:
    """Where the run's plan says records are read (the trusted store, for a pull request whose
    artifacts go elsewhere), else the run's own store."""
    plan = read_plan(target)
    if plan is None or not plan.cache_store or plan.cache_store == target.store.url:
        return target.store
    return open_store(
        plan.cache_store, local_default=Path(), endpoint_url=plan.cache_endpoint or None
    )


def planned_key(
    job: StageJob, target: RunRef, compute: Callable[[], StageKey] | None
) -> tuple[StageKey | None, str, str]:
    """The job's static key (from the setup job's plan, else ``compute``), the commit, and
    why there is none."""
    plan = read_plan(target)
    entry = plan.job(job.stage, job.family) if plan is not None else None
    if entry is not None and plan is not None:
        return entry.stage_key(), plan.commit, ""
    if compute is None:
        return None, "", "the setup job wrote no cache plan for this job"
    try:
        return compute(), "", ""
    except RockshardError as exc:
        return None, "", f"the key could not be computed ({exc})"


def job_time_lookup(
    job: StageJob,
    target: RunRef,
    *,
    mode: str,
    environ: Mapping[str, str],
    compute: Callable[[], StageKey] | None = None,
) -> tuple[JobTime, dict[str, Any]]:
    """Look the job's static key, then its content key, up; reuse a hit into ``target``.

    Returns the result and the state a later push needs (empty on a hit)."""
    if mode == "off":
        return JobTime("off", reason="the cache is off"), {}
    key, commit, why = planned_key(job, target, compute)
    if key is None:
        return JobTime("build", reason=why), {}
    try:
        inbound = inbound_digests(job, target)
    except RockshardError as exc:
        return JobTime("build", key.key, reason=f"inbound digests unreadable ({exc})"), {}
    if inbound is None:
        return JobTime("build", key.key, reason="inbound archives are missing"), {}
    content = key.content_key(inbound)
    state = {
        "key": key.key,
        "content_key": content,
        "commit": commit,
        "inputs": dict(key.inputs),
        "inbound": inbound,
    }
    store = target.store
    try:
        source = records_store(target)
    except RockshardError as exc:
        return JobTime("build", key.key, content, reason=f"no cache store ({exc})"), state
    for outcome, wanted in (("reused", key.key), ("cutoff", content)):
        found = lookup(source, job.stage, job.family, wanted)
        if found.record is None:
            continue
        try:
            reuse(store, found.record, target.run, source=source)
        except RockshardError as exc:
            return JobTime("build", key.key, content, reason=f"reuse failed ({exc})"), state
        note = shard_note(found.record, outcome)
        result = JobTime(outcome, key.key, content, found.record.run)
        if outcome == "cutoff":
            written = publish(job, target, _moved(found.record), state, mode, environ)
            note["cache"]["record"] = written
            result = JobTime(outcome, key.key, content, found.record.run, record=written)
        write_shard(target, note)
        return result, {}
    return JobTime("build", key.key, content, reason="no record of either key"), state


def _moved(record: CacheRecord) -> list[Moved]:
    return [Moved(n, a.size, a.digest, "copied") for n, a in sorted(record.archives.items())]


def write_state(build_dir: Path, state: Mapping[str, Any]) -> None:
    """Keep what push needs in the build dir."""
    if state:
        (build_dir / STATE_FILE).write_text(json.dumps(state, sort_keys=True), encoding="utf-8")


def read_state(build_dir: Path) -> dict[str, Any] | None:
    """The state setup-stage kept, or None."""
    try:
        data = json.loads((build_dir / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def publish(
    job: StageJob,
    target: RunRef,
    moved: list[Moved],
    state: Mapping[str, Any],
    mode: str,
    environ: Mapping[str, str],
) -> str:
    """Write the record of ``moved`` (complete in ``target``'s run) under both keys when this
    run may; returns ``written`` or ``not written: <why>``. Never raises for the store."""
    allowed, why = may_write(mode, environ)
    if not allowed:
        return f"not written: {why}"
    store = target.store
    try:
        archives = {
            m.filename: ArchiveRef(
                m.digest, m.size, fingerprint_for(store, target.run, m.filename, m.digest)
            )
            for m in moved
        }
        inputs = {str(k): str(v) for k, v in dict(state["inputs"]).items()}
        inbound = {str(k): str(v) for k, v in dict(state["inbound"]).items()}
        record = CacheRecord(
            stage=job.stage,
            family=job.family,
            platform=job.conditions.platform or "",
            key=str(state["key"]),
            content_key=str(state["content_key"]),
            run=target.run,
            commit=str(state.get("commit", "")),
            created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            archives=archives,
            inputs=inputs,
            inbound=inbound,
        )
        write_record(store, record)
    except RockshardError as exc:
        return f"not written: the store refused it ({exc})"
    return "written"


def push_state(
    job: StageJob,
    target: RunRef,
    build_dir: Path,
    compute: Callable[[], StageKey] | None = None,
) -> tuple[dict[str, Any] | None, str]:
    """The keys of a job being pushed: what setup-stage kept, else the plan and the run's
    inbound sidecars; None and why when there are none."""
    state = read_state(build_dir)
    if state is not None:
        return state, ""
    key, commit, why = planned_key(job, target, compute)
    if key is None:
        return None, why
    try:
        inbound = inbound_digests(job, target)
    except RockshardError as exc:
        return None, f"inbound digests unreadable ({exc})"
    if inbound is None:
        return None, "inbound archives are missing from the run"
    return {
        "key": key.key,
        "content_key": key.content_key(inbound),
        "commit": commit,
        "inputs": dict(key.inputs),
        "inbound": inbound,
    }, ""


def push_annotation(
    job: StageJob,
    target: RunRef,
    build_dir: Path,
    *,
    mode: str,
    environ: Mapping[str, str],
    compute: Callable[[], StageKey] | None = None,
) -> Callable[[list[Moved]], dict[str, Any]]:
    """The shard record's ``cache`` entry of a built job, writing its record first."""

    def annotate(moved: list[Moved]) -> dict[str, Any]:
        if mode == "off":
            return {}
        try:
            state, why = push_state(job, target, build_dir, compute)
        except RockshardError as exc:
            state, why = None, f"the keys could not be read ({exc})"
        if state is None:
            return {"cache": {"outcome": "built", "record": f"not written: {why}"}}
        written = publish(job, target, moved, state, mode, environ)
        return {
            "cache": {
                "outcome": "built",
                "key": state["key"],
                "content_key": state["content_key"],
                "record": written,
            }
        }

    return annotate
