"""The stage jobs a simulation schedules: a pipeline's jobs with their durations, waves and
DAG edges. Pure.

A stage without a duration is never counted as zero: building the workload fails naming it,
unless it is left out on purpose (``stages``, ``only_timed``), and then it is listed as such.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from action_lib.errors import InputError
from action_lib.simulate.timings import Timings
from action_lib.topology import graph, queries
from action_lib.topology.model import Conditions, Topology

JobKey = tuple[str, str]  # (stage, family); family "" for a generic stage


@dataclass(frozen=True)
class SimJob:
    """One stage job of the simulated pipeline."""

    stage: str
    family: str
    seconds: float
    wave: int
    deps: tuple[JobKey, ...]  # the jobs it needs in the stage DAG

    @property
    def key(self) -> JobKey:
        """(stage, family)."""
        return (self.stage, self.family)

    @property
    def label(self) -> str:
        """``stage family``."""
        return f"{self.stage} {self.family}".strip()


@dataclass(frozen=True)
class Workload:
    """A pipeline to simulate: its stage jobs in plan order, and what surrounds them."""

    platform: str
    families: tuple[str, ...]
    jobs: tuple[SimJob, ...]
    before: float = 0.0  # pipeline jobs before the stage jobs (setup), 0 when not known
    after: float = 0.0  # and after them (assembly)
    overhead: float = 0.0  # start latency of every job (not runner time)
    left_out: tuple[tuple[str, str], ...] = ()  # (stage, why) of active stages not simulated
    monolithic_published: Mapping[str, tuple[float, float]] | None = None  # family -> low, high

    @property
    def stages(self) -> tuple[str, ...]:
        """The simulated stages, in plan order."""
        return tuple(dict.fromkeys(j.stage for j in self.jobs))

    def family_seconds(self, family: str) -> float:
        """What one monolithic job for ``family`` builds: every generic job and the family's
        per-arch jobs, one after another on one runner."""
        return sum(j.seconds for j in self.jobs if j.family in ("", family))


def _nearest_chosen(
    stage: str, upstream: Mapping[str, Sequence[str]], chosen: set[str]
) -> set[str]:
    """The chosen stages ``stage`` depends on, looking through stages left out."""
    out: set[str] = set()
    todo = list(upstream.get(stage, ()))
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        if name in chosen:
            out.add(name)
        else:
            todo.extend(upstream.get(name, ()))
    return out


def build_workload(
    topology: Topology,
    conditions: Conditions,
    families: Sequence[str],
    timings: Timings,
    *,
    stages: Sequence[str] = (),
    only_timed: bool = False,
    overhead: float | None = None,
) -> Workload:
    """The stage jobs of ``topology``'s pipeline on ``conditions.platform`` for ``families``,
    with durations from ``timings``. ``stages`` (or ``only_timed``: the stages every job of
    which has a duration) simulates a subset; the rest are listed in ``left_out``."""
    platform = conditions.platform or "linux"
    active = queries.active_stages(topology, conditions)
    for stage in stages:
        queries.require_stage(topology, stage)
        if stage not in active:
            raise InputError(f"stage '{stage}' builds nothing on {platform}")
    if not families and any(topology.build_stages[s].per_arch for s in active):
        raise InputError("no GPU families given: per-arch stages need at least one")

    def jobs_of(stage: str) -> list[str]:
        return list(families) if topology.build_stages[stage].per_arch else [""]

    def untimed(stage: str) -> list[str]:
        return [
            f"{stage}/{f}" if f else stage
            for f in jobs_of(stage)
            if timings.job_seconds(platform, stage, f) is None
        ]

    chosen = [s for s in active if not stages or s in stages]
    if only_timed:
        chosen = [s for s in chosen if not untimed(s)]
    missing = [name for s in chosen for name in untimed(s)]
    if missing:
        raise InputError(
            f"{timings.origin}: no duration for {', '.join(missing)} on {platform}: add them "
            "to a timings file, or leave the stages out (--stages, --only-timed)"
        )
    if not chosen:
        raise InputError(f"{timings.origin}: no stage of the pipeline on {platform} has durations")
    left_out = tuple(
        (s, "no timings" if untimed(s) else "left out") for s in active if s not in chosen
    )
    upstream = queries.stage_graph(topology, conditions)
    chosen_set = set(chosen)
    deps = {s: sorted(_nearest_chosen(s, upstream, chosen_set)) for s in chosen}
    out: list[SimJob] = []
    for k, wave in enumerate(graph.waves(chosen, deps)):
        for stage in wave:
            for family in jobs_of(stage):
                needs = tuple(
                    (up, theirs)
                    for up in deps[stage]
                    for theirs in jobs_of(up)
                    if not family or not theirs or theirs == family
                )
                seconds = timings.job_seconds(platform, stage, family)
                assert seconds is not None  # checked above
                out.append(SimJob(stage, family, seconds, k, needs))
    published = {
        f: figure
        for (p, f), figure in timings.monolithic.items()
        if p == platform and f in families
    }
    return Workload(
        platform=platform,
        families=tuple(families),
        jobs=tuple(out),
        before=timings.before or 0.0,
        after=timings.after or 0.0,
        overhead=overhead if overhead is not None else (timings.overhead or 0.0),
        left_out=left_out,
        monolithic_published=published,
    )


def restricted(workload: Workload, keys: frozenset[JobKey]) -> Workload:
    """The workload with only the jobs ``keys`` (the others are taken from a cache)."""
    jobs = tuple(
        SimJob(j.stage, j.family, j.seconds, j.wave, tuple(d for d in j.deps if d in keys))
        for j in workload.jobs
        if j.key in keys
    )
    return replace(workload, jobs=jobs)
