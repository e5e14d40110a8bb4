"""The setup job's cache work: every job's key, reuse of every hit, the plan the stage jobs read.

For each job of the pipeline (in build order) the static key is computed from git objects; a
verified record under it is a hit: its archives are copied into this run (server-side) and a
shard record says where they came from, and the job leaves the matrix, so it starts no
runner. A miss says why (the inputs that differ from the job's latest record). The plan
(``rockshard-cache-plan.json`` in the run folder) carries each job's key and inputs to the
stage jobs, which look their content key up (early cutoff) and write records.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from action_lib.cache import gitread
from action_lib.cache.explain import explain_lines
from action_lib.cache.keys import KeyComputer, KeyContext, StageKey, job_label
from action_lib.cache.lookup import latest, lookup, reuse
from action_lib.cache.records import CacheRecord
from action_lib.errors import RockshardError
from action_lib.inputs.untrusted import md
from action_lib.jobs.model import RunRef
from action_lib.jobs.stage_artifacts import shard_record_name
from action_lib.pipeline.config import PipelineConfig, runs_on_text
from action_lib.stores.base import Store
from action_lib.topology import queries
from action_lib.topology.model import Conditions, Topology

PLAN_NAME = "rockshard-cache-plan.json"
PLAN_SCHEMA = 1


@dataclass(frozen=True)
class JobCache:
    """One job of the plan: its key, and what the setup job decided."""

    stage: str
    family: str
    key: str
    outcome: str  # "reused" (a hit) or "build"
    source_run: str = ""
    reason: str = ""  # why a miss missed
    inputs: Mapping[str, str] = field(default_factory=dict)
    kinds: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "inputs", MappingProxyType(dict(self.inputs)))
        object.__setattr__(self, "kinds", MappingProxyType(dict(self.kinds)))

    @property
    def label(self) -> str:
        """``stage`` or ``stage[family]``."""
        return job_label(self.stage, self.family)

    def stage_key(self) -> StageKey:
        """The job's static key with its inputs."""
        return StageKey(self.stage, self.family, self.key, self.inputs, self.kinds)

    def to_json(self, *, inputs: bool = True) -> dict[str, Any]:
        """A JSON-ready dict (without the inputs for step outputs)."""
        out: dict[str, Any] = {
            "stage": self.stage,
            "family": self.family,
            "key": self.key,
            "outcome": self.outcome,
            "source_run": self.source_run,
            "reason": self.reason,
        }
        if inputs:
            out["inputs"] = dict(sorted(self.inputs.items()))
            out["kinds"] = dict(sorted(self.kinds.items()))
        return out


@dataclass(frozen=True)
class CachePlan:
    """Every job's key and outcome in the setup job, and the commit they describe."""

    commit: str
    platform: str
    mode: str
    jobs: tuple[JobCache, ...]
    dirty: tuple[str, ...] = ()
    cache_store: str = ""  # where the records are read, when not the run's store
    cache_endpoint: str = ""

    def reused(self) -> set[tuple[str, str]]:
        """(stage, family) of every job the setup job reused."""
        return {(j.stage, j.family) for j in self.jobs if j.outcome == "reused"}

    def job(self, stage: str, family: str) -> JobCache | None:
        """The plan's entry for a job, if it has one."""
        return next((j for j in self.jobs if (j.stage, j.family) == (stage, family)), None)

    def to_json(self) -> dict[str, Any]:
        """The plan as stored in the run folder."""
        return {
            "schema": PLAN_SCHEMA,
            "commit": self.commit,
            "platform": self.platform,
            "mode": self.mode,
            "dirty": list(self.dirty),
            "cache_store": self.cache_store,
            "cache_endpoint": self.cache_endpoint,
            "jobs": [j.to_json() for j in self.jobs],
        }


def parse_plan(text: str) -> CachePlan:
    """A plan from its stored text; ValueError when it is not one."""
    data = json.loads(text)
    if not isinstance(data, dict) or data.get("schema") != PLAN_SCHEMA:
        raise ValueError("not a rockshard cache plan")
    jobs = tuple(
        JobCache(
            str(j["stage"]),
            str(j["family"]),
            str(j["key"]),
            str(j["outcome"]),
            str(j.get("source_run", "")),
            str(j.get("reason", "")),
            {str(k): str(v) for k, v in dict(j.get("inputs", {})).items()},
            {str(k): str(v) for k, v in dict(j.get("kinds", {})).items()},
        )
        for j in data["jobs"]
    )
    return CachePlan(
        str(data["commit"]),
        str(data["platform"]),
        str(data["mode"]),
        jobs,
        tuple(str(p) for p in data.get("dirty", ())),
        str(data.get("cache_store", "")),
        str(data.get("cache_endpoint", "")),
    )


def read_plan(target: RunRef) -> CachePlan | None:
    """The plan the setup job wrote into the run folder, or None."""
    text = target.store.read_text(target.run, PLAN_NAME)
    if text is None:
        return None
    try:
        return parse_plan(text)
    except (ValueError, KeyError, TypeError):
        return None


def relative_to_repo(path: Path, repo: Path) -> str:
    """``path`` relative to the repository root, ``/``-separated; its name when it lies
    outside (a topology given from elsewhere stands for the one at the root)."""
    try:
        rel = Path(os.path.relpath(path.resolve(), repo.resolve())).as_posix()
    except ValueError:  # another drive on Windows
        return path.name
    return path.name if rel.startswith("../") else rel


def key_computer(
    topology: Topology,
    conditions: Conditions,
    config: PipelineConfig,
    repo: Path,
    topology_path: Path,
    settings_path: Path | None,
    environ: Mapping[str, str],
    *,
    rev: str = "HEAD",
    worktree: bool = True,
) -> KeyComputer:
    """A KeyComputer over the tree of ``rev`` in ``repo`` (git objects, plus the checkout's
    uncommitted changes with ``worktree``)."""
    tree = gitread.read_tree(repo, rev, worktree=worktree)
    platform = conditions.platform or "linux"
    ctx = KeyContext(
        topology=topology,
        conditions=conditions,
        inputs=config.inputs,
        tree=tree,
        submodules=gitread.read_submodules(repo, rev),
        runs_on={
            s: runs_on_text(config.settings(s, platform).runs_on) for s in topology.build_stages
        },
        environ=environ,
        topology_file=relative_to_repo(topology_path, repo),
        settings_file=relative_to_repo(settings_path, repo) if settings_path else "",
    )
    return KeyComputer(ctx)


def shard_note(record: CacheRecord, outcome: str) -> dict[str, Any]:
    """A reused job's shard record: its archives and where they came from."""
    return {
        "stage": record.stage,
        "family": record.family,
        "archives": {name: ref.digest for name, ref in sorted(record.archives.items())},
        "cache": {
            "outcome": outcome,
            "key": record.key,
            "content_key": record.content_key,
            "source_run": record.run,
            "commit": record.commit,
        },
    }


def write_shard(target: RunRef, note: Mapping[str, Any]) -> None:
    """Write a shard record (for a reused job) into the run."""
    target.store.write_text(
        target.run,
        shard_record_name(str(note["stage"]), str(note["family"])),
        json.dumps(note, indent=2, sort_keys=True) + "\n",
    )


def miss_reason(source: Store, key: StageKey, reason: str) -> str:
    """Why a key missed: the lookup's reason, and what differs from the job's latest record."""
    if reason != "no record of this key":
        return reason
    try:
        last = latest(source, key.stage, key.family)
    except RockshardError:
        last = None
    if last is None:
        return "no record of this job yet"
    changes = explain_lines(last.inputs, key.inputs, key.kinds, limit=3)
    since = f"since {last.commit[:12]} (run {last.run})"
    return f"{since}: " + "; ".join(changes) if changes else f"{since}: no input differs"


def _decide(target: RunRef, source: Store, key: StageKey, read: bool) -> JobCache:
    base = JobCache(key.stage, key.family, key.key, "build", inputs=key.inputs, kinds=key.kinds)
    if not read:
        return replace(base, reason="the cache is off")
    found = lookup(source, key.stage, key.family, key.key)
    if found.record is None:
        return replace(base, reason=miss_reason(source, key, found.reason))
    try:
        reuse(target.store, found.record, target.run, source=source)
        write_shard(target, shard_note(found.record, "reused"))
    except RockshardError as exc:
        return replace(base, reason=f"the record's archives could not be reused ({exc})")
    return replace(base, outcome="reused", source_run=found.record.run)


def plan_cache(
    computer: KeyComputer,
    families: Sequence[str],
    target: RunRef,
    *,
    mode: str,
    stages: Sequence[str] = (),
    jobs: int = 4,
    source: Store | None = None,
    endpoint: str = "",
) -> CachePlan:
    """Key every job, reuse every hit into ``target``'s run, and write the plan there.

    Records are read from ``source`` (the trusted store; default: ``target``'s store): a pull
    request, whose artifacts go to a store of its own, reads the trusted runs' records and
    copies what they name. Raises FindingsError naming every key input that cannot be read."""
    ctx = computer.ctx
    wanted = [
        job
        for job in queries.expand_jobs(ctx.topology, families, ctx.conditions)
        if not stages or job.stage in stages
    ]
    keys = [computer.key(job.stage, job.family) for job in wanted]
    computer.raise_findings()
    read = mode != "off"
    records = source if source is not None else target.store
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        decided = list(pool.map(lambda k: _decide(target, records, k, read), keys))
    other = records.url != target.store.url
    plan = CachePlan(
        ctx.tree.commit,
        ctx.conditions.platform or "",
        mode,
        tuple(decided),
        ctx.tree.dirty,
        records.url if other else "",
        endpoint if other else "",
    )
    target.store.write_text(
        target.run, PLAN_NAME, json.dumps(plan.to_json(), indent=2, sort_keys=True) + "\n"
    )
    return plan


def plan_markdown(plan: CachePlan) -> str:
    """The job summary: every job with its outcome, key, and source run or reason."""
    reused = len(plan.reused())
    lines = [
        f"### rockshard stage cache: {reused} of {len(plan.jobs)} job(s) reused, "
        f"{len(plan.jobs) - reused} to build (commit {plan.commit[:12]}, mode {plan.mode})",
        "",
    ]
    if plan.dirty:
        lines += [f"Keys include {len(plan.dirty)} uncommitted change(s) of the checkout.", ""]
    lines += ["| job | outcome | key | from run / why it missed |", "| --- | --- | --- | --- |"]
    for job in plan.jobs:
        detail = job.source_run if job.outcome == "reused" else job.reason
        lines.append(f"| {md(job.label)} | {job.outcome} | `{job.key[:12]}` | {md(detail)} |")
    return "\n".join(lines) + "\n"


def plan_text(plan: CachePlan) -> list[str]:
    """One line per job, for logs."""
    out = []
    for job in plan.jobs:
        detail = f"from run {job.source_run}" if job.outcome == "reused" else job.reason
        out.append(f"{job.label:<28} {job.outcome:<7} {job.key[:12]}  {detail}")
    return out


def run_outcomes(target: RunRef) -> list[dict[str, Any]]:
    """Every job of a finished run with its outcome (``built``, ``reused``, ``cutoff``; or
    ``missing`` when it pushed nothing), key, source run and whether its record was written:
    from the plan and the shard records. Empty when the run has no plan."""
    plan = read_plan(target)
    if plan is None:
        return []
    out: list[dict[str, Any]] = []
    for job in plan.jobs:
        text = target.store.read_text(target.run, shard_record_name(job.stage, job.family))
        cache: dict[str, Any] = {}
        if text is not None:
            try:
                loaded = json.loads(text).get("cache")
            except (ValueError, AttributeError):
                loaded = None
            cache = loaded if isinstance(loaded, dict) else {"outcome": "built"}
        outcome = str(cache.get("outcome", "missing"))
        out.append(
            {
                "stage": job.stage,
                "family": job.family,
                "outcome": outcome,
                "key": job.key,
                "source_run": str(cache.get("source_run", "")),
                "record": str(cache.get("record", "")),
                "reason": job.reason if outcome != "reused" else "",
            }
        )
    return out
