"""The timeline of one pipeline run, as GitHub's API or a replay recorded it. Pure.

Times are seconds since the epoch (floats, sub-second where the source has it); ``None`` is a
time the source did not give (a job still running, a step that never started). A run record
is written and read as JSON (``rockshard-run/1``) so that a replay can leave it beside its
product and ``rockshard report --run-file`` can read it back.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from action_lib.errors import InputError

RUN_FORMAT = "rockshard-run/1"


def iso(moment: float | None) -> str | None:
    """An epoch time as ISO 8601 in UTC (microseconds kept), or None."""
    if moment is None:
        return None
    return datetime.fromtimestamp(moment, tz=timezone.utc).isoformat().replace("+00:00", "Z")


def parse_time(text: object, where: str = "") -> float | None:
    """ISO 8601 (``...Z`` or with an offset) to epoch seconds; None for null or empty."""
    if text is None or text == "":
        return None
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return float(text)
    try:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"{where}: not a time: {text!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


@dataclass(frozen=True)
class StepRecord:
    """One top-level step of a job."""

    name: str
    started: float | None
    completed: float | None
    conclusion: str = ""

    def to_json(self) -> dict[str, Any]:
        """The step as JSON."""
        return {
            "name": self.name,
            "started": iso(self.started),
            "completed": iso(self.completed),
            "conclusion": self.conclusion,
        }


@dataclass(frozen=True)
class JobRecord:
    """One job (one matrix entry) of a run."""

    name: str
    started: float | None
    completed: float | None
    conclusion: str = ""
    steps: tuple[StepRecord, ...] = ()
    job_id: str = ""  # the workflow's job key ("wave-2") when the source knows it
    matrix: Mapping[str, str] = field(default_factory=dict)
    created: float | None = None  # queued at (GitHub's created_at)
    runner: str = ""
    url: str = ""

    @property
    def seconds(self) -> float:
        """Runner time: from its start to its end (0 while unknown)."""
        if self.started is None or self.completed is None:
            return 0.0
        return max(0.0, self.completed - self.started)

    def to_json(self) -> dict[str, Any]:
        """The job as JSON."""
        return {
            "name": self.name,
            "job_id": self.job_id,
            "matrix": dict(sorted(self.matrix.items())),
            "created": iso(self.created),
            "started": iso(self.started),
            "completed": iso(self.completed),
            "conclusion": self.conclusion,
            "runner": self.runner,
            "url": self.url,
            "steps": [s.to_json() for s in self.steps],
        }


@dataclass(frozen=True)
class RunRecord:
    """A pipeline run: where it came from, when it began, its jobs."""

    source: str  # "github" or "replay"
    title: str
    jobs: tuple[JobRecord, ...]
    created: float | None = None  # the run's start (GitHub: run_started_at; replay: act launched)
    platform: str = ""
    url: str = ""
    measured_seconds: float | None = None  # the source's own measure of the run's wall time

    def to_json(self) -> dict[str, Any]:
        """The run as JSON (``rockshard-run/1``)."""
        return {
            "format": RUN_FORMAT,
            "source": self.source,
            "title": self.title,
            "platform": self.platform,
            "url": self.url,
            "created": iso(self.created),
            "measured_seconds": self.measured_seconds,
            "jobs": [j.to_json() for j in self.jobs],
        }

    def dumps(self) -> str:
        """Stable JSON text."""
        return json.dumps(self.to_json(), indent=2, sort_keys=True) + "\n"


def _str(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    return "" if value is None else str(value)


def _step(data: Any, where: str) -> StepRecord:
    if not isinstance(data, Mapping):
        raise InputError(f"{where}: a step must be an object")
    return StepRecord(
        _str(data, "name"),
        parse_time(data.get("started"), where),
        parse_time(data.get("completed"), where),
        _str(data, "conclusion"),
    )


def _job(data: Any, where: str) -> JobRecord:
    if not isinstance(data, Mapping) or not data.get("name"):
        raise InputError(f"{where}: a job must be an object with a name")
    matrix = data.get("matrix") or {}
    steps = data.get("steps") or []
    if not isinstance(matrix, Mapping) or not isinstance(steps, list):
        raise InputError(f"{where}: 'matrix' must be an object and 'steps' a list")
    return JobRecord(
        name=_str(data, "name"),
        started=parse_time(data.get("started"), where),
        completed=parse_time(data.get("completed"), where),
        conclusion=_str(data, "conclusion"),
        steps=tuple(_step(s, f"{where}.steps[{n}]") for n, s in enumerate(steps)),
        job_id=_str(data, "job_id"),
        matrix={str(k): str(v) for k, v in matrix.items()},
        created=parse_time(data.get("created"), where),
        runner=_str(data, "runner"),
        url=_str(data, "url"),
    )


def run_from_json(data: Any, file: str) -> RunRecord:
    """A run record from its JSON; InputError naming ``file`` when it is not one."""
    if not isinstance(data, Mapping) or data.get("format") != RUN_FORMAT:
        raise InputError(f"{file}: not a rockshard run record (format {RUN_FORMAT})")
    jobs = data.get("jobs")
    if not isinstance(jobs, list):
        raise InputError(f"{file}: 'jobs' must be a list")
    measured = data.get("measured_seconds")
    return RunRecord(
        source=_str(data, "source"),
        title=_str(data, "title"),
        jobs=tuple(_job(j, f"{file}: jobs[{n}]") for n, j in enumerate(jobs)),
        created=parse_time(data.get("created"), file),
        platform=_str(data, "platform"),
        url=_str(data, "url"),
        measured_seconds=float(measured) if isinstance(measured, (int, float)) else None,
    )


def loads_run(text: str, file: str) -> RunRecord:
    """Parse a run record's JSON text."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise InputError(f"{file}: not JSON: {exc}") from None
    return run_from_json(data, file)
