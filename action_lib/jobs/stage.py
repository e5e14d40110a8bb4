"""One stage job, end to end: sources, inbound artifacts, CMake arguments, build, push.

`setup_stage` is what the `setup-stage` action runs in CI; `run_stage` adds the configure and
build, for a person rebuilding one stage against the artifacts of an earlier run.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from action_lib.artifacts.fetch import FetchOptions, FetchResult
from action_lib.cmakegen.stage_args import cmake_args, prefix_of, stage_config
from action_lib.edges import proc
from action_lib.errors import InputError
from action_lib.jobs.model import RunRef, StageJob
from action_lib.jobs.stage_artifacts import fetch_stage
from action_lib.sources import checkout
from action_lib.sources.git import GitRunner
from action_lib.topology.model import Topology
from action_lib.topology.queries import stage_source_sets

ARGS_FILE = "rockshard-cmake-args.txt"


@dataclass(frozen=True)
class StageSetup:
    """What a stage job has after setup."""

    build_dir: Path
    cmake_args: tuple[str, ...]
    args_file: Path
    fetched: FetchResult
    source_actions: tuple[str, ...]


def _has_sources_to_fetch(topology: Topology, stage: str, platform: str | None) -> bool:
    names = stage_source_sets(topology, stage, platform)
    return any(
        topology.source_sets[n].submodules or topology.source_sets[n].external_git_sources
        for n in names
    )


def setup_stage(
    job: StageJob,
    source: RunRef,
    build_dir: Path,
    *,
    dialect: str = "therock",
    repo: Path | None = None,
    clean: bool = False,
    jobs: int = 2,
) -> StageSetup:
    """Fetch the stage's sources (when ``repo`` is given), bootstrap its inbound artifacts from
    ``source`` into ``build_dir``, and write its CMake arguments (one a line) to
    ``build_dir/ARGS_FILE``."""
    topology, stage, conditions = job.topology, job.stage, job.conditions
    config = stage_config(topology, stage, conditions)
    if job.per_arch and not job.family:
        raise InputError(f"per-arch stage '{stage}' needs exactly one GPU family")
    actions: tuple[str, ...] = ()
    if repo is not None and _has_sources_to_fetch(topology, stage, conditions.platform):
        # The sparse cone comes from the checkout itself (actions/checkout sparse-checkout);
        # here only the stage's submodules and external sources are added.
        options = checkout.CheckoutOptions(depth=1, jobs=jobs, sparse=False)
        _, result = checkout.fetch_stage_sources(
            GitRunner(), repo, topology, stage, options, platform=conditions.platform
        )
        actions = result.actions
    if clean and build_dir.exists():
        shutil.rmtree(build_dir)
    build_dir.mkdir(parents=True, exist_ok=True)
    fetched = fetch_stage(
        job, source, build_dir, FetchOptions(layout="bootstrap", extract=True, jobs=jobs)
    )
    args = cmake_args(config, dialect=dialect, amdgpu_families=job.families)
    if dialect == "rockshard":
        # The super-build runs rockshard at build time (artifact population) with this interpreter.
        args.append(f"-D{prefix_of(dialect)}_PYTHON={Path(sys.executable).as_posix()}")
        # The pipeline's platform and processor, not the host's, decide what is disabled.
        if conditions.platform:
            args.append(f"-D{prefix_of(dialect)}_PLATFORM={conditions.platform}")
        if conditions.processor:
            args.append(f"-D{prefix_of(dialect)}_PROCESSOR={conditions.processor}")
    args_file = build_dir / ARGS_FILE
    # LF line ends on every platform: the workflow reads it with `mapfile -t` in bash.
    args_file.write_text("".join(f"{a}\n" for a in args), encoding="utf-8", newline="\n")
    return StageSetup(build_dir, tuple(args), args_file, fetched, actions)


def build_stage(
    source_dir: Path,
    setup: StageSetup,
    stage: str,
    *,
    generator: str = "Ninja",
    extra_args: Sequence[str] = (),
) -> None:
    """Configure ``source_dir`` into the stage's build dir and build ``stage-<stage>``.

    The tools' output goes straight to this process's standard output and error.
    """
    cmake = proc.which("cmake") or "cmake"
    proc.run(
        [
            cmake,
            "-S",
            source_dir,
            "-B",
            setup.build_dir,
            "-G",
            generator,
            *setup.cmake_args,
            *extra_args,
        ],
        capture=False,
    )
    proc.run([cmake, "--build", setup.build_dir, "--target", f"stage-{stage}"], capture=False)
