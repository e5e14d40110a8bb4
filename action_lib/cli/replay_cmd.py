"""``rockshard replay``: run a pipeline workflow locally with act, then summarise it."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from action_lib.cli.output import emit_json, table
from action_lib.edges.outputfiles import write_atomic
from action_lib.errors import EXIT_FAILURE, EXIT_OK
from action_lib.jobs.cache_plan import run_outcomes
from action_lib.jobs.model import RunRef
from action_lib.jobs.replay import (
    JobRun,
    Replay,
    event_payload,
    remove_act_dirs,
    replay_workflow,
    run_record,
)
from action_lib.jobs.stage_artifacts import shard_record_name
from action_lib.report.analysis import analyze_run
from action_lib.report.html import report_html
from action_lib.report.render import path_text
from action_lib.settings import environment
from action_lib.sources.git import GitRunner
from action_lib.stores.base import open_store
from action_lib.topology import load_topology
from action_lib.topology.model import PLATFORMS, Conditions

DEFAULT_FAMILIES = {"linux": "gfx110X-all,gfx94X-dcgpu", "windows": "gfx110X-all,gfx1151"}


def _label(job: JobRun) -> str:
    stage = job.matrix.get("stage", "")
    family = job.matrix.get("family", "")
    return f"{job.job_id} {stage} {family}".strip() if stage else job.job_id


def _event_file(repo: Path, event: str, workdir: Path) -> Path | None:
    """The payload of a pull_request or push replay (HEAD against its parent), or None."""
    if event == "workflow_dispatch":
        return None
    runner = GitRunner(retries=0, timeout=60.0)
    head = runner.output(["rev-parse", "HEAD"], cwd=repo, what=str(repo)).strip()
    found = runner.run(
        ["rev-parse", "--verify", "--quiet", "HEAD~1"], cwd=repo, what=str(repo), check=False
    )
    base = found.stdout.strip() or head
    path = workdir / f"{event}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(event_payload(event, head, base), indent=2), encoding="utf-8")
    return path


def _replay(args: argparse.Namespace) -> int:
    repo: Path = args.repo.resolve()
    workdir: Path = (args.workdir or repo / "build" / f"replay-{args.platform}").resolve()
    if not args.amdgpu_families:
        args.amdgpu_families = DEFAULT_FAMILIES[args.platform]
    run_id = args.run_id or f"replay-{time.strftime('%Y%m%d-%H%M%S')}"
    staging = workdir / "store"
    act_env = {
        "ROCKSHARD_PYTHON": sys.executable,
        "THEROCK_RUN_ID": run_id,
        "THEROCK_LOCAL_STAGING_DIR": str(staging),
        "ROCKSHARD_PRODUCT_DIR": str(workdir / "product"),
    }
    secrets: dict[str, str] = {}
    if args.endpoint_url:
        act_env["AWS_ENDPOINT_URL"] = args.endpoint_url
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        value = environment.get(key)
        if value:
            secrets[key] = value
            # A pull request's jobs get the untrusted keys; here they are the same keys, so a
            # pull request's stage-cache step can read the trusted store's records, as on
            # GitHub where the untrusted key may read it (or the store is public-read).
            secrets[f"UNTRUSTED_{key}"] = value
    inputs = {"amdgpu-families": args.amdgpu_families, "store": args.store}
    # Other events have no inputs: the workflow reads the families and store from variables.
    variables = {"ROCKSHARD_AMDGPU_FAMILIES": args.amdgpu_families, "ROCKSHARD_STORE": args.store}
    workflow = Path(".github") / "workflows" / f"rockshard-{args.platform}.yml"
    out = sys.stderr if args.format == "json" else sys.stdout
    out.write(
        f"replaying {workflow.as_posix()} with act (host mode, {args.event}): families "
        f"{args.amdgpu_families}, store {args.store or staging}, run {run_id}\n"
    )

    def on_job(job: JobRun) -> None:
        out.write(f"  {job.result:<8} {_label(job)} ({job.seconds:.0f} s)\n")
        out.flush()

    replay = replay_workflow(
        repo,
        workflow,
        inputs=inputs,
        env=act_env,
        secrets=secrets,
        log=workdir / "act.log",
        on_job=on_job,
        event=args.event,
        event_file=_event_file(repo, args.event, workdir),
        variables=variables,
    )
    remove_act_dirs(replay)
    store = open_store(args.store, local_default=staging, endpoint_url=args.endpoint_url or None)
    run = f"{run_id}-{args.platform}"
    if args.store and not store.listing(run):
        # An untrusted run (a pull request) never writes the trusted store: without a store of
        # its own, its jobs used the local staging dir.
        local = open_store("", local_default=staging)
        if local.listing(run):
            store = local
    outcomes = run_outcomes(RunRef(store, run))
    record = run_record(replay, f"replay {run_id} ({workflow.as_posix()})", args.platform)
    run_file = workdir / "run.json"
    write_atomic(run_file, record.dumps())
    topology = load_topology(repo / "BUILD_TOPOLOGY.toml")
    report = analyze_run(record, topology, Conditions(args.platform))
    page = workdir / "product" / "report.html"
    write_atomic(page, report_html(report))
    if args.format == "json":
        data = _json(replay, run_id, store.location(run), outcomes)
        emit_json({**data, "run_record": str(run_file), "report": str(page)})
    else:
        _summary(replay, store, run, outcomes)
        sys.stdout.write(f"run:       {run_file}\ncritical:  {path_text(report)}\n")
        sys.stdout.write(f"report:    {page}\ntotal:     {replay.seconds:.0f} s\n")
    if not replay.succeeded:
        sys.stderr.write(
            f"rockshard: the replay failed (act exit status {replay.status}); see {replay.log}\n"
        )
        return EXIT_FAILURE
    return EXIT_OK


def _json(
    replay: Replay, run_id: str, location: str, outcomes: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "artifacts": location,
        "product": replay.product,
        "kept": replay.kept,
        "succeeded": replay.succeeded,
        "seconds": round(replay.seconds, 1),
        "stages": outcomes,
        "jobs": [
            {
                "job": job.job_id,
                "stage": job.matrix.get("stage", ""),
                "family": job.matrix.get("family", ""),
                "result": job.result or "skipped",
                "seconds": round(job.seconds, 1),
            }
            for job in replay.jobs
        ],
    }


def _summary(replay: Replay, store: Any, run: str, outcomes: list[dict[str, Any]]) -> None:
    rows = []
    for job in replay.jobs:
        stage = job.matrix.get("stage", "")
        pushed = "-"
        if stage:
            text = store.read_text(run, shard_record_name(stage, job.matrix.get("family", "")))
            pushed = str(len(json.loads(text)["archives"])) if text else "0"
        rows.append((_label(job), job.result or "skipped", f"{job.seconds:.0f} s", pushed))
    sys.stdout.write("\n")
    table(("job", "result", "duration", "archives"), rows)
    if outcomes:
        sys.stdout.write("\n")
        table(
            ("stage", "family", "outcome", "key", "from run / why it was built"),
            [
                (
                    o["stage"],
                    o["family"] or "-",
                    o["outcome"],
                    o["key"][:12],
                    o["source_run"] if o["outcome"] in ("reused", "cutoff") else o["reason"],
                )
                for o in outcomes
            ],
        )
        built = sum(o["outcome"] == "built" for o in outcomes)
        sys.stdout.write(f"{built} of {len(outcomes)} stage job(s) built\n")
    sys.stdout.write(f"\nartifacts: {store.location(run)}\n")
    if replay.product:
        sys.stdout.write(f"product:   {replay.product}\n")
    if replay.kept:
        sys.stdout.write(f"kept:      {replay.kept}\n")
    sys.stdout.write(f"act log:   {replay.log}\n")


def register(commands: Any) -> None:
    """Add ``replay``."""
    p = commands.add_parser(
        "replay",
        help="replay a pipeline workflow locally with act, then summarise it",
        description="Run .github/workflows/rockshard-<platform>.yml with act in host mode "
        "(-P ubuntu-latest=-self-hosted -P windows-latest=-self-hosted): every stage job on its "
        "own, exchanging nothing but artifacts through the store.",
    )
    p.add_argument("--platform", choices=PLATFORMS, default="linux")
    p.add_argument(
        "--amdgpu-families",
        default="",
        help="families or a tier (default: gfx110X-all,gfx94X-dcgpu on linux, "
        "gfx110X-all,gfx1151 on windows)",
    )
    p.add_argument(
        "--store",
        default="",
        help="s3://bucket/prefix or a directory; empty: a local store in the work dir. Replays "
        "given the same store share its stage cache",
    )
    p.add_argument("--endpoint-url", default="", help="S3-compatible endpoint for --store")
    p.add_argument("--run-id", default="", help="default: replay-<date>-<time>")
    p.add_argument("--repo", type=Path, default=Path(), help="the repository to replay")
    p.add_argument(
        "--workdir", type=Path, default=None, help="default: <repo>/build/replay-<platform>"
    )
    p.add_argument(
        "--event",
        choices=("workflow_dispatch", "pull_request", "push"),
        default="workflow_dispatch",
        help="the event replayed (a pull request reads the stage cache, never writes it)",
    )
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(handler=_replay)
