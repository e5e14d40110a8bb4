"""Per-stage sources: what a stage checks out (plan), fetching it, its status and coverage."""

from action_lib.sources.check import Placement, check_placements, placement_findings
from action_lib.sources.checkout import (
    CheckoutOptions,
    CheckoutResult,
    fetch_sources,
    read_gitmodules,
    sparse_checkout_paths,
)
from action_lib.sources.git import GitRunner
from action_lib.sources.gitmodules import GitSubmodule, parse_gitmodules
from action_lib.sources.layout import Owned, owned_paths
from action_lib.sources.plan import SourcePlan, plan_sources, sparse_cone
from action_lib.sources.status import SourceState, source_status

__all__ = [
    "CheckoutOptions",
    "CheckoutResult",
    "GitRunner",
    "GitSubmodule",
    "Owned",
    "Placement",
    "SourcePlan",
    "SourceState",
    "check_placements",
    "fetch_sources",
    "owned_paths",
    "parse_gitmodules",
    "placement_findings",
    "plan_sources",
    "read_gitmodules",
    "source_status",
    "sparse_checkout_paths",
    "sparse_cone",
]
