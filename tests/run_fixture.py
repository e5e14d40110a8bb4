"""A pipeline run of this repository's demo topology (linux, gfx110X-all and gfx94X-dcgpu) with
hand-chosen times, as GitHub's API documents a run and its jobs, and as a run record.

Every stage job's steps: Set up job 2 s, checkout 8, Install rockshard 10, Sources 10, Fetch
inbound artifacts 10, Configure 30, Build (its total - 90), Push stage artifacts 15, Post
checkout 2, Complete job 3. So its phases: sources 18, fetch 10, configure 30, build total-90,
push 15, other 17; queue 5 s unless said. Seconds after T0:

    setup                       created 0, started 5, completed 65
    wave 0: foundation           70 ..  250   (180 s)
    wave 1: compiler-runtime    255 ..  855   (600 s)
    wave 2: comm-libs           860 .. 1160   (300 s)
    wave 2: math-libs gfx110X   862 .. 1462   (600 s)
    wave 2: math-libs gfx94X    861 .. 1761   (900 s)
    wave 3: ml-libs gfx110X    1765 .. 2065   (300 s)
    wave 3: ml-libs gfx94X     1766 .. 2366   (600 s)
    wave 3: tools              1767 .. 1967   (200 s)
    assemble                   2370 .. 2430   (60 s)
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from action_lib.report.model import JobRecord, RunRecord, StepRecord

T0 = datetime(2026, 1, 10, 10, 0, 0, tzinfo=timezone.utc)
PACIFIC = timezone(timedelta(hours=-8))
RUN_ID = 7
FAMILIES = ("gfx110X-all", "gfx94X-dcgpu")

# (name, created, started, completed)
STAGE_JOBS = [
    ("wave 0: foundation", 65, 70, 250),
    ("wave 1: compiler-runtime", 250, 255, 855),
    ("wave 2: comm-libs", 855, 860, 1160),
    ("wave 2: math-libs gfx110X-all", 855, 862, 1462),
    ("wave 2: math-libs gfx94X-dcgpu", 855, 861, 1761),
    ("wave 3: ml-libs gfx110X-all", 1761, 1765, 2065),
    ("wave 3: ml-libs gfx94X-dcgpu", 1761, 1766, 2366),
    ("wave 3: tools", 1761, 1767, 1967),
]
PIPELINE_JOBS = [
    (
        "setup",
        0,
        5,
        65,
        [
            ("Set up job", 2),
            ("Run actions/checkout@v5", 8),
            ("Install rockshard", 10),
            ("Run ./actions/compute-matrix", 35),
            ("Post Run actions/checkout@v5", 2),
            ("Complete job", 3),
        ],
    ),
    (
        "assemble",
        2366,
        2370,
        2430,
        [
            ("Set up job", 2),
            ("Run actions/checkout@v5", 8),
            ("Install rockshard", 10),
            ("Assemble the product and check the shards converge", 30),
            ("Run report", 5),
            ("Post Run actions/checkout@v5", 2),
            ("Complete job", 3),
        ],
    ),
]
WALL = 2430
RUNNER_SECONDS = 60 + 180 + 600 + 300 + 600 + 900 + 300 + 600 + 200 + 60  # 3800
BILLED_MINUTES = 1 + 3 + 10 + 5 + 10 + 15 + 5 + 10 + 4 + 1  # each job rounded up: 64


def stage_steps(total: int) -> list[tuple[str, int]]:
    """The steps of a stage job of ``total`` seconds."""
    return [
        ("Set up job", 2),
        ("Run actions/checkout@v5", 8),
        ("Install rockshard", 10),
        ("Sources", 10),
        ("Fetch inbound artifacts", 10),
        ("Configure", 30),
        ("Build stage", total - 90),
        ("Push stage artifacts", 15),
        ("Post Run actions/checkout@v5", 2),
        ("Complete job", 3),
    ]


def jobs_spec() -> list[tuple[str, int, int, int, list[tuple[str, int]]]]:
    """Every job: name, created, started, completed, steps (name, seconds)."""
    stage = [(n, c, s, e, stage_steps(e - s)) for n, c, s, e in STAGE_JOBS]
    setup, assemble = PIPELINE_JOBS
    return [setup, *stage, assemble]


def _at(seconds: float, zone: timezone = timezone.utc) -> str:
    moment = (T0 + timedelta(seconds=seconds)).astimezone(zone)
    if zone is timezone.utc:
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    return moment.isoformat(timespec="milliseconds")


def github_run(url: str) -> dict[str, Any]:
    """``GET /repos/rockshard/demo/actions/runs/7``, shaped as GitHub documents it."""
    api = f"{url}/repos/rockshard/demo"
    return {
        "id": RUN_ID,
        "name": "rockshard Linux pipeline",
        "node_id": "WFR_kwLOABCDEF8AAAAH",
        "head_branch": "main",
        "head_sha": "1405df66cbe219b0bf6355bc3d60361a8376b6b4",
        "path": ".github/workflows/rockshard-linux.yml",
        "display_title": "blas: faster kernels",
        "run_number": 7,
        "event": "push",
        "status": "completed",
        "conclusion": "success",
        "workflow_id": 161335,
        "check_suite_id": 414944374,
        "url": f"{api}/actions/runs/{RUN_ID}",
        "html_url": f"https://github.com/rockshard/demo/actions/runs/{RUN_ID}",
        "created_at": _at(0),
        "updated_at": _at(WALL),
        "run_attempt": 1,
        "run_started_at": _at(0),
        "jobs_url": f"{api}/actions/runs/{RUN_ID}/jobs",
        "logs_url": f"{api}/actions/runs/{RUN_ID}/logs",
        "check_suite_url": f"{api}/check-suites/414944374",
        "artifacts_url": f"{api}/actions/runs/{RUN_ID}/artifacts",
        "cancel_url": f"{api}/actions/runs/{RUN_ID}/cancel",
        "rerun_url": f"{api}/actions/runs/{RUN_ID}/rerun",
        "workflow_url": f"{api}/actions/workflows/161335",
        "pull_requests": [],
    }


def github_jobs(url: str) -> list[dict[str, Any]]:
    """The run's jobs as ``GET .../runs/7/jobs`` lists them (steps timed in -08:00, as in
    GitHub's documentation example)."""
    out = []
    for n, (name, created, started, completed, steps) in enumerate(jobs_spec()):
        job_id = 399444496 + n
        cursor = started
        step_json = []
        for number, (step, seconds) in enumerate(steps, start=1):
            step_json.append(
                {
                    "name": step,
                    "status": "completed",
                    "conclusion": "success",
                    "number": number,
                    "started_at": _at(cursor, PACIFIC),
                    "completed_at": _at(cursor + seconds, PACIFIC),
                }
            )
            cursor += seconds
        out.append(
            {
                "id": job_id,
                "run_id": RUN_ID,
                "workflow_name": "rockshard Linux pipeline",
                "head_branch": "main",
                "run_url": f"{url}/repos/rockshard/demo/actions/runs/{RUN_ID}",
                "run_attempt": 1,
                "node_id": f"CR_kwDOABCDEF{job_id}",
                "head_sha": "1405df66cbe219b0bf6355bc3d60361a8376b6b4",
                "url": f"{url}/repos/rockshard/demo/actions/jobs/{job_id}",
                "html_url": f"https://github.com/rockshard/demo/actions/runs/{RUN_ID}/job/{job_id}",
                "status": "completed",
                "conclusion": "success",
                "created_at": _at(created),
                "started_at": _at(started),
                "completed_at": _at(completed),
                "name": name,
                "steps": step_json,
                "check_run_url": f"{url}/repos/rockshard/demo/check-runs/{job_id}",
                "labels": ["ubuntu-latest"],
                "runner_id": 10 + n,
                "runner_name": f"GitHub Actions {10 + n}",
                "runner_group_id": 1,
                "runner_group_name": "GitHub Actions",
            }
        )
    return out


def run_record() -> RunRecord:
    """The same run as a run record."""
    base = T0.timestamp()
    jobs = []
    for name, created, started, completed, steps in jobs_spec():
        cursor = started
        records = []
        for step, seconds in steps:
            records.append(StepRecord(step, base + cursor, base + cursor + seconds, "success"))
            cursor += seconds
        jobs.append(
            JobRecord(
                name,
                base + started,
                base + completed,
                "success",
                tuple(records),
                created=base + created,
            )
        )
    return RunRecord("github", "rockshard/demo run 7", tuple(jobs), base, "linux")
