"""``rockshard impact``: which stages a change affects, and why."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from action_lib.cli import common
from action_lib.cli.output import emit_json
from action_lib.edges import gha
from action_lib.errors import EXIT_OK, InputError
from action_lib.impact.analyze import ImpactReport
from action_lib.impact.render import report_json, report_markdown, report_text
from action_lib.impact.rules import ImpactRules
from action_lib.settings import environment
from action_lib.sources.git import GitRunner
from action_lib.topology.model import Topology


def rules_from_args(
    args: argparse.Namespace, topology: Topology, runner: GitRunner, rev: str
) -> ImpactRules:
    """The impact rules of ``--rules``, ``--affects-all``, ``--affects-none`` and
    ``--descriptor-folders``."""
    from action_lib.jobs.event import impact_rules  # PyGithub: slow import

    return impact_rules(
        topology,
        rules_file=args.rules,
        affects_all=args.affects_all,
        affects_none=args.affects_none,
        descriptor_folders_at=rev if args.descriptor_folders else None,
        repo=args.repo,
        runner=runner,
    )


def _emit(report: ImpactReport, fmt: str) -> None:
    # The changed paths are outside data: JSON quotes them; a listing for people is wrapped in
    # ::stop-commands:: in Actions, on top of each value being escaped.
    if fmt == "json":
        emit_json(report_json(report))
    elif fmt == "markdown":
        gha.write_listing(report_markdown(report), sys.stdout)
    else:
        gha.write_listing(report_text(report), sys.stdout)


def _impact(args: argparse.Namespace) -> int:
    if args.topology is None:
        args.topology = args.repo / "BUILD_TOPOLOGY.toml"
    topology = common.topology(args)
    conditions = common.conditions(args)
    runner = GitRunner(retries=2, timeout=600.0)
    if args.event:
        if args.base or args.head:
            raise InputError("--event takes the commits from the event: drop --base/--head")
        rules = rules_from_args(args, topology, runner, "HEAD")
        from action_lib.jobs.event import affected_stages_for_event  # PyGithub: slow import

        report = affected_stages_for_event(
            topology,
            env=environment.environ(),
            repo=args.repo,
            conditions=conditions,
            rules=rules,
            runner=runner,
        )
    else:
        if not args.base or not args.head:
            raise InputError("give --base and --head (or --event in a workflow)")
        rules = rules_from_args(args, topology, runner, args.head)
        from action_lib.jobs.event import range_impact

        report = range_impact(
            topology,
            args.repo,
            args.base,
            args.head,
            rules=rules,
            conditions=conditions,
            runner=runner,
        )
    _emit(report, args.format)
    if args.gha_output:
        gha.set_output("affected-stages", json.dumps(list(report.affected)))
        gha.set_output("everything", "true" if report.everything else "false")
        gha.append_summary(report_markdown(report))
    return EXIT_OK


def register(commands: Any) -> None:
    """Add ``impact``."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "impact",
        help="the stages a change affects, with the rule each changed path met",
        description="Map changed paths and submodule moves to source sets, stages and every "
        "stage downstream. A path no rule covers makes every stage affected.",
    )
    common.add_topology_arg(parser)
    parser.set_defaults(topology=None)  # default: the one in --repo
    common.add_condition_args(parser)
    common.add_format_arg(parser, "markdown")
    parser.add_argument("--base", metavar="REV", help="the revision before the change")
    parser.add_argument("--head", metavar="REV", help="the revision after the change")
    parser.add_argument(
        "--event",
        action="store_true",
        help="take the changes from the workflow event (GITHUB_EVENT_NAME, GITHUB_EVENT_PATH, "
        "GITHUB_REPOSITORY, GITHUB_TOKEN; git diff under act or without a token)",
    )
    parser.add_argument("--repo", type=Path, default=Path(), help="the checkout (default: .)")
    parser.add_argument("--rules", type=Path, metavar="FILE", help="TOML with an [impact] table")
    parser.add_argument(
        "--affects-all",
        action="append",
        default=[],
        metavar="PATTERN",
        help="another pattern whose paths affect every stage (repeatable)",
    )
    parser.add_argument(
        "--affects-none",
        action="append",
        default=[],
        metavar="PATTERN",
        help="another pattern whose paths affect no stage (repeatable)",
    )
    parser.add_argument(
        "--descriptor-folders",
        action="store_true",
        help="map a folder holding artifact*.toml descriptors to their artifacts' groups",
    )
    parser.add_argument(
        "--gha-output",
        action="store_true",
        help="set step outputs affected-stages and everything, and write the job summary",
    )
    parser.set_defaults(handler=_impact)
