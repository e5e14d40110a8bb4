"""``rockshard matrix``: the stage jobs of a pipeline, wave by wave, for the setup job."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from action_lib import families as fam
from action_lib.cli import common
from action_lib.cli.output import emit_json, table
from action_lib.edges import gha
from action_lib.errors import EXIT_OK, InputError
from action_lib.inputs.lists import parse_list
from action_lib.pipeline.config import MAX_WAVES
from action_lib.pipeline.matrix import plan_markdown, plan_pipeline, plan_table, wave_outputs
from action_lib.settings.pipeline_file import CONFIG_NAME, load_pipeline_config
from action_lib.topology.model import Conditions, Topology


def _matrix(args: argparse.Namespace) -> int:
    topology = common.topology(args)
    cond = common.conditions(args)
    if cond.platform is None:
        raise InputError("matrix needs --platform linux|windows")
    config = load_pipeline_config(args.config, args.topology, tuple(topology.build_stages))
    if args.amdgpu_families and args.tier:
        raise InputError("give --amdgpu-families or --tier, not both")
    families = fam.resolve_families(
        args.families_or_tier or args.tier or args.amdgpu_families, cond.platform
    )
    stages = args.stages
    sparse: dict[str, tuple[str, ...]] = {}
    if args.sparse:
        from action_lib.sources.checkout import sparse_checkout_paths

        sparse = sparse_checkout_paths(
            topology, list(topology.build_stages), repo=args.repo, platform=cond.platform
        )
    plan = plan_pipeline(topology, cond, families, config, stages, sparse)
    max_waves = args.max_waves or config.max_waves
    if not 1 <= max_waves <= MAX_WAVES:
        raise InputError(f"--max-waves must be from 1 to {MAX_WAVES}")
    outputs = wave_outputs(plan, max_waves)
    if args.gha_output:
        for name, value in outputs.items():
            gha.set_output(name, value)
        gha.set_output("families", ",".join(families))
        gha.append_summary(plan_markdown(plan))
    if args.impact:
        _impact(topology, cond, args)
    if args.format == "json":
        data: dict[str, Any] = plan.to_json()
        emit_json(data)
    else:
        sys.stdout.write(f"platform {plan.platform}, families {', '.join(families) or '-'}\n")
        table(("wave", "stage", "family", "runs-on", "timeout"), plan_table(plan))
    return EXIT_OK


def _impact(topology: Topology, cond: Conditions, args: argparse.Namespace) -> None:
    """Which stages the triggering change affects: informative for now (all stages still run)."""
    from action_lib.impact.render import report_markdown
    from action_lib.jobs.event import affected_stages_for_event

    report = affected_stages_for_event(topology, repo=args.repo, conditions=cond)
    if args.gha_output:
        gha.set_output("affected-stages", json.dumps(list(report.affected)))
        gha.set_output("impact-fallback", report.fallback)
        gha.append_summary(report_markdown(report))
    sys.stderr.write(
        f"impact: {len(report.affected)} of {len(report.stages)} stages affected"
        + (f" ({report.fallback})" if report.fallback else "")
        + "\n"
    )


def register(commands: Any) -> None:
    """Add ``matrix``."""
    p = commands.add_parser(
        "matrix",
        help="job matrices per wave for a pipeline",
        description="The stage jobs of a pipeline in parallel waves: per-arch stages once per "
        "family; stages that build nothing on the platform get no job.",
    )
    common.add_topology_arg(p)
    common.add_condition_args(p)
    common.add_format_arg(p)
    p.add_argument(
        "--amdgpu-families", default="", help="GPU families, comma or semicolon separated"
    )
    p.add_argument(
        "--tier", default="", choices=("", *fam.TIERS), help="a CI tier of families instead"
    )
    p.add_argument(
        "--families-or-tier", default="", help="a family list, or a tier name (for actions)"
    )
    p.add_argument(
        "--stages", type=parse_list, default=(), help="only these stages (comma separated)"
    )
    p.add_argument(
        "--config",
        type=Path,
        default=None,
        help=f"pipeline settings (default: {CONFIG_NAME} beside the topology)",
    )
    p.add_argument(
        "--max-waves",
        type=int,
        default=0,
        help="wave jobs in the workflow (default: from settings, 6)",
    )
    p.add_argument(
        "--gha-output",
        action="store_true",
        help="write step outputs wave-<k>, waves, families and a job summary",
    )
    p.add_argument(
        "--sparse",
        action="store_true",
        help="put each stage's sparse-checkout cone in its entries (needs a git checkout)",
    )
    p.add_argument(
        "--impact",
        action="store_true",
        help="also report the stages the triggering event's change affects (outputs affected-stages)",
    )
    p.add_argument(
        "--repo", type=Path, default=Path(), help="the checkout (for --sparse, --impact)"
    )
    p.set_defaults(handler=_matrix)
