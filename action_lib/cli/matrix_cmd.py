"""``rockshard matrix``: the stage jobs of a pipeline, wave by wave, for the setup job."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from action_lib import families as fam
from action_lib.cli import common
from action_lib.cli.output import emit_json, table
from action_lib.edges import gha
from action_lib.errors import EXIT_OK, InputError
from action_lib.inputs.lists import parse_list
from action_lib.inputs.untrusted import escape, md
from action_lib.pipeline.config import PipelineConfig
from action_lib.pipeline.matrix import (
    Plan,
    check_job_outputs,
    plan_markdown,
    plan_pipeline,
    plan_table,
    wave_outputs,
    without_jobs,
)
from action_lib.settings import run_store as setup
from action_lib.settings.cache import CACHE_MODES, cache_mode
from action_lib.settings.pipeline_file import CONFIG_NAME, load_pipeline_config, settings_path
from action_lib.settings.store import LOCAL_RUN_ID
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
    max_waves = common.max_waves(args, config)
    summary: list[str] = []
    outputs: dict[str, str] = {}
    cached: list[dict[str, Any]] | None = None
    if args.cache is not None:  # the stage cache's step: the run's store is given
        if cache_mode(common.layers(args)).value != "off":
            plan, cached = _cache(topology, cond, config, families, stages, plan, args, summary)
    elif args.gha_output:  # compute-matrix: the run's trust decides its store
        outputs.update(_run_store(config, cond.platform, args, summary))
    outputs.update(wave_outputs(plan, max_waves))
    outputs["families"] = ",".join(families)
    summary.insert(0, plan_markdown(plan))
    if cached is not None:
        outputs["cache-outcomes"] = json.dumps(cached, separators=(",", ":"))
    if args.impact:
        outputs.update(_impact(topology, cond, args, summary, config))
    check_job_outputs(outputs)  # all of them, before any is written
    if args.gha_output:
        for name, value in outputs.items():
            gha.set_output(name, value)
        for markdown in summary:
            gha.append_summary(markdown)
    if args.format == "json":
        data: dict[str, Any] = plan.to_json()
        if cached is not None:
            data["cache"] = cached
        emit_json(data)
    else:
        sys.stdout.write(f"platform {plan.platform}, families {', '.join(families) or '-'}\n")
        table(("wave", "stage", "family", "runs-on", "timeout"), plan_table(plan))
    return EXIT_OK


def _cache(
    topology: Topology,
    cond: Conditions,
    config: PipelineConfig,
    families: Sequence[str],
    stages: Sequence[str],
    plan: Plan,
    args: argparse.Namespace,
    summary: list[str],
) -> tuple[Plan, list[dict[str, Any]]]:
    """Key every job, reuse the hits into the run's folder of ``--store`` (records read from
    ``--cache-store`` when given: a pull request reads the trusted store), and leave them out
    of the plan."""
    from action_lib.jobs.cache_plan import key_computer, plan_cache, plan_markdown, plan_text
    from action_lib.settings import environment
    from action_lib.stores.base import open_store

    ctx = common.store_context(args)
    mode = cache_mode(ctx.layers).value
    endpoint = ctx.settings.endpoint_url.value
    source = None
    if args.cache_store and args.cache_store != ctx.store.url:
        source = open_store(
            args.cache_store,
            local_default=ctx.settings.local_staging_dir.value,
            endpoint_url=endpoint or None,
        )
    computer = key_computer(
        topology,
        cond,
        config,
        args.repo,
        args.topology,
        settings_path(args.config, args.topology),
        environment.environ(),
    )
    cache = plan_cache(
        computer,
        families,
        ctx.target,
        mode=mode,
        stages=stages,
        jobs=ctx.settings.jobs.value,
        source=source,
        endpoint=endpoint,
    )
    summary.append(plan_markdown(cache))
    sys.stderr.write(
        f"stage cache ({mode}): {len(cache.reused())} of {len(cache.jobs)} job(s) reused\n"
        + "".join(f"  {line}\n" for line in plan_text(cache))
    )
    return without_jobs(plan, cache.reused()), [j.to_json(inputs=False) for j in cache.jobs]


def _impact(
    topology: Topology,
    cond: Conditions,
    args: argparse.Namespace,
    summary: list[str],
    config: PipelineConfig,
) -> dict[str, str]:
    """Which stages the triggering change affects: informative (the stage cache decides)."""
    from action_lib.impact.render import report_markdown
    from action_lib.jobs.event import affected_stages_for_event

    rules = None
    if config.inputs.declared:  # one [inputs] declaration drives keys and impact
        where = settings_path(args.config, args.topology)
        rules = config.inputs.impact_rules(
            topology, args.topology.name, where.name if where is not None else ""
        )
    report = affected_stages_for_event(topology, repo=args.repo, conditions=cond, rules=rules)
    summary.append(report_markdown(report))
    sys.stderr.write(
        f"impact: {len(report.affected)} of {len(report.stages)} stages affected"
        + (f" ({escape(report.fallback)})" if report.fallback else "")
        + "\n"
    )
    return {
        "affected-stages": json.dumps(list(report.affected)),
        "impact-fallback": escape(report.fallback, 1000),  # one line, bounded
    }


def _run_store(
    config: PipelineConfig, platform: str, args: argparse.Namespace, summary: list[str]
) -> dict[str, str]:
    """The run's trust and store (fails at once on GitHub without a shared store), and the
    build timestamp every job of the run uses."""
    from action_lib.jobs.run_store import resolve_run_store
    from action_lib.sources.git import GitRunner, commit_time

    lay = setup.with_store_table(common.layers(args), config.store, config.path)
    settings = setup.setup_settings(lay)
    chosen = resolve_run_store(settings, lay.environ)
    run_id = lay.resolve(LOCAL_RUN_ID, env=("THEROCK_RUN_ID", "GITHUB_RUN_ID")).value
    location = chosen.location(f"{run_id}-{platform}")
    epoch = setup.source_date_epoch(lay, commit_time(GitRunner(retries=0, timeout=60), args.repo))
    trust = chosen.trust
    origin = settings.trusted if trust.trusted else settings.untrusted
    level = "trusted" if trust.trusted else "untrusted"
    if chosen.url:
        source = f"{origin.source.value} {origin.origin}".strip()
        line = f"store: {location} ({level} run: {trust.reason}; store from {source})"
    else:
        line = f"store: none set, each job uses its local store ({level} run: {trust.reason})"
    sys.stderr.write(escape(line) + "\n")
    summary.append(
        f"### rockshard store\n\n- {md(line)}\n- SOURCE_DATE_EPOCH {md(epoch.describe())}\n"
    )
    return {
        "store": chosen.url,
        "external-repo": chosen.external_repo,
        "run-location": location,
        "trusted-store": chosen.trusted_url,
        "trusted": "true" if trust.trusted else "false",
        "publishes": "true" if trust.publishes else "false",
        "trust-reason": trust.reason,
        "store-role": chosen.role,
        "store-region": chosen.region,
        "store-endpoint-url": chosen.endpoint_url,
        "source-date-epoch": str(epoch.value),
    }


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
        default=None,
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
    store = p.add_argument_group(
        "the run's store (with --gha-output; default: ROCKSHARD_STORE... variables, else [store] "
        "in the pipeline settings)"
    )
    store.add_argument("--store", default=None, help="store of trusted runs (s3://bucket/prefix)")
    store.add_argument("--untrusted-store", default=None, help="store of pull requests")
    store.add_argument("--store-role", default=None, help="IAM role of trusted runs (OIDC)")
    store.add_argument("--untrusted-store-role", default=None, help="IAM role of pull requests")
    store.add_argument("--store-region", default=None, help="AWS region for the OIDC step")
    store.add_argument("--endpoint-url", default=None, help="an S3-compatible endpoint")
    cache = p.add_argument_group(
        "the stage cache (docs/cache.md; --store is then the run's store, as compute-matrix "
        "chose it)"
    )
    cache.add_argument(
        "--cache",
        choices=CACHE_MODES,
        default=None,
        help="key every job and reuse the archives of every hit into this run (leaving it out "
        "of the matrix); auto/write also decide who writes records later",
    )
    cache.add_argument(
        "--cache-store", default="", help="where records are read (default: --store)"
    )
    cache.add_argument("--external-repo", help="OWNER/REPO of the run folder's prefix")
    cache.add_argument("--run-id", help="the run (default: THEROCK_RUN_ID, GITHUB_RUN_ID, local)")
    cache.add_argument("--local-staging-dir", type=Path, help="the local store")
    p.set_defaults(handler=_matrix)
