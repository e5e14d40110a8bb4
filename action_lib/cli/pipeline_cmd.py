"""``rockshard pipeline assemble``: the last job of a pipeline."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from action_lib.cli import common
from action_lib.cli.output import emit_json
from action_lib.edges import gha
from action_lib.errors import EXIT_OK
from action_lib.families import resolve_families
from action_lib.jobs.assemble import assemble_product, keep_product


def _assemble(args: argparse.Namespace) -> int:
    topology = common.topology(args)
    ctx = common.store_context(args)
    families = resolve_families(args.amdgpu_families, ctx.platform)
    product = assemble_product(
        topology,
        ctx.conditions,
        families,
        ctx.target,
        args.output_dir,
        jobs=ctx.settings.jobs.value,
    )
    conv = product.convergence
    lines = [
        f"shards: {conv.shards} recorded, {conv.shared_archives} generic archive(s) pushed by "
        "several shards, all byte-identical",
        f"fetched {len(product.fetched.moved)} archive(s) from {ctx.store.location(ctx.run)}",
        f"product: {product.dist.files} files from {product.dist.stage_dirs} stage dirs in "
        f"{product.dist_dir}",
    ]
    kept = keep_product(ctx.target, product) if args.push_product else None
    if kept is not None:
        lines.append(f"product kept: {kept.url} ({kept.size} bytes, sha256 {kept.digest})")
    if args.format == "json":
        emit_json(
            {
                "shards": conv.shards,
                "shared_archives": conv.shared_archives,
                "archives": len(product.fetched.moved),
                "files": product.dist.files,
                "stage_dirs": product.dist.stage_dirs,
                "dist": product.dist_dir.as_posix(),
                "product_url": kept.url if kept else "",
            }
        )
    else:
        sys.stdout.writelines(line + "\n" for line in lines)
    if common.gha_output(args):
        gha.set_output("dist-dir", product.dist_dir.as_posix())
        gha.set_output("product-url", kept.url if kept else "")
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
    p.add_argument(
        "--push-product",
        action="store_true",
        help="keep dist/ as one archive in the run's product/ folder of the store",
    )
    common.add_jobs_arg(p, default=2)
    common.add_store_args(p)
    p.set_defaults(handler=_assemble)
