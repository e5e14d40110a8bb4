"""Artifact push and fetch --bootstrap against a raw ``tar --zstd`` + ``sha256sum`` baseline.

Generates about 1.5 GB of artifacts (about 40 artifact directories: mostly compressible files,
about 20% random bytes, a few files over 200 MB, symlinks and hard links) on a tmpfs
(/dev/shm) when there is one, so the tools' own cost is not hidden behind a disk. Then, with
the same number of parallel jobs on both sides:

- push:  ``rockshard artifacts push`` into a local store, against ``tar --zstd -c`` plus
  ``sha256sum`` of each directory;
- fetch: ``rockshard artifacts fetch --bootstrap`` from that store, against ``sha256sum -c``
  plus ``tar --zstd -x`` of the same archives.

Each side runs in its own process; its wall time and peak memory (max RSS of the process and
its children, from wait4) are measured; the median of ``--repeat`` runs is printed with the
ratios. Goals: fetch within 1.1x of the baseline, push within 1.25x, peak under 128 MB.

Usage: python benchmarks/artifacts.py [--size-mb 1500] [--jobs 2] [--repeat 3] [--dir DIR] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
MB = 1 << 20
ARTIFACTS = 40
BIG_FILES = 3
STAGE = "consumer"


def _text_blocks(rng: random.Random, count: int = 4, size: int = 8 * MB) -> list[bytes]:
    """Pseudo-text (tokens from a vocabulary): compresses about 3x with zstd -3."""
    vocab = [
        bytes(rng.getrandbits(8) % 26 + 97 for _ in range(rng.randint(2, 10))) for _ in range(4000)
    ]
    vocab += [b"\x00" * 16, b"\x7fELF\x02\x01\x01", b"    ", b"\n", b"0x0000"]
    blocks = []
    for _ in range(count):
        parts: list[bytes] = []
        total = 0
        while total < size:
            chunk = b" ".join(rng.choices(vocab, k=4096))
            parts.append(chunk)
            total += len(chunk)
        blocks.append(b"".join(parts)[:size])
    return blocks


def _write_file(
    path: Path, size: int, rng: random.Random, blocks: list[bytes], random_share: float
) -> None:
    """``size`` bytes: slices of the text blocks, with random runs making up ``random_share``."""
    with path.open("wb") as f:
        left = size
        while left > 0:
            n = min(left, rng.randint(256 << 10, 2 * MB))
            if rng.random() < random_share:
                f.write(os.urandom(n))
            else:
                block = rng.choice(blocks)
                start = rng.randrange(0, len(block) - n)
                f.write(block[start : start + n])
            left -= n


def generate(root: Path, total_mb: int, seed: int = 7) -> tuple[Path, list[str]]:
    """Artifact dirs under ``root/build/artifacts`` and a topology; returns (build, names)."""
    rng = random.Random(seed)
    blocks = _text_blocks(rng)
    build = root / "build"
    names = [f"bench{i:02d}" for i in range(ARTIFACTS)]
    big_each = max(1, total_mb * 15 // 100)  # three artifacts carry one big file each
    small_total = total_mb - BIG_FILES * big_each
    per_artifact = max(1, small_total // (ARTIFACTS - BIG_FILES))
    for i, name in enumerate(names):
        stage_dir = f"bench/{name}/stage"
        art = build / "artifacts" / f"{name}_lib_generic"
        lib = art / stage_dir / "lib"
        (lib / "data").mkdir(parents=True)
        (art / stage_dir / "include").mkdir()
        (art / "artifact_manifest.txt").write_text(stage_dir + "\n")
        if i < BIG_FILES:
            _write_file(lib / f"lib{name}-big.so.1", big_each * MB, rng, blocks, 0.2)
            (lib / f"lib{name}-big.so").symlink_to(f"lib{name}-big.so.1")
            continue
        budget = per_artifact * MB
        main_lib = lib / f"lib{name}.so.1"
        _write_file(main_lib, budget // 3, rng, blocks, 0.2)
        (lib / f"lib{name}.so").symlink_to(main_lib.name)
        (lib / f"lib{name}.so.1.0").hardlink_to(main_lib)
        left = budget - budget // 3
        n = 0
        while left > 0:
            size = min(left, int(rng.lognormvariate(10.5, 1.6)) + 64)
            share = 1.0 if rng.random() < 0.15 else 0.05  # some payloads are already compressed
            target = lib / "data" if n % 3 else art / stage_dir / "include"
            _write_file(target / f"f{n:04d}.bin", size, rng, blocks, share)
            left -= size
            n += 1
    topology = root / "BUILD_TOPOLOGY.toml"
    lines = [
        '[metadata]\nversion = "2.0"\ndescription = "artifact benchmark"\n',
        '[build_stages.bench]\nartifact_groups = ["bench"]\n',
        f'[build_stages.{STAGE}]\nartifact_groups = ["consumer"]\n',
        '[artifact_groups.bench]\ntype = "generic"\n',
        '[artifact_groups.consumer]\ntype = "generic"\nartifact_group_deps = ["bench"]\n',
    ]
    lines += [
        f'[artifacts.{n}]\nartifact_group = "bench"\ntype = "target-neutral"\n' for n in names
    ]
    deps = ", ".join(f'"{n}"' for n in names)
    lines.append(
        f'[artifacts.sink]\nartifact_group = "consumer"\ntype = "target-neutral"\nartifact_deps = [{deps}]\n'
    )
    topology.write_text("\n".join(lines))
    return build, names


def _content_bytes(root: Path) -> int:
    """Bytes of the regular files under ``root``, each hard-linked file counted once."""
    seen: dict[tuple[int, int], int] = {}
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            info = path.stat()
            seen[(info.st_dev, info.st_ino)] = info.st_size
    return sum(seen.values())


def measure(argv: list[str], cwd: Path | None = None) -> tuple[float, int]:
    """Run a command; (wall seconds, peak RSS in bytes of it and its children)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(argv)}\n{err[-2000:]}")
    return seconds, usage.ru_maxrss * 1024  # ru_maxrss is in KiB on Linux


def raw_push(build: Path, out: Path, jobs: int, hashing: bool = True) -> list[str]:
    script = 'cd "$1" && tar --zstd -cf "$2/$3.tar.zst" -C "$1/$3" .'
    if hashing:
        script += ' && sha256sum "$2/$3.tar.zst" > "$2/$3.tar.zst.sha256sum"'
    return [
        "sh",
        "-c",
        f'ls "{build}/artifacts" | xargs -P {jobs} -I{{}} sh -c \'{script}\' _ "{build}/artifacts" "{out}" {{}}',
    ]


def raw_fetch(store: Path, out: Path, jobs: int, hashing: bool = True) -> list[str]:
    script = 'tar --zstd -xf "$1" -C "$2" --exclude=artifact_manifest.txt'
    if hashing:
        script = 'test "$(sha256sum "$1" | cut -c1-64)" = "$(cat "$1.sha256sum")" && ' + script
    return [
        "sh",
        "-c",
        f'cd "{store}" && ls *.tar.zst | xargs -P {jobs} -I{{}} sh -c \'{script}\' _ {{}} "{out}"',
    ]


def rockshard(*args: str) -> list[str]:
    return [sys.executable, "-m", "action_lib", "artifacts", *args]


def run(args: argparse.Namespace) -> dict[str, Any]:
    base = Path(args.dir) if args.dir else Path("/dev/shm") if Path("/dev/shm").is_dir() else None
    root = Path(tempfile.mkdtemp(prefix="rockshard-bench-", dir=base))
    try:
        print(f"generating {args.size_mb} MB under {root} ...", file=sys.stderr)
        t0 = time.perf_counter()
        # In a child process: a forked child's peak RSS starts at its parent's, so this process
        # stays small to keep the peaks measured below the tools' own.
        subprocess.run(
            [sys.executable, __file__, "--generate", str(root), "--size-mb", str(args.size_mb)],
            check=True,
        )
        build = root / "build"
        names = sorted(p.name.split("_")[0] for p in (build / "artifacts").iterdir())
        content = _content_bytes(build / "artifacts")
        print(
            f"  {content / MB:.0f} MB in {len(names)} artifacts ({time.perf_counter() - t0:.1f} s)",
            file=sys.stderr,
        )
        topology = root / "BUILD_TOPOLOGY.toml"
        common = [
            "--topology",
            str(topology),
            "--platform",
            "linux",
            "--run-id",
            "1",
            "--jobs",
            str(args.jobs),
        ]
        keys = ("raw_push", "tar_c", "push", "raw_fetch", "tar_x", "fetch")
        results: dict[str, list[tuple[float, int]]] = {k: [] for k in keys}
        for attempt in range(args.repeat):
            for key, hashing in (("raw_push", True), ("tar_c", False)):
                raw_store = root / f"raw-{attempt}"
                raw_store.mkdir()
                results[key].append(measure(raw_push(build, raw_store, args.jobs, hashing)))
                shutil.rmtree(raw_store)
            store = root / f"store-{attempt}"
            results["push"].append(
                measure(
                    rockshard(
                        "push",
                        "--stage",
                        "bench",
                        "--build-dir",
                        str(build),
                        "--store",
                        str(store),
                        *common,
                    ),
                    REPO,
                )
            )
            archives = store / "1-linux"
            for key, hashing in (("raw_fetch", True), ("tar_x", False)):
                out = root / f"raw-out-{attempt}"
                out.mkdir()
                results[key].append(measure(raw_fetch(archives, out, args.jobs, hashing)))
                shutil.rmtree(out)
            out = root / f"out-{attempt}"
            results["fetch"].append(
                measure(
                    rockshard(
                        "fetch",
                        "--stage",
                        STAGE,
                        "--output-dir",
                        str(out),
                        "--bootstrap",
                        "--store",
                        str(store),
                        *common,
                    ),
                    REPO,
                )
            )
            fetched = _content_bytes(out)
            if attempt == 0:
                compressed = sum(p.stat().st_size for p in archives.glob("*.tar.zst"))
                markers = len(list(out.rglob("*.prebuilt")))
                if markers != len(names):
                    raise SystemExit(f"expected {len(names)} .prebuilt markers, found {markers}")
            shutil.rmtree(out)
            shutil.rmtree(store)
            print(f"  run {attempt + 1}/{args.repeat} done", file=sys.stderr)
        median = {k: statistics.median(s for s, _ in v) for k, v in results.items()}
        peak = {k: max(m for _, m in v) for k, v in results.items()}
        return {
            "content_mb": round(content / MB, 1),
            "fetched_mb": round(fetched / MB, 1),
            "archives_mb": round(compressed / MB, 1),
            "artifacts": len(names),
            "jobs": args.jobs,
            "tmpfs": str(root).startswith("/dev/shm"),
            "seconds": {k: round(v, 3) for k, v in median.items()},
            "mb_per_s": {k: round(content / MB / v, 1) for k, v in median.items()},
            "peak_mb": {k: round(v / MB, 1) for k, v in peak.items()},
            "ratio": {
                "push": round(median["push"] / median["raw_push"], 3),
                "fetch": round(median["fetch"] / median["raw_fetch"], 3),
                "push_vs_tar_only": round(median["push"] / median["tar_c"], 3),
                "fetch_vs_tar_only": round(median["fetch"] / median["tar_x"], 3),
            },
        }
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=1500)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", help="where to generate (default: /dev/shm when present)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--generate", metavar="DIR", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        generate(Path(args.generate), args.size_mb)
        return 0
    for tool in ("tar", "zstd", "sha256sum", "xargs"):
        if shutil.which(tool) is None:
            raise SystemExit(f"needs {tool} on PATH for the baseline")
    report = run(args)
    if args.json:
        print(json.dumps(report, indent=2, sort_keys=True))
        return 0
    print(
        f"{report['content_mb']:.0f} MB in {report['artifacts']} artifacts -> {report['archives_mb']:.0f} MB of "
        f"archives; {report['jobs']} jobs; tmpfs: {report['tmpfs']}; median of {args.repeat}"
    )
    print(f"{'':24}{'seconds':>9}{'MB/s':>9}{'peak MB':>9}")
    labels = {
        "raw_push": "tar --zstd -c + sha256",
        "tar_c": "  (tar --zstd -c alone)",
        "push": "rockshard push",
        "raw_fetch": "sha256 + tar --zstd -x",
        "tar_x": "  (tar --zstd -x alone)",
        "fetch": "rockshard fetch --boot",
    }
    for key, label in labels.items():
        print(
            f"{label:24}{report['seconds'][key]:9.2f}{report['mb_per_s'][key]:9.0f}{report['peak_mb'][key]:9.1f}"
        )
    print(f"push / baseline:  {report['ratio']['push']:.2f}x (goal <= 1.25x)")
    print(f"fetch / baseline: {report['ratio']['fetch']:.2f}x (goal <= 1.10x)")
    print(
        f"against tar alone (no hashing): push {report['ratio']['push_vs_tar_only']:.2f}x, "
        f"fetch {report['ratio']['fetch_vs_tar_only']:.2f}x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
