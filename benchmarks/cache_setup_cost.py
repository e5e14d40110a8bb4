"""The setup job's cost of stage keys: every key of TheRock's pipeline from a treeless clone.

Builds, in a temporary directory, a repository shaped and sized like TheRock's superproject:
TheRock's BUILD_TOPOLOGY.toml, .gitmodules (its 10 submodules as gitlinks), the TheRock preset
of inputs as rockshard-pipeline.toml, every path TheRock's history and descriptors name, and
filler files in its top-level folders up to --files (default 10,000). Then it clones it the way
a setup job would (``git clone --filter=tree:0 --depth 1 --sparse file://...``: commits only,
the root's files checked out, trees fetched when first read) and times, against a full clone
measured in the same run:

- the keys of every job (linux, presubmit families) in-process: git reads and computation;
- ``rockshard matrix --cache read`` end to end (a new process, an empty local store): what the
  setup job runs.

Usage: python benchmarks/cache_setup_cost.py [--therock DIR] [--files N] [--repeat R]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

from action_lib.jobs.cache_plan import key_computer
from action_lib.pipeline.config import parse_pipeline_config
from action_lib.sources import parse_gitmodules
from action_lib.topology import Conditions, load_topology, queries

REPO = Path(__file__).resolve().parent.parent
THEROCK = REPO.parent / "shared" / "therock"
PRESET = REPO / "action_lib" / "data" / "therock-pipeline.toml"
GIT_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@rockshard.invalid",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@rockshard.invalid",
}
TOP = (
    "base",
    "build_tools",
    "cmake",
    "comm-libs",
    "compiler",
    "core",
    "cv-libs",
    "dctools",
    "debug-tools",
    "docs",
    "emulation",
    "math-libs",
    "media-libs",
    "ml-libs",
    "profiler",
    "storage-libs",
    "third-party",
    "tests",
    "external-builds",
    "dockerfiles",
    "patches",
)


def git(cwd: Path, *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        ["git", *args],
        cwd=cwd,
        env={**os.environ, **GIT_ENV},
        input=stdin,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def make_origin(therock: Path, origin: Path, count: int) -> int:
    """The TheRock-shaped repository; returns how many files it holds."""
    origin.mkdir(parents=True)
    files: dict[str, str] = {
        "BUILD_TOPOLOGY.toml": (therock / "BUILD_TOPOLOGY.toml").read_text(encoding="utf-8"),
        ".gitmodules": (therock / "gitmodules").read_text(encoding="utf-8"),
        "rockshard-pipeline.toml": PRESET.read_text(encoding="utf-8"),
    }
    for descriptor in therock.rglob("artifact*.toml"):
        files[descriptor.relative_to(therock).as_posix()] = descriptor.read_text(encoding="utf-8")
    submodules = {s.path for s in parse_gitmodules(files[".gitmodules"])}
    for line in (therock / "history" / "commits.jsonl").read_text(encoding="utf-8").splitlines():
        for change in json.loads(line)["changes"]:
            path = change["path"]
            if not change.get("submodule") and path not in submodules:
                files.setdefault(path, f"{path}\n")
    i = 0
    while len(files) < count:
        top = TOP[i % len(TOP)]
        files[f"{top}/dir{i % 97}/sub{i % 13}/file{i}.txt"] = f"filler {i}\n"
        i += 1
    for rel, text in files.items():
        path = origin / rel
        if any(rel == s or rel.startswith(s + "/") for s in submodules):
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    git(origin, "init", "-q", "-b", "main")
    git(origin, "add", "-A")
    for number, path in enumerate(sorted(submodules)):
        commit = f"{number + 1:040x}"
        git(origin, "update-index", "--add", "--cacheinfo", f"160000,{commit},{path}")
    git(origin, "commit", "-q", "-m", "TheRock-shaped")
    git(origin, "config", "uploadpack.allowFilter", "true")
    git(origin, "config", "uploadpack.allowAnySHA1InWant", "true")
    return len(files)


def clone(origin: Path, dest: Path, *options: str) -> float:
    started = time.perf_counter()
    git(origin.parent, "clone", "-q", *options, origin.resolve().as_uri(), str(dest))
    return time.perf_counter() - started


def keys_in_process(repo: Path, families: list[str]) -> tuple[float, int]:
    started = time.perf_counter()
    topology = load_topology(repo / "BUILD_TOPOLOGY.toml")
    config = parse_pipeline_config(
        (repo / "rockshard-pipeline.toml").read_text(encoding="utf-8"),
        "rockshard-pipeline.toml",
        tuple(topology.build_stages),
    )
    conditions = Conditions("linux", "x86_64")
    computer = key_computer(
        topology,
        conditions,
        config,
        repo,
        repo / "BUILD_TOPOLOGY.toml",
        repo / "rockshard-pipeline.toml",
        dict(os.environ),
    )
    jobs = queries.expand_jobs(topology, families, conditions)
    for job in jobs:
        computer.key(job.stage, job.family)
    computer.raise_findings()
    return time.perf_counter() - started, len(jobs)


def matrix_cli(repo: Path, store: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "action_lib",
            "matrix",
            "--platform",
            "linux",
            "--tier",
            "presubmit",
            "--cache",
            "read",
            "--store",
            str(store),
            "--run-id",
            "bench",
            "--repo",
            str(repo),
            "--topology",
            str(repo / "BUILD_TOPOLOGY.toml"),
            "--format",
            "json",
        ],
        cwd=REPO,
        env={**os.environ, **GIT_ENV},
        capture_output=True,
        text=True,
        check=True,
    )
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--therock", type=Path, default=THEROCK)
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    if not (args.therock / "BUILD_TOPOLOGY.toml").is_file():
        sys.stderr.write(f"cache_setup_cost: {args.therock} has no BUILD_TOPOLOGY.toml\n")
        return 2
    data = json.loads((args.therock / "amdgpu_targets.json").read_text(encoding="utf-8"))
    families = list(data["ci_tiers"]["presubmit"])
    root = Path(tempfile.mkdtemp(prefix="rockshard-keycost-"))
    try:
        count = make_origin(args.therock, root / "origin", args.files)
        rows: list[tuple[str, list[float], list[float], list[float]]] = []
        for label, options in (
            ("full clone (baseline)", ["--depth", "1"]),
            ("treeless sparse clone", ["--filter=tree:0", "--depth", "1", "--sparse"]),
        ):
            clones, firsts, clis = [], [], []
            for n in range(args.repeat):
                dest = root / f"{label.split()[0]}-{n}"
                clones.append(clone(root / "origin", dest, *options))
                seconds, jobs = keys_in_process(dest, families)  # the first read of the trees
                firsts.append(seconds)
                clis.append(matrix_cli(dest, root / f"store-{label.split()[0]}-{n}"))
            rows.append((label, clones, firsts, clis))
        print(
            f"a TheRock-shaped repository: {count} files, 10 submodules; "
            f"{jobs} jobs (linux, presubmit families); median of {args.repeat}"
        )
        print()
        print(f"{'':26}{'clone':>10}{'every key (in process)':>26}{'matrix --cache read':>22}")
        for label, clones, firsts, clis in rows:
            print(
                f"{label:26}{statistics.median(clones):>9.2f}s"
                f"{statistics.median(firsts):>25.2f}s{statistics.median(clis):>21.2f}s"
            )
        print()
        print("goal: every key in under 2 s from a treeless clone")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
