"""Where a run's time went: phases of every stage job, the critical path through the stage DAG,
how long each wave waited on its slowest job, runner time. Pure.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from action_lib.families import known_families
from action_lib.report.mapping import PHASES, JobIdentity, PhaseRules, identify
from action_lib.report.mapping import phase_rules as default_rules
from action_lib.report.model import JobRecord, RunRecord
from action_lib.topology import queries
from action_lib.topology.model import Conditions, Topology


@dataclass(frozen=True)
class JobTiming:
    """One job on the run's clock: seconds since the run began."""

    record: JobRecord
    identity: JobIdentity
    start: float
    end: float
    phases: Mapping[str, float]  # every phase of PHASES; they add up to queue + seconds
    gap: float  # from the last job that ended before it started, to its start

    @property
    def seconds(self) -> float:
        """Runner time."""
        return self.end - self.start

    @property
    def label(self) -> str:
        """The stage and family, or the job's name for a pipeline job."""
        return self.identity.label or self.record.name

    @property
    def is_stage(self) -> bool:
        """True for a job that built a stage."""
        return bool(self.identity.stage)


@dataclass(frozen=True)
class WaveWait:
    """A wave of stage jobs, and how long it waited on its slowest (last to finish) job."""

    wave: int
    jobs: tuple[str, ...]
    start: float
    end: float
    slowest: str
    slowest_seconds: float
    waited: float  # the wave's end minus the end of its other jobs (0 for a single job)


@dataclass(frozen=True)
class RunReport:
    """Everything ``rockshard report`` says about one run."""

    run: RunRecord
    platform: str
    families: tuple[str, ...]
    jobs: tuple[JobTiming, ...]  # in start order
    running: tuple[str, ...]  # jobs without an end yet: listed, not counted
    waves: tuple[WaveWait, ...]
    critical_path: tuple[JobTiming, ...]
    stage_edges: tuple[tuple[str, str], ...]  # (upstream, downstream) of the stages that ran
    missing: tuple[str, ...]  # stage jobs the topology expects that did not run: no timing
    duplicates: tuple[str, ...]  # stage jobs that appear more than once
    wall: float

    @property
    def stage_jobs(self) -> tuple[JobTiming, ...]:
        """The jobs that built a stage."""
        return tuple(j for j in self.jobs if j.is_stage)

    @property
    def runner_seconds(self) -> float:
        """Runner time of every finished job."""
        return sum(j.seconds for j in self.jobs)

    @property
    def billed_minutes(self) -> int:
        """GitHub's billing: each job's time rounded up to a whole minute."""
        return sum(math.ceil(j.seconds / 60) for j in self.jobs if j.seconds > 0)

    def phase_totals(self) -> dict[str, float]:
        """Seconds per phase over the stage jobs."""
        return {p: sum(j.phases[p] for j in self.stage_jobs) for p in PHASES}

    @property
    def gaps(self) -> tuple[float, ...]:
        """Every job's start latency after the job it waited on (the per-job overhead)."""
        return tuple(j.gap for j in self.jobs)


def _phases(job: JobRecord, rules: PhaseRules) -> dict[str, float]:
    """Seconds per phase; steps are clipped to the job and to each other (they run one after
    another), and what no step covers is "other", so the phases add up to the job's time."""
    out = dict.fromkeys(PHASES, 0.0)
    if job.started is None or job.completed is None:
        return out
    if job.created is not None:
        out["queue"] = max(0.0, job.started - job.created)
    cursor = job.started
    covered = 0.0
    for step in job.steps:
        if step.started is None or step.completed is None:
            continue
        begin = max(step.started, cursor)
        finish = min(step.completed, job.completed)
        if finish <= begin:
            continue
        out[rules.phase(step.name)] += finish - begin
        covered += finish - begin
        cursor = finish
    out["other"] += max(0.0, job.seconds - covered)
    return out


def _upstream_jobs(
    job: JobTiming, by_stage: Mapping[str, list[JobTiming]], upstream: Mapping[str, Sequence[str]]
) -> list[JobTiming]:
    """The stage jobs ``job`` needs in the stage DAG: a per-arch job needs its own family's
    shard of an upstream per-arch stage; a generic job needs every shard."""
    out: list[JobTiming] = []
    family = job.identity.family
    for stage in upstream.get(job.identity.stage, ()):
        for other in by_stage.get(stage, ()):
            theirs = other.identity.family
            if not family or not theirs or theirs == family:
                out.append(other)
    return out


def _latest(jobs: Sequence[JobTiming]) -> JobTiming:
    return max(jobs, key=lambda j: (j.end, j.label))


def _critical_path(
    stage_jobs: Sequence[JobTiming], upstream: Mapping[str, Sequence[str]]
) -> tuple[JobTiming, ...]:
    """From the stage job that finished last, back through the upstream job each one waited
    for last: a path of the stage DAG."""
    if not stage_jobs:
        return ()
    by_stage: dict[str, list[JobTiming]] = {}
    for job in stage_jobs:
        by_stage.setdefault(job.identity.stage, []).append(job)
    path = [_latest(stage_jobs)]
    while True:
        before = [u for u in _upstream_jobs(path[-1], by_stage, upstream) if u.end <= path[-1].end]
        if not before:
            break
        path.append(_latest(before))
    return tuple(reversed(path))


def _waves(stage_jobs: Sequence[JobTiming]) -> tuple[WaveWait, ...]:
    grouped: dict[int, list[JobTiming]] = {}
    for job in stage_jobs:
        grouped.setdefault(job.identity.wave or 0, []).append(job)
    out: list[WaveWait] = []
    for wave in sorted(grouped):
        jobs = sorted(grouped[wave], key=lambda j: (j.start, j.label))
        last = _latest(jobs)
        others = [j.end for j in jobs if j is not last]
        out.append(
            WaveWait(
                wave,
                tuple(j.label for j in jobs),
                min(j.start for j in jobs),
                last.end,
                last.label,
                last.seconds,
                last.end - max(others) if others else 0.0,
            )
        )
    return tuple(out)


def analyze_run(
    run: RunRecord,
    topology: Topology,
    conditions: Conditions,
    *,
    rules: PhaseRules | None = None,
) -> RunReport:
    """The report of ``run`` against ``topology`` under ``conditions`` (its platform)."""
    rules = rules or default_rules()
    stages = set(topology.build_stages)
    families_known = known_families()
    finished = [j for j in run.jobs if j.started is not None and j.completed is not None]
    running = tuple(sorted(j.name for j in run.jobs if j not in finished))
    moments = [t for j in finished for t in (j.created, j.started) if t is not None]
    origin = min([t for t in (run.created, *moments) if t is not None], default=0.0)
    ends = sorted(j.completed - origin for j in finished if j.completed is not None)
    wave_of = {
        s: k for k, wave in enumerate(queries.stage_waves(topology, conditions)) for s in wave
    }
    timings: list[JobTiming] = []
    for job in sorted(finished, key=lambda j: (j.started or 0.0, j.name)):
        assert job.started is not None and job.completed is not None
        start, end = job.started - origin, job.completed - origin
        before = [e for e in ends if e <= start]
        identity = identify(job.name, job.matrix, job.job_id, stages, families_known)
        if identity.stage and identity.wave is None:  # a job name without its wave
            identity = replace(identity, wave=wave_of.get(identity.stage))
        timings.append(
            JobTiming(
                job, identity, start, end, _phases(job, rules), start - max(before, default=0)
            )
        )
    stage_jobs = [t for t in timings if t.is_stage]
    upstream = queries.stage_graph(topology, conditions)
    ran = {j.identity.stage for j in stage_jobs}
    edges = tuple(sorted((u, s) for s in ran for u in upstream.get(s, ()) if u in ran))
    families = tuple(sorted({j.identity.family for j in stage_jobs if j.identity.family}))
    expected = queries.expand_jobs(topology, families, conditions)
    seen: dict[tuple[str, str], int] = {}
    for timing in stage_jobs:
        key = (timing.identity.stage, timing.identity.family)
        seen[key] = seen.get(key, 0) + 1
    missing = tuple(
        f"{e.stage} {e.family}".strip() for e in expected if (e.stage, e.family) not in seen
    )
    duplicates = tuple(f"{s} {f}".strip() for (s, f), n in sorted(seen.items()) if n > 1)
    return RunReport(
        run=run,
        platform=conditions.platform or run.platform,
        families=families,
        jobs=tuple(timings),
        running=running,
        waves=_waves(stage_jobs),
        critical_path=_critical_path(stage_jobs, upstream),
        stage_edges=edges,
        missing=missing,
        duplicates=duplicates,
        wall=max(ends, default=0.0),
    )
