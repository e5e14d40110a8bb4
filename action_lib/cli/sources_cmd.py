"""``rockshard sources fetch|status|check``: per-stage checkouts."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from action_lib.cli import common
from action_lib.cli.output import emit_json, table
from action_lib.errors import EXIT_OK, FindingsError, InputError
from action_lib.inputs.lists import parse_list
from action_lib.inputs.untrusted import escape
from action_lib.sources.check import check_placements, placement_findings
from action_lib.sources.checkout import CheckoutOptions, fetch_stage_sources, read_gitmodules
from action_lib.sources.git import GitRunner, list_files
from action_lib.sources.layout import descriptor_locations
from action_lib.sources.status import PRESENT, source_status
from action_lib.topology.model import PLATFORMS, Topology


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _common(parser: argparse.ArgumentParser) -> None:
    common.add_topology_arg(parser)
    parser.set_defaults(topology=None)
    parser.add_argument(
        "--repo",
        type=Path,
        default=Path(),
        help="the superproject's checkout (default: .; its BUILD_TOPOLOGY.toml by default)",
    )
    parser.add_argument("--platform", choices=PLATFORMS, help="build platform (default: any)")
    common.add_format_arg(parser)


def _topology(args: argparse.Namespace) -> Topology:
    # Without --topology, the topology is the one of the checkout named by --repo.
    if args.topology is None:
        args.topology = args.repo / "BUILD_TOPOLOGY.toml"
    return common.topology(args)


def _runner(args: argparse.Namespace) -> GitRunner:
    return GitRunner(
        retries=getattr(args, "retries", 3),
        backoff=getattr(args, "backoff", 2.0),
        timeout=getattr(args, "timeout", 1800.0),
    )


def _fetch(args: argparse.Namespace) -> int:
    options = CheckoutOptions(
        depth=args.depth,
        jobs=args.jobs,
        reference_dir=args.reference_dir,
        sparse=not args.no_sparse,
        dry_run=args.dry_run,
    )
    plan, result = fetch_stage_sources(
        _runner(args),
        args.repo,
        _topology(args),
        args.stage,
        options,
        platform=args.platform,
        extra_source_sets=args.source_sets,
    )
    if args.format == "json":
        emit_json(
            {
                "plan": plan.to_json(),
                "sparse_paths": list(result.sparse_paths),
                "actions": list(result.actions),
                "dry_run": args.dry_run,
            }
        )
        return EXIT_OK
    who = f"stage {plan.stage}" if plan.stage else "source sets"
    sys.stdout.write(
        f"{who}: source sets {', '.join(plan.source_sets) or '-'}"
        + (" (dry run)" if args.dry_run else "")
        + "\n"
    )
    for line in result.actions:  # origins and paths from the topology, git's words
        sys.stdout.write(f"  {escape(line)}\n")
    if not result.actions:
        sys.stdout.write("  nothing to fetch\n")
    return EXIT_OK


def _status(args: argparse.Namespace) -> int:
    topology = _topology(args)
    runner = _runner(args)
    submodules = read_gitmodules(runner, args.repo)
    rows = source_status(
        runner, args.repo, topology, submodules, stage=args.stage, platform=args.platform
    )
    if args.format == "json":
        emit_json({"stage": args.stage or "", "sources": [r.to_json() for r in rows]})
    else:
        table(
            ("kind", "name", "source set", "path", "state", "expected", "actual"),
            [
                (
                    r.kind,
                    r.name,
                    r.source_set or "-",
                    r.path,
                    r.state,
                    r.expected[:12] or "-",
                    r.actual[:12] or "-",
                )
                for r in rows
            ],
        )
    missing = [r for r in rows if r.state != PRESENT]
    return 1 if args.require and missing else EXIT_OK


def _locations(
    args: argparse.Namespace, topology: Topology, runner: GitRunner
) -> dict[str, tuple[str, ...]]:
    if args.subprojects is not None:
        try:
            data = json.loads(Path(args.subprojects).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot read {args.subprojects}: {exc}") from None
        if not isinstance(data, dict) or not all(
            isinstance(v, list) and all(isinstance(x, str) for x in v) for v in data.values()
        ):
            raise InputError(f"{args.subprojects}: expected {{artifact: [folder, ...]}}")
        unknown = sorted(set(data) - set(topology.artifacts))
        if unknown:
            raise InputError(f"{args.subprojects}: unknown artifacts: {', '.join(unknown)}")
        return {k: tuple(v) for k, v in data.items()}
    found, _unknown = descriptor_locations(topology, list_files(runner, args.repo))
    return found


def _check(args: argparse.Namespace) -> int:
    topology = _topology(args)
    runner = _runner(args)
    submodules = read_gitmodules(runner, args.repo)
    locations = _locations(args, topology, runner)
    placements = check_placements(topology, locations, submodules, args.platform)
    findings = placement_findings(topology, placements)
    if args.format == "json":
        emit_json({"placements": [p.to_json() for p in placements], "problems": len(findings)})
    else:
        table(
            ("stage", "artifact", "folder", "verdict", "source set"),
            [(p.stage, p.artifact, p.folder, p.verdict, p.source_set or "-") for p in placements],
        )
        sys.stdout.write(
            f"{len(placements)} subproject folders of {len(locations)} artifacts checked, "
            f"{len(findings)} outside their stage's source sets\n"
        )
    if findings:
        raise FindingsError(findings)
    return EXIT_OK


def register(commands: Any) -> None:
    """Add ``sources`` and its sub-commands."""
    parser = commands.add_parser("sources", help="per-stage source checkouts")
    sub = parser.add_subparsers(dest="sources_command", metavar="SUBCOMMAND", required=True)

    fetch = sub.add_parser("fetch", help="check out what a stage builds")
    _common(fetch)
    fetch.add_argument("--stage", help="the stage whose source sets to fetch")
    fetch.add_argument(
        "--source-sets",
        metavar="A,B",
        type=parse_list,
        default=(),
        help="more source sets to fetch",
    )
    fetch.add_argument("--depth", type=_positive, help="shallow fetch of this depth")
    fetch.add_argument("--jobs", type=_positive, help="submodules fetched in parallel")
    fetch.add_argument(
        "--reference-dir",
        type=Path,
        metavar="DIR",
        help="mirrors to borrow objects from: one repository, or DIR/<name>[.git]",
    )
    fetch.add_argument(
        "--no-sparse",
        action="store_true",
        help="keep the whole tree even when source sets own path_prefixes",
    )
    fetch.add_argument("--dry-run", action="store_true", help="print what would be done")
    fetch.add_argument("--retries", type=int, default=3, help="retries of transient git failures")
    fetch.add_argument("--backoff", type=float, default=2.0, help="first retry delay, seconds")
    fetch.add_argument(
        "--timeout",
        type=float,
        default=1800.0,
        help="seconds before a git command is killed (default: %(default)s)",
    )
    fetch.set_defaults(handler=_fetch)

    status = sub.add_parser("status", help="present, missing or different-commit sources")
    _common(status)
    status.add_argument("--stage", help="only this stage's sources")
    status.add_argument(
        "--require",
        action="store_true",
        help="exit 1 unless every listed source is present at its commit",
    )
    status.set_defaults(handler=_status)

    check = sub.add_parser("check", help="every stage checks out the sources it builds")
    _common(check)
    check.add_argument(
        "--subprojects",
        type=Path,
        metavar="FILE",
        help="JSON {artifact: [folder, ...]} (default: artifact*.toml folders)",
    )
    check.set_defaults(handler=_check)
