"""What a pipeline would cost before running it: schedules of a topology's stage jobs with given
durations, as one job per family, as the generated waves, as the exact stage DAG, and over a
change history with stage caching."""

from action_lib.simulate.history import (
    BuildSelection,
    HistoryCommit,
    ImpactSelection,
    parse_history,
    simulate_history,
)
from action_lib.simulate.schedule import VARIANTS, Outcome, Task, list_schedule, simulate
from action_lib.simulate.timings import Timings, parse_timings, resolve_timings
from action_lib.simulate.workload import SimJob, Workload, build_workload, restricted

__all__ = [
    "VARIANTS",
    "BuildSelection",
    "HistoryCommit",
    "ImpactSelection",
    "Outcome",
    "SimJob",
    "Task",
    "Timings",
    "Workload",
    "build_workload",
    "list_schedule",
    "parse_history",
    "parse_timings",
    "resolve_timings",
    "restricted",
    "simulate",
    "simulate_history",
]
