"""``rockshard simulate``: what a pipeline would cost (wall time, runner-hours), before running
it: one job per family, the generated waves, the exact stage DAG, and over a change history,
the waves with stage caching."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from action_lib.cache.inputs_config import rules_from_file
from action_lib.cli import common
from action_lib.cli.output import emit_json
from action_lib.edges.outputfiles import write_atomic
from action_lib.errors import EXIT_OK, InputError
from action_lib.families import TIERS, resolve_families
from action_lib.impact.rules import ImpactRules
from action_lib.inputs.lists import parse_list
from action_lib.simulate.history import ImpactSelection, parse_history, simulate_history
from action_lib.simulate.render import (
    Simulation,
    history_svg,
    simulation_json,
    simulation_markdown,
    simulation_text,
)
from action_lib.simulate.schedule import VARIANTS, simulate
from action_lib.simulate.timings import parse_timings, resolve_timings
from action_lib.simulate.workload import build_workload
from action_lib.sources.gitmodules import GitSubmodule, parse_gitmodules
from action_lib.sources.layout import descriptor_locations, folder_groups
from action_lib.topology.model import PLATFORMS, PROCESSORS, Conditions, Topology


def _read(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read the {what}: {exc}") from None


def _selection(args: argparse.Namespace, topology: Topology, cond: Conditions) -> ImpactSelection:
    """Impact rules, submodules and descriptor folders for replaying the history."""
    rules = ImpactRules()
    if args.rules is not None:
        rules = rules_from_file(_read(args.rules, "impact rules"), str(args.rules), topology)
    submodules: tuple[GitSubmodule, ...] = ()
    if args.gitmodules is not None:
        submodules = parse_gitmodules(_read(args.gitmodules, ".gitmodules"), str(args.gitmodules))
    if args.descriptor_root is not None:
        root: Path = args.descriptor_root
        if not root.is_dir():
            raise InputError(f"--descriptor-root {root}: not a directory")
        files = sorted(p.relative_to(root).as_posix() for p in root.rglob("artifact*.toml"))
        locations, _unknown = descriptor_locations(topology, files)
        rules = rules.extended(folders=folder_groups(topology, locations))
    return ImpactSelection(topology, cond, rules, submodules)


def _simulate(args: argparse.Namespace) -> int:
    topology = common.topology(args)
    cond = Conditions(args.platform, args.processor, frozenset(args.flag))
    if args.amdgpu_families and args.tier:
        raise InputError("give --amdgpu-families or --tier, not both")
    families = resolve_families(args.amdgpu_families or args.tier or "presubmit", args.platform)
    if args.runners is not None and args.runners < 1:
        raise InputError("--runners must be at least 1")
    if args.job_overhead is not None and args.job_overhead < 0:
        raise InputError("--job-overhead must not be negative")
    if args.svg is not None and args.history is None:
        raise InputError("--svg charts a history: give --history FILE")
    files = [parse_timings(_read(p, "timings"), p.as_posix()) for p in args.timings]
    timings = resolve_timings(files, topology, args.ccache)
    stages: tuple[str, ...] = args.stages
    if stages and args.only_timed:
        raise InputError("give --stages or --only-timed, not both")
    workload = build_workload(
        topology,
        cond,
        families,
        timings,
        stages=stages,
        only_timed=args.only_timed,
        overhead=args.job_overhead,
    )
    history = None
    if args.history is not None:
        commits = parse_history(_read(args.history, "history"), args.history.as_posix())
        selection = _selection(args, topology, cond)
        history = simulate_history(workload, commits, selection, args.runners)
    one = {v: simulate(workload, v, args.runners) for v in VARIANTS}
    sim = Simulation(workload, timings, args.runners, args.ccache, one, history)
    if args.svg is not None and history is not None:
        title = f"runner-hours per commit, {workload.platform}, {len(workload.families)} families"
        write_atomic(args.svg, history_svg(history, title))
    if args.format == "json":
        emit_json(simulation_json(sim))
    elif args.format == "markdown":
        sys.stdout.write(simulation_markdown(sim))
    else:
        sys.stdout.write(simulation_text(sim))
    if args.svg is not None:
        sys.stderr.write(f"chart: {args.svg.as_posix()}\n")
    return EXIT_OK


def register(commands: Any) -> None:
    """Add ``simulate``."""
    p = commands.add_parser(
        "simulate",
        help="what a pipeline would cost: monolithic, waves, stage DAG, stage caching",
        description="Schedule the topology's stage jobs with durations from timings files "
        "(TheRock's published_timings.json format, or rockshard report --format json) on a "
        "pool of runners; with --history, replay a change history commit by commit.",
    )
    common.add_topology_arg(p)
    p.add_argument("--platform", choices=PLATFORMS, default="linux")
    p.add_argument("--processor", choices=PROCESSORS, help="CPU processor (default: any)")
    p.add_argument("--flag", action="append", default=[], metavar="NAME")
    p.add_argument("--amdgpu-families", default="", help="GPU families, comma separated")
    p.add_argument(
        "--tier", default="", choices=("", *TIERS), help="a CI tier (default: presubmit)"
    )
    p.add_argument(
        "--timings",
        type=Path,
        action="append",
        required=True,
        metavar="FILE",
        help="durations (repeatable; a later file overrides an earlier one)",
    )
    p.add_argument("--ccache", choices=("cold", "warm"), default="cold", help="which figures")
    p.add_argument("--runners", type=int, default=None, help="runner limit (default: unlimited)")
    p.add_argument(
        "--job-overhead",
        type=float,
        default=None,
        metavar="SECONDS",
        help="start latency of every job (default: a report's measured mean, else 0)",
    )
    p.add_argument(
        "--stages", type=parse_list, default=(), help="simulate only these stages (comma separated)"
    )
    p.add_argument(
        "--only-timed",
        action="store_true",
        help="simulate only the stages with durations for every job; list the others",
    )
    p.add_argument("--history", type=Path, default=None, metavar="FILE", help="commits.jsonl")
    p.add_argument("--rules", type=Path, default=None, metavar="FILE", help="impact rules TOML")
    p.add_argument("--gitmodules", type=Path, default=None, metavar="FILE")
    p.add_argument(
        "--descriptor-root",
        type=Path,
        default=None,
        metavar="DIR",
        help="map folders holding artifact*.toml under DIR to their artifacts' groups",
    )
    p.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    p.add_argument("--svg", type=Path, default=None, metavar="FILE", help="chart of a history")
    p.set_defaults(handler=_simulate)
