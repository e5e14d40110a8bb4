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
from action_lib.github_api.client import DEFAULT_API_URL, GitHubClient, MalformedAnswerError
from action_lib.report.model import JobRecord, RunRecord, StepRecord

_REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
MAX_JOBS = 10_000  # jobs of one run read (GitHub allows 256 per matrix; a run has a few matrices)
MAX_STEPS = 1_000  # steps of one job read (GitHub allows 1,000)
MAX_TEXT = 1_000  # characters of a name kept


def _epoch(moment: object) -> float | None:
    return moment.timestamp() if isinstance(moment, datetime) else None


def _text(value: object) -> str:
    """A name from the API: a string (else ""), at most MAX_TEXT characters."""
    return value[:MAX_TEXT] if isinstance(value, str) else ""


def _web(value: object) -> str:
    """A link from the API, kept only when it is an http(s) URL."""
    text = _text(value)
    return text if text.startswith(("https://", "http://")) else ""


def _number(step: Any) -> int:
    return step.number if type(step.number) is int else 0


def _platform(path: str, name: str) -> str:
    text = f"{path} {name}".lower()
    for platform in ("windows", "linux"):
        if platform in text:
            return platform
    return ""


def _job(job: Any) -> JobRecord:
    """One job; every field is checked for its type (the API's answer is data)."""
    raw_steps = job.steps or []
    if not isinstance(raw_steps, list) or len(raw_steps) > MAX_STEPS:
        raise MalformedAnswerError("GitHub listed a job whose steps are not a list of steps")
    steps = tuple(
        StepRecord(
            _text(s.name),
            _epoch(s.started_at),
            _epoch(s.completed_at),
            _text(s.conclusion or s.status),
        )
        for s in sorted(raw_steps, key=_number)
    )
    name = _text(job.name)
    if not name:
        raise MalformedAnswerError("GitHub listed a job without a name")
    return JobRecord(
        name=name,
        started=_epoch(job.started_at),
        completed=_epoch(job.completed_at),
        conclusion=_text(job.conclusion or job.status),
        steps=steps,
        created=_epoch(job.created_at),
        runner=_text(job.runner_name),
        url=_web(job.html_url),
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
        attempt = run.run_attempt if type(run.run_attempt) is int else 1
        title = f"{repository} run {run_id}" + (f" attempt {attempt}" if attempt > 1 else "")
        jobs: list[JobRecord] = []
        for job in run.jobs("latest"):
            if len(jobs) >= MAX_JOBS:  # memory stays bounded whatever answers
                raise MalformedAnswerError(f"GitHub listed more than {MAX_JOBS} jobs")
            jobs.append(_job(job))
        name = _text(run.name)
        return RunRecord(
            source="github",
            title=f"{title}: {name}" if name else title,
            jobs=tuple(jobs),
            created=_epoch(run.run_started_at or run.created_at),
            platform=_platform(_text(run.path), name),
            url=_web(run.html_url),
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
