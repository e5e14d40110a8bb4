"""Impact: which stages a change affects, with the rule every changed path met."""

from action_lib.impact.analyze import (
    Change,
    ImpactReport,
    PathImpact,
    StageReason,
    affected_jobs,
    classify,
    compute_impact,
    everything,
)
from action_lib.impact.render import report_json, report_markdown, report_text
from action_lib.impact.rules import ImpactRules, matches, parse_rules

__all__ = [
    "Change",
    "ImpactReport",
    "ImpactRules",
    "PathImpact",
    "StageReason",
    "affected_jobs",
    "classify",
    "compute_impact",
    "everything",
    "matches",
    "parse_rules",
    "report_json",
    "report_markdown",
    "report_text",
]
