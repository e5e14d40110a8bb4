"""``rockshard pipeline assemble``: the last job of a pipeline."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from action_lib.cli import common
from action_lib.cli.artifacts_cmd import add_store_args, store_context
from action_lib.cli.matrix_cmd import resolve_families
from action_lib.cli.output import emit_json
from action_lib.edges import gha
from action_lib.errors import EXIT_OK, InputError
from action_lib.jobs.assemble import assemble_product


def _assemble(args: argparse.Namespace) -> int:
    topology = common.topology(args)
    ctx = store_context(args)
    if ctx.conditions.platform is None:
        raise InputError("pipeline assemble needs --platform")
    given, tier = args.amdgpu_families, ""
    if given.strip() in ("presubmit", "postsubmit", "nightly"):
        given, tier = "", given.strip()
    families = resolve_families(given, tier, ctx.platform)
    product = assemble_product(
        topology, ctx.conditions, families, ctx.store, ctx.run, args.output_dir, jobs=args.jobs
    )
    conv = product.convergence
    lines = [
        f"shards: {conv.shards} recorded, {conv.shared_archives} generic archive(s) pushed by "
        "several shards, all byte-identical",
        f"fetched {len(product.fetched.moved)} archive(s) from {ctx.store.location(ctx.run)}",
        f"product: {product.dist.files} files from {product.dist.stage_dirs} stage dirs in "
        f"{product.dist_dir}",
    ]
    if args.format == "json":
        emit_json(
            {
                "shards": conv.shards,
                "shared_archives": conv.shared_archives,
                "archives": len(product.fetched.moved),
                "files": product.dist.files,
                "stage_dirs": product.dist.stage_dirs,
                "dist": product.dist_dir.as_posix(),
            }
        )
    else:
        sys.stdout.writelines(line + "\n" for line in lines)
    if gha.in_actions():
        gha.set_output("dist-dir", product.dist_dir.as_posix())
        gha.append_summary("### rockshard product\n\n" + "".join(f"- {line}\n" for line in lines))
    return EXIT_OK


def register(commands: Any) -> None:
    """Add ``pipeline``."""
    parser = commands.add_parser("pipeline", help="whole-pipeline steps (the final assembly)")
    sub = parser.add_subparsers(dest="pipeline_command", metavar="COMMAND", required=True)
    p = sub.add_parser(
        "assemble",
        help="check the shards converge, fetch every artifact of the run, assemble dist/",
    )
    common.add_topology_arg(p)
    p.add_argument("--amdgpu-families", required=True, help="the pipeline's families, or a tier")
    p.add_argument("--output-dir", type=Path, required=True, help="gets build/ and dist/")
    p.add_argument("--jobs", type=int, default=2)
    add_store_args(p)
    p.set_defaults(handler=_assemble)
