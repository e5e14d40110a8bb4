"""Scheduling a workload on a pool of runners, for each way of running a pipeline. Pure.

- ``monolithic``: one job per GPU family builds everything that family needs, one stage after
  another (what TheRock's CI did before sharding);
- ``waves``: the generated pipeline: a wave's jobs start when every job of the earlier waves
  has finished (GitHub's ``needs``);
- ``dag``: each stage job starts as soon as the jobs it needs in the stage DAG have finished:
  with enough runners, its wall time is the critical path, the lower bound the waves approach.

Every job waits ``overhead`` seconds after what it waits on (runner start latency, not runner
time). With a runner limit, ready jobs take free runners in priority order: plan order for the
waves and the monolithic jobs (GitHub serves a matrix in order), the longest remaining path
first for the DAG (list scheduling; with a limit it is a good schedule, not always the best).
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from action_lib.simulate.workload import Workload

VARIANTS = ("monolithic", "waves", "dag")
SETUP = "(setup)"
FINAL = "(final)"


@dataclass(frozen=True)
class Task:
    """Something to run on one runner for ``seconds``, after every task of ``gates``."""

    name: str
    seconds: float
    gates: tuple[str, ...] = ()
    priority: tuple[float, ...] = ()


@dataclass(frozen=True)
class Placed:
    """A task on the clock."""

    name: str
    start: float
    end: float


@dataclass(frozen=True)
class Outcome:
    """One variant of one workload: wall time to a green build, runner time, the schedule."""

    variant: str
    wall: float
    runner_seconds: float
    placed: tuple[Placed, ...]

    @property
    def jobs(self) -> int:
        """How many jobs ran."""
        return len(self.placed)


def list_schedule(
    tasks: Sequence[Task], runners: int | None, overhead: float = 0.0
) -> tuple[Placed, ...]:
    """Event-driven list scheduling. ``runners`` None: as many as wanted. Deterministic."""
    order = {t.name: n for n, t in enumerate(tasks)}
    by_name = {t.name: t for t in tasks}
    dependents: dict[str, list[str]] = {}
    remaining: dict[str, int] = {}
    gates_end: dict[str, float] = {}
    waiting: list[tuple[float, int, str]] = []  # released, ready at a moment: (moment, order)
    for task in tasks:
        gates = set(task.gates)
        remaining[task.name] = len(gates)
        gates_end[task.name] = 0.0
        for gate in gates:
            dependents.setdefault(gate, []).append(task.name)
        if not gates:
            heapq.heappush(waiting, (overhead, order[task.name], task.name))
    available: list[tuple[tuple[float, ...], int, str]] = []
    running: list[tuple[float, int, str]] = []
    free = runners if runners is not None else len(tasks)
    placed: list[Placed] = []
    now = 0.0
    while True:
        while waiting and waiting[0][0] <= now:
            _, n, name = heapq.heappop(waiting)
            heapq.heappush(available, (by_name[name].priority, n, name))
        while free > 0 and available:
            _, n, name = heapq.heappop(available)
            end = now + by_name[name].seconds
            heapq.heappush(running, (end, n, name))
            placed.append(Placed(name, now, end))
            free -= 1
        moments = [queue[0][0] for queue in (running, waiting) if queue]
        if not moments:
            break
        now = min(moments)
        while running and running[0][0] <= now:
            end, _, name = heapq.heappop(running)
            free += 1
            for user in dependents.get(name, ()):
                remaining[user] -= 1
                gates_end[user] = max(gates_end[user], end)
                if remaining[user] == 0:
                    heapq.heappush(waiting, (gates_end[user] + overhead, order[user], user))
    return tuple(sorted(placed, key=lambda p: (p.start, order[p.name])))


def _framed(workload: Workload, tasks: list[Task]) -> list[Task]:
    """The pipeline jobs around the stage jobs, when their durations are known."""
    out: list[Task] = []
    if workload.before > 0:
        out.append(Task(SETUP, workload.before))
        tasks = [Task(t.name, t.seconds, (*t.gates, SETUP), t.priority) for t in tasks]
    out += tasks
    if workload.after > 0:
        out.append(Task(FINAL, workload.after, tuple(t.name for t in tasks)))
    return out


def _outcome(
    variant: str, tasks: Sequence[Task], workload: Workload, runners: int | None
) -> Outcome:
    placed = list_schedule(tasks, runners, workload.overhead)
    wall = max((p.end for p in placed), default=0.0)
    return Outcome(variant, wall, sum(t.seconds for t in tasks), placed)


def _bottom_levels(workload: Workload) -> Mapping[str, float]:
    """Each job's longest path to the end of the DAG, itself included."""
    users: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for job in workload.jobs:
        for dep in job.deps:
            users.setdefault(dep, []).append(job.key)
    level: dict[tuple[str, str], float] = {}
    by_key = {j.key: j for j in workload.jobs}
    for job in reversed(workload.jobs):  # plan order lists a job after what it needs
        after = max((level[u] for u in users.get(job.key, ()) if u in level), default=0.0)
        level[job.key] = job.seconds + after
    return {by_key[k].label: v for k, v in level.items()}


def simulate(workload: Workload, variant: str, runners: int | None = None) -> Outcome:
    """Schedule ``workload`` as ``variant`` (see the module doc) on ``runners`` runners."""
    jobs = workload.jobs
    if variant == "monolithic":
        families = workload.families or ("",)
        tasks = [
            Task(f"all stages {f}".strip(), workload.family_seconds(f))
            for f in families
            if workload.family_seconds(f) > 0
        ]
    elif variant == "waves":
        # a wave waits on the last earlier wave that has jobs (which waited on the others)
        waves = sorted({j.wave for j in jobs})
        previous = {w: waves[n - 1] if n else None for n, w in enumerate(waves)}
        tasks = [
            Task(j.label, j.seconds, tuple(e.label for e in jobs if e.wave == previous[j.wave]))
            for j in jobs
        ]
    elif variant == "dag":
        level = _bottom_levels(workload)
        tasks = [
            Task(
                j.label, j.seconds, tuple(f"{s} {f}".strip() for s, f in j.deps), (-level[j.label],)
            )
            for j in jobs
        ]
    else:
        raise ValueError(f"unknown variant {variant}")
    return _outcome(variant, _framed(workload, tasks), workload, runners)
