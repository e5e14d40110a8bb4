"""``rockshard topology ...``: validate, show and query a BUILD_TOPOLOGY.toml."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from action_lib.cli import common
from action_lib.cli.output import emit_json, table
from action_lib.errors import EXIT_OK, InputError
from action_lib.inputs.lists import parse_list
from action_lib.therock.inbound import compare_inbound
from action_lib.topology import queries as q
from action_lib.topology import render


def _validate(args: argparse.Namespace) -> int:
    t = common.topology(args)
    sys.stdout.write(
        f"{t.path}: valid: {len(t.source_sets)} source sets, {len(t.build_stages)} stages, "
        f"{len(t.artifact_groups)} groups, {len(t.artifacts)} artifacts\n"
    )
    return EXIT_OK


def _stage_rows(args: argparse.Namespace) -> list[dict[str, Any]]:
    t = common.topology(args)
    cond = common.conditions(args)
    analysis = q.analyze(t, cond)
    return [
        {
            "name": s.name,
            "type": s.type,
            "artifact_groups": list(s.artifact_groups),
            "produced": list(analysis.produced[s.name]),
            "inbound": list(analysis.inbound[s.name]),
            "upstream": list(analysis.upstream[s.name]),
            "source_sets": list(q.stage_source_sets(t, s.name, cond.platform)),
        }
        for s in sorted(t.build_stages.values(), key=lambda s: s.name)
    ]


def _show(args: argparse.Namespace) -> int:
    t = common.topology(args)
    cond = common.conditions(args)
    data: dict[str, Any] = {
        "path": t.path,
        "version": t.version,
        "description": t.description,
        "counts": {
            "source_sets": len(t.source_sets),
            "build_stages": len(t.build_stages),
            "artifact_groups": len(t.artifact_groups),
            "artifacts": len(t.artifacts),
            "enabled_artifacts": len(q.enabled_artifacts(t, cond)),
        },
        "waves": q.stage_waves(t, cond),
    }
    if args.format == "json":
        emit_json(data)
        return EXIT_OK
    sys.stdout.write(f"{t.path} (schema {t.version}): {t.description}\n")
    for key, value in data["counts"].items():
        sys.stdout.write(f"  {key.replace('_', ' ')}: {value}\n")
    for n, wave in enumerate(data["waves"]):
        sys.stdout.write(f"  wave {n}: {', '.join(wave)}\n")
    return EXIT_OK


def _stages(args: argparse.Namespace) -> int:
    rows = _stage_rows(args)
    if args.format == "json":
        emit_json({"stages": rows})
        return EXIT_OK
    table(
        ("stage", "type", "groups", "produced", "inbound", "upstream"),
        [
            (
                r["name"],
                r["type"],
                len(r["artifact_groups"]),
                len(r["produced"]),
                len(r["inbound"]),
                ", ".join(r["upstream"]) or "-",
            )
            for r in rows
        ],
    )
    return EXIT_OK


def _artifacts(args: argparse.Namespace) -> int:
    t = common.topology(args)
    cond = common.conditions(args)
    enabled = set(q.enabled_artifacts(t, cond))
    rows = [
        {
            "name": a.name,
            "group": a.artifact_group,
            "stage": t.artifact_to_stage.get(a.name, ""),
            "type": a.type,
            "feature_name": a.feature_name,
            "feature_group": a.feature_group,
            "enabled": a.name in enabled,
            "artifact_deps": list(a.artifact_deps),
        }
        for a in sorted(t.artifacts.values(), key=lambda a: a.name)
    ]
    if args.format == "json":
        emit_json({"artifacts": rows})
        return EXIT_OK
    table(
        ("artifact", "group", "stage", "type", "feature", "enabled"),
        [
            (
                r["name"],
                r["group"],
                r["stage"],
                r["type"],
                r["feature_name"],
                "yes" if r["enabled"] else "no",
            )
            for r in rows
        ],
    )
    return EXIT_OK


def _artifact_set(args: argparse.Namespace, which: str) -> int:
    t = common.topology(args)
    cond = common.conditions(args)
    names = (
        q.produced_artifacts(t, args.stage, cond)
        if which == "produced"
        else q.inbound_artifacts(t, args.stage, cond)
    )
    if args.format == "json":
        data: dict[str, Any] = {"stage": args.stage, which: list(names)}
        if which == "inbound":
            data["from_stages"] = {a: t.artifact_to_stage.get(a, "") for a in names}
        emit_json(data)
        return EXIT_OK
    if which == "inbound":
        table(("artifact", "from stage"), [(a, t.artifact_to_stage.get(a, "-")) for a in names])
    else:
        sys.stdout.writelines(f"{a}\n" for a in names)
    return EXIT_OK


def _inbound(args: argparse.Namespace) -> int:
    if args.compare_therock:
        return _compare_therock(args)
    if not args.stage:
        raise InputError("topology inbound needs --stage NAME")
    return _artifact_set(args, "inbound")


def _compare_therock(args: argparse.Namespace) -> int:
    t = common.topology(args)
    if args.stage:
        q.require_stage(t, args.stage)
    extra = {
        stage: names
        for stage, names in compare_inbound(t, common.conditions(args)).items()
        if not args.stage or stage == args.stage
    }
    if args.format == "json":
        emit_json({"therock_extra": {stage: list(names) for stage, names in extra.items()}})
        return EXIT_OK
    table(
        ("stage", "extra", "fetched by TheRock's get_inbound_artifacts, not needed"),
        [(stage, len(names), ", ".join(names) or "-") for stage, names in extra.items()],
    )
    return EXIT_OK


def _order(args: argparse.Namespace) -> int:
    t = common.topology(args)
    cond = common.conditions(args)
    waves = q.stage_waves(t, cond)
    families = list(args.amdgpu_families)
    jobs = q.expand_jobs(t, families, cond) if families else []
    if args.format == "json":
        emit_json(
            {
                "order": [s for w in waves for s in w],
                "waves": waves,
                "jobs": [{"stage": j.stage, "family": j.family} for j in jobs],
            }
        )
        return EXIT_OK
    for n, wave in enumerate(waves):
        sys.stdout.write(f"wave {n}: {', '.join(wave)}\n")
    for job in jobs:
        sys.stdout.write(f"job {job.stage}" + (f" [{job.family}]" if job.family else "") + "\n")
    return EXIT_OK


def _graph(args: argparse.Namespace) -> int:
    t = common.topology(args)
    cond = common.conditions(args)
    edges: dict[str, tuple[str, ...]]
    if args.kind == "artifacts":
        edges = q.artifact_graph(t, cond)
    elif args.kind == "groups":
        edges = q.group_graph(t)
    else:
        upstream = q.stage_graph(t, cond)
        edges = {s: upstream[s] for s in sorted(upstream)}
    if args.format == "json":
        emit_json({"kind": args.kind, "edges": {k: sorted(v) for k, v in edges.items()}})
    elif args.format == "dot":
        sys.stdout.write(render.to_dot(f"{args.kind}", edges))
    elif args.format == "mermaid":
        sys.stdout.write(render.to_mermaid(edges))
    else:
        sys.stdout.write(render.to_text(edges))
    return EXIT_OK


def register(commands: Any) -> None:
    """Add ``topology`` and its sub-commands."""
    parser = commands.add_parser("topology", help="validate and query BUILD_TOPOLOGY.toml")
    sub = parser.add_subparsers(dest="topology_command", metavar="SUBCOMMAND", required=True)

    def add(
        name: str, handler: Any, help_text: str, *, stage: bool = False, fmt: tuple[str, ...] = ()
    ) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = sub.add_parser(name, help=help_text, description=help_text)
        common.add_topology_arg(p)
        common.add_condition_args(p)
        common.add_format_arg(p, *fmt)
        if stage:
            p.add_argument("--stage", required=True, help="build stage name")
        p.set_defaults(handler=handler)
        return p

    add("validate", _validate, "check the topology; exit 2 with every finding when invalid")
    add("show", _show, "summary: counts and parallel waves")
    add("stages", _stages, "every stage with its produced and inbound artifacts")
    add("artifacts", _artifacts, "every artifact with its group, stage and feature")
    add("produced", lambda a: _artifact_set(a, "produced"), "artifacts a stage builds", stage=True)
    inbound = add("inbound", _inbound, "artifacts a stage must fetch")
    inbound.add_argument("--stage", help="build stage name (optional with --compare-therock)")
    inbound.add_argument(
        "--compare-therock",
        action="store_true",
        help="per stage, what TheRock's over-approximated inbound set fetches for nothing",
    )
    order = add("order", _order, "build order, parallel waves and (with families) the jobs")
    order.add_argument(
        "--amdgpu-families",
        type=parse_list,
        default=(),
        help="comma-separated GPU families to expand per-arch stages",
    )
    graph = add("graph", _graph, "dependency graph", fmt=("dot", "mermaid"))
    graph.add_argument("--kind", choices=("artifacts", "groups", "stages"), default="stages")
