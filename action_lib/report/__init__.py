"""Run reports: the timeline of a pipeline run, where its time went, its critical path."""

from action_lib.report.analysis import JobTiming, RunReport, WaveWait, analyze_run
from action_lib.report.mapping import PHASES, JobIdentity, PhaseRules, identify, phase_rules
from action_lib.report.model import JobRecord, RunRecord, StepRecord, loads_run

__all__ = [
    "PHASES",
    "JobIdentity",
    "JobRecord",
    "JobTiming",
    "PhaseRules",
    "RunRecord",
    "RunReport",
    "StepRecord",
    "WaveWait",
    "analyze_run",
    "identify",
    "loads_run",
    "phase_rules",
]
