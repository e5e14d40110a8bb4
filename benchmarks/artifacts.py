"""Artifact push and fetch --bootstrap against a raw ``tar --zstd`` + ``sha256sum`` baseline.

Generates about 1.5 GB of artifacts (about 40 artifact directories: mostly compressible files,
about 20% random bytes, a few files over 200 MB, symlinks and hard links), on a tmpfs
(/dev/shm) so the tools' own cost is not hidden behind a disk, and again on disk (the temp
dir, or ``--disk-dir``). Then, with the same number of parallel jobs on both sides:

- push:  ``rockshard artifacts push`` into a local store, against ``tar --zstd -c`` plus
  ``sha256sum`` of each directory;
- fetch: ``rockshard artifacts fetch --bootstrap`` from that store, against ``sha256sum -c``
  plus ``tar --zstd -x`` of the same archives.

Each side runs in its own process; its wall time, CPU time (user + system) and peak memory
(max RSS of the process and its children, from wait4) are measured; the median (and the best)
of ``--repeat`` runs is printed with the ratios, and the load average before and after (on a
shared machine, the CPU-time ratio is the steadier figure). Goals: fetch within 1.1x of the
baseline, push within 1.25x, peak under 128 MB.

Then the S3 variant: push and fetch of a smaller set through ``moto_server`` on loopback,
directly and through the fault proxy of the tests (``tests/fault_proxy.py``) at a
``--fault-rate`` (default 1%) of 500s, 503s, SlowDowns, resets, short bodies, delays and lost
multipart parts: the throughput under faults against the clean one.

Usage: python benchmarks/artifacts.py [--size-mb 1500] [--jobs 2] [--repeat 3]
       [--where tmpfs,disk] [--disk-dir DIR] [--fault-rate 0.01] [--s3-size-mb 300] [--json]
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
import urllib.request
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Sample:
    """One measured command: wall seconds, CPU seconds (user + system, with children), peak RSS."""

    seconds: float
    cpu: float
    peak: int


def measure(argv: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> Sample:
    """Run a command; its wall time, CPU time and peak RSS (of it and its children)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env
    )
    assert proc.stderr is not None
    err = proc.stderr.read().decode()  # before waiting: a full pipe would block the child
    proc.stderr.close()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(argv)}\n{err[-2000:]}")
    cpu = usage.ru_utime + usage.ru_stime
    return Sample(seconds, cpu, usage.ru_maxrss * 1024)  # ru_maxrss is in KiB on Linux


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


def _generate(root: Path, size_mb: int) -> tuple[Path, list[str], int]:
    print(f"generating {size_mb} MB under {root} ...", file=sys.stderr)
    t0 = time.perf_counter()
    # In a child process: a forked child's peak RSS starts at its parent's, so this process
    # stays small to keep the peaks measured below the tools' own.
    subprocess.run(
        [sys.executable, __file__, "--generate", str(root), "--size-mb", str(size_mb)], check=True
    )
    build = root / "build"
    names = sorted(p.name.split("_")[0] for p in (build / "artifacts").iterdir())
    content = _content_bytes(build / "artifacts")
    print(
        f"  {content / MB:.0f} MB in {len(names)} artifacts ({time.perf_counter() - t0:.1f} s)",
        file=sys.stderr,
    )
    return build, names, content


def _common(root: Path, jobs: int, run_id: str = "1") -> list[str]:
    topology = root / "BUILD_TOPOLOGY.toml"
    return [
        "--topology",
        str(topology),
        "--platform",
        "linux",
        "--run-id",
        run_id,
        "--jobs",
        str(jobs),
    ]


def local_suite(root: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Push and fetch through a local store against tar, in ``root``."""
    build, names, content = _generate(root, args.size_mb)
    common = _common(root, args.jobs)
    keys = ("raw_push", "tar_c", "push", "raw_fetch", "tar_x", "fetch")
    results: dict[str, list[Sample]] = {k: [] for k in keys}
    compressed = fetched = 0
    for attempt in range(args.repeat):
        for key, hashing in (("raw_push", True), ("tar_c", False)):
            raw_store = root / f"raw-{attempt}"
            raw_store.mkdir()
            results[key].append(measure(raw_push(build, raw_store, args.jobs, hashing)))
            shutil.rmtree(raw_store)
        store = root / f"store-{attempt}"
        push = ["push", "--stage", "bench", "--build-dir", str(build), "--store", str(store)]
        results["push"].append(measure(rockshard(*push, *common), REPO))
        archives = store / "1-linux"
        # Alternating order: whichever runs second does not always find a warmer machine.
        out = root / f"out-{attempt}"
        fetch = ["fetch", "--stage", STAGE, "--output-dir", str(out), "--bootstrap"]
        order = [("fetch", True), ("raw_fetch", True), ("tar_x", False)]
        for key, hashing in order if attempt % 2 else order[::-1]:
            if key == "fetch":
                results["fetch"].append(
                    measure(rockshard(*fetch, "--store", str(store), *common), REPO)
                )
                fetched = _content_bytes(out)
                markers = len(list(out.rglob("*.prebuilt")))
                if markers != len(names):
                    raise SystemExit(f"expected {len(names)} .prebuilt markers, found {markers}")
                shutil.rmtree(out)
            else:
                raw_out = root / f"raw-out-{attempt}"
                raw_out.mkdir()
                results[key].append(measure(raw_fetch(archives, raw_out, args.jobs, hashing)))
                shutil.rmtree(raw_out)
        compressed = sum(p.stat().st_size for p in archives.glob("*.tar.zst"))
        shutil.rmtree(store)
        print(f"  run {attempt + 1}/{args.repeat} done", file=sys.stderr)
    median = {k: statistics.median(x.seconds for x in v) for k, v in results.items()}
    best = {k: min(x.seconds for x in v) for k, v in results.items()}
    cpu = {k: statistics.median(x.cpu for x in v) for k, v in results.items()}
    peak = {k: max(x.peak for x in v) for k, v in results.items()}
    return {
        "content_mb": round(content / MB, 1),
        "fetched_mb": round(fetched / MB, 1),
        "archives_mb": round(compressed / MB, 1),
        "artifacts": len(names),
        "seconds": {k: round(v, 3) for k, v in median.items()},
        "best_seconds": {k: round(v, 3) for k, v in best.items()},
        "cpu_seconds": {k: round(v, 3) for k, v in cpu.items()},
        "mb_per_s": {k: round(content / MB / v, 1) for k, v in median.items()},
        "peak_mb": {k: round(v / MB, 1) for k, v in peak.items()},
        "ratio": {
            "push": round(median["push"] / median["raw_push"], 3),
            "fetch": round(median["fetch"] / median["raw_fetch"], 3),
            "push_vs_tar_only": round(median["push"] / median["tar_c"], 3),
            "fetch_vs_tar_only": round(median["fetch"] / median["tar_x"], 3),
            "fetch_vs_tar_only_best": round(best["fetch"] / best["tar_x"], 3),
            "fetch_vs_tar_only_cpu": round(cpu["fetch"] / cpu["tar_x"], 3),
        },
    }


def _start_moto(root: Path) -> tuple[subprocess.Popen[bytes], str]:
    from tests.s3_server import FAKE_CREDENTIALS, _moto_command, free_port

    port = free_port()
    env = {**os.environ, **FAKE_CREDENTIALS}
    log = (root / "moto.log").open("wb")
    proc = subprocess.Popen(
        [*_moto_command(), "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=log, env=env
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=1).close()
            return proc, url
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("moto_server did not start") from None
            time.sleep(0.1)


def fault_suite(root: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Push and fetch through moto_server, directly and through the fault proxy."""
    sys.path.insert(0, str(REPO))
    import boto3

    from tests.fault_proxy import FaultProxy, Schedule
    from tests.s3_server import FAKE_CREDENTIALS

    build, _, content = _generate(root, args.s3_size_mb)
    moto, endpoint = _start_moto(root)
    proxy = FaultProxy(endpoint, Schedule(rate=args.fault_rate, seed=5, delay=0.5)).start()
    env = {**os.environ, **FAKE_CREDENTIALS, "AWS_CONFIG_FILE": os.devnull}
    env["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    try:
        boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        ).create_bucket(Bucket="bench")
        results: dict[str, list[Sample]] = {
            "push": [],
            "fetch": [],
            "push_faults": [],
            "fetch_faults": [],
        }
        injected = 0
        for attempt in range(args.repeat):
            for label, url in (("", endpoint), ("_faults", proxy.url)):
                proxy.reset(Schedule(rate=args.fault_rate, seed=attempt, delay=0.5))
                common = _common(root, args.jobs, f"{attempt}{label}")
                store = ["--store", "s3://bench/ci", "--endpoint-url", url]
                push = ["push", "--stage", "bench", "--build-dir", str(build), *store]
                results["push" + label].append(measure(rockshard(*push, *common), REPO, env))
                out = root / "s3-out"
                fetch = ["fetch", "--stage", STAGE, "--output-dir", str(out), "--bootstrap", *store]
                results["fetch" + label].append(measure(rockshard(*fetch, *common), REPO, env))
                shutil.rmtree(out)
                injected += len(proxy.injected)
            print(f"  S3 run {attempt + 1}/{args.repeat} done", file=sys.stderr)
    finally:
        proxy.stop()
        moto.terminate()
        moto.wait()
    median = {k: statistics.median(x.seconds for x in v) for k, v in results.items()}
    return {
        "content_mb": round(content / MB, 1),
        "fault_rate": args.fault_rate,
        "faults_injected": injected,
        "seconds": {k: round(v, 3) for k, v in median.items()},
        "mb_per_s": {k: round(content / MB / v, 1) for k, v in median.items()},
        "ratio": {
            "push_faults": round(median["push_faults"] / median["push"], 3),
            "fetch_faults": round(median["fetch_faults"] / median["fetch"], 3),
        },
    }


def _place(where: str, args: argparse.Namespace) -> Path:
    if where == "tmpfs":
        base = Path("/dev/shm") if Path("/dev/shm").is_dir() else None
    else:
        base = Path(args.disk_dir) if args.disk_dir else Path(tempfile.gettempdir())
    return Path(tempfile.mkdtemp(prefix="rockshard-bench-", dir=base))


def run(args: argparse.Namespace) -> dict[str, Any]:
    report: dict[str, Any] = {
        "jobs": args.jobs,
        "repeat": args.repeat,
        "load_before": os.getloadavg(),
    }
    for where in args.where.split(","):
        root = _place(where, args)
        try:
            report[where] = local_suite(root, args)
        finally:
            shutil.rmtree(root, ignore_errors=True)
    if args.fault_rate > 0:
        root = _place("tmpfs", args)
        try:
            report["s3"] = fault_suite(root, args)
        finally:
            shutil.rmtree(root, ignore_errors=True)
    report["load_after"] = os.getloadavg()
    return report


LABELS = {
    "raw_push": "tar --zstd -c + sha256",
    "tar_c": "  (tar --zstd -c alone)",
    "push": "rockshard push",
    "raw_fetch": "sha256 + tar --zstd -x",
    "tar_x": "  (tar --zstd -x alone)",
    "fetch": "rockshard fetch --boot",
}


def show(report: dict[str, Any]) -> None:
    """Print the report as tables."""
    load = "/".join(f"{x:.1f}" for x in report["load_before"])
    print(f"{report['jobs']} jobs; median of {report['repeat']}; load average before: {load}")
    for where in ("tmpfs", "disk"):
        if where not in report:
            continue
        r = report[where]
        print(
            f"\n[{where}] {r['content_mb']:.0f} MB in {r['artifacts']} artifacts -> "
            f"{r['archives_mb']:.0f} MB of archives"
        )
        print(f"{'':24}{'seconds':>9}{'best':>8}{'cpu s':>8}{'MB/s':>7}{'peak MB':>9}")
        for key, label in LABELS.items():
            print(
                f"{label:24}{r['seconds'][key]:9.2f}{r['best_seconds'][key]:8.2f}"
                f"{r['cpu_seconds'][key]:8.2f}{r['mb_per_s'][key]:7.0f}{r['peak_mb'][key]:9.1f}"
            )
        ratio = r["ratio"]
        print(f"push / baseline:  {ratio['push']:.2f}x (goal <= 1.25x)")
        print(f"fetch / baseline: {ratio['fetch']:.2f}x (goal <= 1.10x)")
        print(
            f"against tar alone (no hashing): push {ratio['push_vs_tar_only']:.2f}x, fetch "
            f"{ratio['fetch_vs_tar_only']:.2f}x (best of runs {ratio['fetch_vs_tar_only_best']:.2f}x, "
            f"CPU time {ratio['fetch_vs_tar_only_cpu']:.2f}x)"
        )
    if "s3" in report:
        r = report["s3"]
        print(
            f"\n[s3 through moto_server] {r['content_mb']:.0f} MB; fault rate "
            f"{r['fault_rate']:.1%}, {r['faults_injected']} faults injected in all"
        )
        for key in ("push", "push_faults", "fetch", "fetch_faults"):
            print(f"{key:24}{r['seconds'][key]:9.2f} s{r['mb_per_s'][key]:7.0f} MB/s")
        print(
            f"with faults / without: push {r['ratio']['push_faults']:.2f}x, "
            f"fetch {r['ratio']['fetch_faults']:.2f}x"
        )
    load = "/".join(f"{x:.1f}" for x in report["load_after"])
    print(f"\nload average after: {load}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=1500)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--where", default="tmpfs,disk", help="tmpfs, disk or both")
    parser.add_argument("--disk-dir", help="where the disk runs go (default: the temp dir)")
    parser.add_argument("--dir", dest="disk_dir", help=argparse.SUPPRESS)
    parser.add_argument("--fault-rate", type=float, default=0.01, help="0 skips the S3 runs")
    parser.add_argument("--s3-size-mb", type=int, default=300)
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
    else:
        show(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
