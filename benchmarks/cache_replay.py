"""The stage cache in a replay: wall time and stage jobs of a no-change run and a leaf change,
next to the cold run (the baseline, measured in the same run).

In a temporary repository holding this checkout's files, with one local store shared by every
replay, ``rockshard replay --format json`` runs the Linux pipeline (act, host mode) three times:
cold (an empty store), the same commit again, and after a change in the leaf stage tools.

Usage: python benchmarks/cache_replay.py [--families F,G] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.fixtures.gitrepos import git, snapshot_checkout  # noqa: E402

FOREIGN = ("GITHUB_", "INPUT_", "RUNNER_", "ACT", "THEROCK_", "ROCKSHARD_", "AWS_")


def replay(clone: Path, root: Path, name: str, families: str) -> tuple[float, dict[str, Any]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(FOREIGN)}
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    started = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "action_lib",
            "replay",
            "--platform",
            "linux",
            "--amdgpu-families",
            families,
            "--repo",
            str(clone),
            "--workdir",
            str(root / name),
            "--store",
            str(root / "store"),
            "--run-id",
            name,
            "--format",
            "json",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-4000:])
        raise SystemExit(f"replay {name} failed")
    data: dict[str, Any] = json.loads(done.stdout)
    return seconds, data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--families", default="gfx110X-all,gfx94X-dcgpu")
    parser.add_argument("--keep", type=Path, help="keep the clone, store and logs here")
    args = parser.parse_args(argv)
    root = args.keep or Path(tempfile.mkdtemp(prefix="rockshard-cache-replay-"))
    try:
        clone = snapshot_checkout(REPO, root / "clone")
        rows = []
        for name in ("cold", "no-change", "leaf-change"):
            if name == "leaf-change":
                smi = clone / "src" / "tools" / "smi" / "src" / "smi.c"
                text = smi.read_text(encoding="utf-8")
                smi.write_text(text.replace("end of rs-smi", "end of the rs-smi report"))
                git(clone, "commit", "-q", "-am", "leaf change")
            seconds, data = replay(clone, root, name, args.families)
            ran = [j for j in data["jobs"] if j["stage"] and j["result"] != "skipped"]
            built = [s for s in data["stages"] if s["outcome"] == "built"]
            rows.append((name, seconds, data["seconds"], len(data["stages"]), len(ran), len(built)))
        cold = rows[0][1]
        print(f"replays of the Linux pipeline (families {args.families}), one shared local store")
        print()
        print(
            f"{'':14}{'wall':>9}{'act':>9}{'vs cold':>9}{'stage jobs':>12}{'started':>9}{'built':>7}"
        )
        for name, wall, act, jobs, ran_count, built_count in rows:
            print(
                f"{name:14}{wall:>8.1f}s{act:>8.1f}s{wall / cold:>8.2f}x{jobs:>12}{ran_count:>9}{built_count:>7}"
            )
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
