"""``rockshard workflow``: generate (or check) a sharded pipeline workflow."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from action_lib.cli import common
from action_lib.cli.output import emit_generated
from action_lib.pipeline.workflow import WorkflowOptions, generate_workflow
from action_lib.settings.pipeline_file import load_pipeline_config
from action_lib.topology.model import PLATFORMS


def _workflow(args: argparse.Namespace) -> int:
    topology = common.topology(args)
    config = load_pipeline_config(args.config, args.topology, tuple(topology.build_stages))
    own = config.platform_settings(args.platform)  # the setup and assembly jobs' runner
    opts = WorkflowOptions(
        platform=args.platform,
        max_waves=common.max_waves(args, config),
        topology=args.topology.as_posix(),
        dialect=args.dialect,
        runs_on=own.runs_on,
        timeout_minutes=own.timeout_minutes,
        actions=args.actions,
    )
    text = generate_workflow(opts)
    output: Path | None = args.output
    where = output.as_posix() if output is not None else "FILE"
    return emit_generated(
        text,
        output,
        check=args.check,
        regenerate=f"rockshard workflow --platform {args.platform} --output {where}",
    )


def register(commands: Any) -> None:
    """Add ``workflow``."""
    p = commands.add_parser(
        "workflow",
        help="generate the sharded pipeline workflow of a platform",
        description="Generate the GitHub Actions workflow of the sharded pipeline. It is static: "
        "stages and artifacts reach it at run time through compute-matrix.",
    )
    common.add_topology_arg(p)
    p.add_argument("--platform", choices=PLATFORMS, required=True)
    p.add_argument(
        "--config",
        type=Path,
        default=None,
        help="pipeline settings (default: rockshard-pipeline.toml beside the topology)",
    )
    p.add_argument(
        "--max-waves", type=int, default=None, help="wave jobs (default: from settings, 6)"
    )
    p.add_argument(
        "--dialect",
        choices=("therock", "rockshard"),
        default="rockshard",
        help="CMake dialect of the super-build",
    )
    p.add_argument(
        "--actions",
        default="",
        metavar="OWNER/REPO@REF",
        help="use rockshard's actions from this repository and ref (default: ./actions, those "
        "of the workflow's own repository)",
    )
    p.add_argument("--output", type=Path, default=None, help="write here (default: stdout)")
    p.add_argument("--check", action="store_true", help="exit 1 with a diff when --output is stale")
    p.set_defaults(handler=_workflow)
