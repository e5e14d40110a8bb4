"""One workflow run's jobs and steps, read through GitHub's REST API (read-only).

``GET /repos/{owner}/{repo}/actions/runs/{run_id}`` and its ``/jobs`` (every page, latest
attempt), retried like every call of :class:`GitHubClient`. A run that does not exist, or a
token that may not read it, is an InputError (exit 2); an API still failing after the retries
is an OperationError (exit 1).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from action_lib.errors import InputError
from action_lib.github_api.client import DEFAULT_API_URL, GitHubClient
from action_lib.report.model import JobRecord, RunRecord, StepRecord

_REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


def _epoch(moment: datetime | None) -> float | None:
    return None if moment is None else moment.timestamp()


def _platform(path: str, name: str) -> str:
    text = f"{path} {name}".lower()
    for platform in ("windows", "linux"):
        if platform in text:
            return platform
    return ""


def _job(job: Any) -> JobRecord:
    steps = tuple(
        StepRecord(
            str(s.name),
            _epoch(s.started_at),
            _epoch(s.completed_at),
            str(s.conclusion or s.status or ""),
        )
        for s in sorted(job.steps or [], key=lambda s: int(s.number or 0))
    )
    return JobRecord(
        name=str(job.name),
        started=_epoch(job.started_at),
        completed=_epoch(job.completed_at),
        conclusion=str(job.conclusion or job.status or ""),
        steps=steps,
        created=_epoch(job.created_at),
        runner=str(job.runner_name or ""),
        url=str(job.html_url or ""),
    )


def _refusal(repository: str, run_id: int) -> Any:
    def message(status: int) -> str:
        if status == 404:
            return (
                f"run {run_id} of {repository} not found, or the token may not read it "
                "(GitHub answers 404 for a private repository it cannot see)"
            )
        if status == 401:
            return "the token was refused (bad or expired credentials)"
        return f"the token may not read the Actions runs of {repository} (it needs actions: read)"

    return message


def read_run(client: GitHubClient, repository: str, run_id: int) -> RunRecord:
    """The jobs (latest attempt) and steps of run ``run_id`` of ``repository``."""
    if not _REPOSITORY.match(repository):
        raise InputError(f"--repo '{repository}': write OWNER/NAME")
    if run_id <= 0:
        raise InputError(f"--run-id {run_id}: a run id is a positive number")

    def load() -> RunRecord:
        run = client.api.get_repo(repository).get_workflow_run(run_id)
        attempt = int(run.run_attempt or 1)
        title = f"{repository} run {run_id}" + (f" attempt {attempt}" if attempt > 1 else "")
        jobs = tuple(_job(j) for j in run.jobs("latest"))
        return RunRecord(
            source="github",
            title=f"{title}: {run.name}" if run.name else title,
            jobs=jobs,
            created=_epoch(run.run_started_at or run.created_at),
            platform=_platform(str(run.path or ""), str(run.name or "")),
            url=str(run.html_url or ""),
        )

    return client.call(
        f"reading run {run_id} of {repository}", load, refused=_refusal(repository, run_id)
    )


def run_from_environment(env: Mapping[str, str]) -> tuple[str, int, str, str]:
    """(repository, run id, API URL, token) of the workflow run a step runs in; InputError
    when the ``GITHUB_*`` variables do not name one."""
    repository = env.get("GITHUB_REPOSITORY", "")
    run_id = env.get("GITHUB_RUN_ID", "")
    if not repository or not run_id.isdigit():
        raise InputError(
            "GITHUB_REPOSITORY and GITHUB_RUN_ID are not set: give --repo and --run-id"
        )
    api_url = env.get("GITHUB_API_URL", "") or DEFAULT_API_URL
    return repository, int(run_id), api_url, env.get("GITHUB_TOKEN", "")
