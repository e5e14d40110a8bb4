"""A change history replayed commit by commit: what each way of running the pipeline costs
per commit, and with stage caching, which stage jobs each commit rebuilds. Pure.

Which jobs a commit rebuilds is a :class:`BuildSelection`. Today it is :class:`ImpactSelection`:
the jobs of the stages the commit's changes affect (``action_lib.impact``), every other
stage's artifacts taken from the parent commit's run. Stage caching keyed by each stage's
inputs (issue 12) will give the same answer per job, and plugs in as another selection.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from action_lib.errors import InputError
from action_lib.impact.analyze import Change, compute_impact
from action_lib.impact.rules import ImpactRules
from action_lib.report.model import parse_time
from action_lib.simulate.schedule import VARIANTS, Outcome, simulate
from action_lib.simulate.workload import JobKey, Workload, restricted
from action_lib.sources.gitmodules import GitSubmodule
from action_lib.topology.model import Conditions, Topology

CACHED = "cached"


@dataclass(frozen=True)
class HistoryCommit:
    """One commit of a change history (the ``commits.jsonl`` format)."""

    commit: str
    date: str
    subject: str
    changes: tuple[Change, ...]


def parse_history(text: str, origin: str) -> tuple[HistoryCommit, ...]:
    """Commits from JSON lines ``{"commit", "date", "subject", "changes": [{"path", "status",
    "submodule", "old", "new"}]}``, oldest first (by date; git log lists newest first)."""
    out: list[HistoryCommit] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{origin}:{number}"
        try:
            data = json.loads(line)
            changes = tuple(
                Change(
                    str(c["path"]),
                    str(c.get("status", "M")),
                    bool(c.get("submodule")),
                    str(c.get("old") or ""),
                    str(c.get("new") or ""),
                )
                for c in data.get("changes", [])
            )
            out.append(
                HistoryCommit(
                    str(data["commit"]),
                    str(data.get("date", "")),
                    str(data.get("subject", "")),
                    changes,
                )
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise InputError(f"{where}: not a commit record: {exc}") from None
    if not out:
        raise InputError(f"{origin}: no commits")
    moments = [parse_time(c.date, origin) for c in out]
    if any(m is None for m in moments):
        return tuple(reversed(out))  # without dates: the file lists newest first, as git log
    ranked = sorted(range(len(out)), key=lambda n: (moments[n], -n))
    return tuple(out[n] for n in ranked)


class BuildSelection(Protocol):
    """Decides which stage jobs of a workload a commit must build (the rest are cached)."""

    @property
    def name(self) -> str:
        """What decides (for reports)."""
        ...

    def jobs_to_build(self, commit: HistoryCommit, workload: Workload) -> frozenset[JobKey]:
        """The (stage, family) keys of the jobs ``commit`` rebuilds."""
        ...


@dataclass(frozen=True)
class ImpactSelection:
    """The jobs of the stages a commit's changes affect, by change impact."""

    topology: Topology
    conditions: Conditions
    rules: ImpactRules = field(default_factory=ImpactRules)
    submodules: tuple[GitSubmodule, ...] = ()
    name: str = "impact"

    def jobs_to_build(self, commit: HistoryCommit, workload: Workload) -> frozenset[JobKey]:
        """Every job of every affected stage."""
        report = compute_impact(
            self.topology,
            commit.changes,
            submodules=self.submodules,
            rules=self.rules,
            conditions=self.conditions,
        )
        affected = set(report.affected)
        return frozenset(j.key for j in workload.jobs if j.stage in affected)


@dataclass(frozen=True)
class CommitCost:
    """One commit: wall time and runner time per variant, and how many stage jobs it built."""

    commit: HistoryCommit
    wall: Mapping[str, float]
    runner: Mapping[str, float]
    built: int


@dataclass(frozen=True)
class HistoryResult:
    """Every commit's cost, for the variants and stage caching."""

    variants: tuple[str, ...]
    commits: tuple[CommitCost, ...]
    selection: str
    full: Mapping[str, Outcome]  # the variants without caching (the same for every commit)


def simulate_history(
    workload: Workload,
    commits: Sequence[HistoryCommit],
    selection: BuildSelection,
    runners: int | None = None,
) -> HistoryResult:
    """Each commit through the monolithic, wave and DAG pipelines (every job, every commit)
    and the wave pipeline with stage caching (only the jobs ``selection`` picks)."""
    full = {v: simulate(workload, v, runners) for v in VARIANTS}
    everything = frozenset(j.key for j in workload.jobs)
    cache: dict[frozenset[JobKey], Outcome] = {everything: full["waves"]}
    out: list[CommitCost] = []
    for commit in commits:
        keys = selection.jobs_to_build(commit, workload) & everything
        if keys not in cache:
            cache[keys] = simulate(restricted(workload, keys), "waves", runners)
        cached = cache[keys]
        wall = {v: o.wall for v, o in full.items()}
        runner = {v: o.runner_seconds for v, o in full.items()}
        wall[CACHED] = cached.wall
        runner[CACHED] = cached.runner_seconds
        out.append(CommitCost(commit, wall, runner, len(keys)))
    return HistoryResult((*VARIANTS, CACHED), tuple(out), selection.name, full)


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (``share`` from 0 to 1) of ``values``; 0 when empty."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(share * len(ordered))))
    return ordered[rank - 1]


@dataclass(frozen=True)
class Distribution:
    """Totals and spread over commits of one variant."""

    total: float
    mean: float
    p50: float
    p90: float
    max: float


def distribution(values: Sequence[float]) -> Distribution:
    """Total, mean, median, 90th percentile and maximum."""
    total = sum(values)
    return Distribution(
        total,
        total / len(values) if values else 0.0,
        percentile(values, 0.5),
        percentile(values, 0.9),
        max(values, default=0.0),
    )
