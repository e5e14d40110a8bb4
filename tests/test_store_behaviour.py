"""The same behavioural suite against LocalStore and S3Store (a real moto server on loopback)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from action_lib.cli.main import main
from action_lib.stores.base import Store
from action_lib.topology import load_topology
from tests.artifact_helpers import build_stage, stage_dir_of, tree

FAMILY = "gfx94X-dcgpu"


@pytest.fixture(autouse=True)
def _not_in_actions(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GITHUB_ACTIONS", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "THEROCK_RUN_ID"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def cli(
    store_url: str, endpoint: str | None, repo_root: Path, capsys: pytest.CaptureFixture[str]
) -> Callable[..., tuple[int, str, str]]:
    """Run ``rockshard artifacts ...`` against the store under test; (status, stdout, stderr)."""

    def run(*args: str, run_id: str = "7", topology: Path | None = None) -> tuple[int, str, str]:
        argv = ["artifacts", *args, "--store", store_url, "--run-id", run_id, "--platform", "linux"]
        if args[0] not in ("ls", "populate"):
            argv += ["--topology", str(topology or repo_root / "BUILD_TOPOLOGY.toml")]
        if endpoint:
            argv += ["--endpoint-url", endpoint]
        capsys.readouterr()
        status = main(argv)
        out, err = capsys.readouterr()
        return status, out, err

    return run


@pytest.fixture
def pushed(
    cli: Callable[..., tuple[int, str, str]], repo_root: Path, tmp_path: Path
) -> dict[str, Path]:
    """Upstream stages of ml-libs built and pushed; stage name -> build dir."""
    topology = load_topology(repo_root / "BUILD_TOPOLOGY.toml")
    builds = {}
    for stage, family in (("foundation", ""), ("compiler-runtime", ""), ("math-libs", FAMILY)):
        build = tmp_path / f"build-{stage}"
        build_stage(build, topology, stage, family)
        args = ["push", "--stage", stage, "--build-dir", str(build)]
        status, _, err = cli(*args, *(["--amdgpu-families", family] if family else []))
        assert status == 0, err
        builds[stage] = build
    return builds


def test_round_trip_push_fetch_bootstrap(
    cli: Callable[..., tuple[int, str, str]],
    pushed: dict[str, Path],
    repo_root: Path,
    tmp_path: Path,
) -> None:
    topology = load_topology(repo_root / "BUILD_TOPOLOGY.toml")
    out = tmp_path / "ml-build"
    status, stdout, err = cli(
        "fetch",
        "--stage",
        "ml-libs",
        "--amdgpu-families",
        FAMILY,
        "--output-dir",
        str(out),
        "--bootstrap",
        "--format",
        "json",
    )
    assert status == 0, err
    report = json.loads(stdout)
    inbound = {
        "base",
        "sysdeps",
        "fmtlite",
        "kcc",
        "core-runtime",
        "core-hip",
        "math-support",
        "rand",
        "blas",
        "fft",
    }
    assert {a["archive"].split("_")[0] for a in report["artifacts"]} == inbound
    assert all(a["status"] == "fetched" for a in report["artifacts"])
    for artifact in inbound:
        stage_dir = stage_dir_of(topology, artifact)
        producer = topology.artifact_to_stage[artifact]
        assert tree(out / stage_dir) == tree(pushed[producer] / stage_dir), artifact
        assert (out / f"{stage_dir}.prebuilt").is_file()
        assert f"{stage_dir}.prebuilt" in report["markers"]
    lib = out / stage_dir_of(topology, "blas") / "lib"
    assert (lib / "libblas.so").is_symlink()
    assert (lib / "libblas.so.1.0").stat().st_ino == (lib / "libblas.so.1").stat().st_ino
    assert (lib / "gfx942" / "blas.hsaco").is_file()


def test_plain_fetch_is_therocks_layout_that_push_reads_back(
    cli: Callable[..., tuple[int, str, str]],
    make_store: Callable[..., Store],
    repo_root: Path,
    tmp_path: Path,
) -> None:
    """Without --bootstrap or --flatten: OUTPUT/artifacts/<archive stem>/, as TheRock's
    artifact_manager.py fetch, which is what push --build-dir OUTPUT reads back."""
    topology = load_topology(repo_root / "BUILD_TOPOLOGY.toml")
    build = tmp_path / "build"
    produced = build_stage(build, topology, "foundation")
    assert cli("push", "--stage", "foundation", "--build-dir", str(build))[0] == 0
    out = tmp_path / "plain"
    fetch = ("fetch", "--stage", "compiler-runtime", "--output-dir", str(out))
    status, _, err = cli(*fetch)
    assert status == 0, err
    stems = sorted(p.name for p in (build / "artifacts").iterdir() if p.is_dir())
    assert sorted(p.name for p in out.iterdir()) == ["artifacts"]
    assert sorted(p.name for p in (out / "artifacts").iterdir()) == stems
    for stem in stems:
        assert tree(out / "artifacts" / stem) == tree(build / "artifacts" / stem), stem
    stale = out / "artifacts" / stems[0] / "stale.txt"
    stale.write_text("left from an earlier fetch", encoding="utf-8")
    assert cli(*fetch)[0] == 0
    assert not stale.exists()  # a fetched archive replaces its directory
    assert cli("push", "--stage", "foundation", "--build-dir", str(out), run_id="8")[0] == 0
    store = make_store()
    first, again = store.listing("7-linux"), store.listing("8-linux")
    assert sorted(again) == sorted(first) and len(produced) == 3
    for name in again:
        if name.endswith(".sha256sum"):
            assert store.read_text("8-linux", name) == store.read_text("7-linux", name), name


def test_push_lists_every_missing_artifact(
    cli: Callable[..., tuple[int, str, str]], repo_root: Path, tmp_path: Path
) -> None:
    topology = load_topology(repo_root / "BUILD_TOPOLOGY.toml")
    build = tmp_path / "build"
    build_stage(build, topology, "foundation")
    for path in (build / "artifacts").glob("fmtlite_*"):
        shutil.rmtree(path)
    for path in (build / "artifacts").glob("sysdeps_*"):
        shutil.rmtree(path)
    status, _, err = cli("push", "--stage", "foundation", "--build-dir", str(build))
    assert status == 1
    assert "2 artifact(s) missing" in err
    assert "fmtlite_*_generic (produced by stage 'foundation')" in err
    assert "sysdeps_*_generic (produced by stage 'foundation')" in err


def test_fetch_lists_every_missing_artifact_with_its_stage(
    cli: Callable[..., tuple[int, str, str]], repo_root: Path, tmp_path: Path
) -> None:
    topology = load_topology(repo_root / "BUILD_TOPOLOGY.toml")
    build = tmp_path / "build"
    build_stage(build, topology, "foundation")
    assert cli("push", "--stage", "foundation", "--build-dir", str(build))[0] == 0
    status, _, err = cli(
        "fetch",
        "--stage",
        "math-libs",
        "--amdgpu-families",
        FAMILY,
        "--output-dir",
        str(tmp_path / "o"),
    )
    assert status == 1
    for artifact, stage in (("kcc", "compiler-runtime"), ("core-hip", "compiler-runtime")):
        assert f"{artifact}_*_generic (produced by stage '{stage}')" in err
    assert "sysdeps" not in err
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


def test_repush_identical_is_a_noop_different_is_refused(
    cli: Callable[..., tuple[int, str, str]], repo_root: Path, tmp_path: Path
) -> None:
    topology = load_topology(repo_root / "BUILD_TOPOLOGY.toml")
    build = tmp_path / "build"
    build_stage(build, topology, "foundation")
    push = ("push", "--stage", "foundation", "--build-dir", str(build), "--format", "json")
    status, out, _ = cli(*push)
    first = {a["archive"]: a for a in json.loads(out)["artifacts"]}
    assert {a["status"] for a in first.values()} == {"uploaded"}
    status, out, _ = cli(*push)
    assert status == 0
    assert {a["status"] for a in json.loads(out)["artifacts"]} == {"unchanged"}
    lib = build / "artifacts" / "base_lib_generic" / stage_dir_of(topology, "base") / "lib"
    (lib / "libbase.so.1").write_bytes(b"different")
    status, _, err = cli(*push)
    assert status == 1
    old = first["base_lib_generic.tar.zst"]["sha256"]
    assert "base_lib_generic.tar.zst: different content is already in" in err
    assert f"stored sha256 {old}, new sha256 " in err
    assert "--overwrite" in err
    status, out, _ = cli(*push, "--overwrite")
    assert status == 0
    statuses = {a["archive"]: a["status"] for a in json.loads(out)["artifacts"]}
    assert statuses["base_lib_generic.tar.zst"] == "overwritten"
    assert statuses["base_dev_generic.tar.zst"] == "unchanged"
    out_dir = tmp_path / "fetched"
    assert (
        cli("fetch", "--stage", "compiler-runtime", "--output-dir", str(out_dir), "--bootstrap")[0]
        == 0
    )
    assert (
        out_dir / stage_dir_of(topology, "base") / "lib" / "libbase.so.1"
    ).read_bytes() == b"different"


def test_archive_without_sidecar_is_absent(
    cli: Callable[..., tuple[int, str, str]],
    pushed: dict[str, Path],
    make_store: Callable[..., Store],
    tmp_path: Path,
) -> None:
    store = make_store()
    store.delete("7-linux", "kcc_lib_generic.tar.zst.sha256sum")
    status, out, _ = cli("ls")
    assert status == 0
    assert "kcc_lib_generic.tar.zst" not in out
    assert "kcc_dev_generic.tar.zst" in out
    status, _, err = cli(
        "fetch",
        "--stage",
        "math-libs",
        "--amdgpu-families",
        FAMILY,
        "--output-dir",
        str(tmp_path / "o"),
        "--exclude-components",
        "dev,run,doc",
    )
    assert status == 1
    assert (
        "kcc_lib_generic (produced by stage 'compiler-runtime'): its archive has no sidecar" in err
    )


def test_corrupt_archive_is_downloaded_again_then_reported(
    cli: Callable[..., tuple[int, str, str]],
    pushed: dict[str, Path],
    make_store: Callable[..., Store],
    tmp_path: Path,
    repo_root: Path,
) -> None:
    topology = load_topology(repo_root / "BUILD_TOPOLOGY.toml")
    store = make_store()
    name = "kcc_lib_generic.tar.zst"
    good = tmp_path / "good"
    with good.open("wb") as f:
        store.download("7-linux", name, f)
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / name).write_bytes(b"stale corrupt bytes")  # a corrupt cached copy is replaced
    fetch = (
        "fetch",
        "--stage",
        "math-libs",
        "--amdgpu-families",
        FAMILY,
        "--bootstrap",
        "--download-cache-dir",
        str(cache),
    )
    status, _, err = cli(*fetch, "--output-dir", str(tmp_path / "ok"))
    assert status == 0, err
    assert (cache / name).read_bytes() == good.read_bytes()
    damaged = bytearray(good.read_bytes())
    damaged[len(damaged) // 2] ^= 0x01  # one flipped bit, sidecar unchanged
    upload = store.begin_upload("7-linux", name)
    upload.file.write(bytes(damaged))
    upload.commit()
    (cache / name).unlink()
    out = tmp_path / "bad"
    status, _, err = cli(*fetch, "--output-dir", str(out))
    assert status == 1
    assert f"{name}: sha256 " in err and "does not match its sidecar" in err
    assert "downloaded twice" in err
    assert sorted(p.name for p in cache.iterdir() if name in p.name) == []
    assert not list(out.rglob("*.prebuilt"))
    assert not (out / stage_dir_of(topology, "kcc") / "lib" / "libkcc.so.1").exists()


@pytest.mark.parametrize("store_kind", ["local"], indirect=True)
def test_corrupt_archive_in_a_local_store_is_taken_back(
    cli: Callable[..., tuple[int, str, str]],
    pushed: dict[str, Path],
    make_store: Callable[..., Store],
    tmp_path: Path,
    repo_root: Path,
) -> None:
    """Read once from a local store: hashed while extracted, every file removed on mismatch."""
    topology = load_topology(repo_root / "BUILD_TOPOLOGY.toml")
    store = make_store()
    name = "kcc_lib_generic.tar.zst"
    path = store.local_path("7-linux", name)
    assert path is not None
    damaged = bytearray(path.read_bytes())
    damaged[-200] ^= 0x01  # in the member index: decompresses fine, digest differs
    path.write_bytes(bytes(damaged))
    out = tmp_path / "bad"
    fetch = ("fetch", "--stage", "math-libs", "--amdgpu-families", FAMILY, "--bootstrap")
    status, _, err = cli(*fetch, "--output-dir", str(out), "--jobs", "1")
    assert status == 1
    assert f"{name}: sha256 " in err and "what was extracted from it was removed" in err
    assert not list(out.rglob("*.prebuilt"))
    assert not (out / stage_dir_of(topology, "kcc") / "lib" / "libkcc.so.1").exists()


def test_overlapping_archives_are_refused_before_extracting(
    cli: Callable[..., tuple[int, str, str]], repo_root: Path, tmp_path: Path
) -> None:
    topology = load_topology(repo_root / "BUILD_TOPOLOGY.toml")
    build = tmp_path / "build"
    build_stage(build, topology, "foundation")
    # sysdeps claims a file of base's stage dir too: two archives write the same path
    shared = stage_dir_of(topology, "base") + "/lib/libbase.so.1"
    victim = build / "artifacts" / "sysdeps_lib_generic"
    (victim / shared).parent.mkdir(parents=True, exist_ok=True)
    (victim / shared).write_bytes(b"other")
    manifest = victim / "artifact_manifest.txt"
    manifest.write_text(manifest.read_text() + stage_dir_of(topology, "base") + "\n")
    assert cli("push", "--stage", "foundation", "--build-dir", str(build))[0] == 0
    out = tmp_path / "o"
    status, _, err = cli(
        "fetch", "--stage", "compiler-runtime", "--output-dir", str(out), "--bootstrap"
    )
    assert status == 1
    assert (
        f"'{shared}' is written by both base_lib_generic.tar.zst and sysdeps_lib_generic.tar.zst"
        in err
    )
    assert not [p for p in out.rglob("*") if p.is_file()]


def test_interrupted_push_leaves_nothing_readers_see(
    store_kind: str,
    store_url: str,
    endpoint: str | None,
    make_store: Callable[..., Store],
    cli: Callable[..., tuple[int, str, str]],
    repo_root: Path,
    tmp_path: Path,
) -> None:
    topology = load_topology(repo_root / "BUILD_TOPOLOGY.toml")
    build = tmp_path / "build"
    build_stage(build, topology, "foundation")
    big = (
        build / "artifacts" / "base_lib_generic" / stage_dir_of(topology, "base") / "lib" / "big.so"
    )
    with big.open("wb") as f:
        for _ in range(160):
            f.write(os.urandom(1 << 20))
    argv = [
        sys.executable,
        "-m",
        "action_lib",
        "artifacts",
        "push",
        "--stage",
        "foundation",
        "--jobs",
        "1",
        "--build-dir",
        str(build),
        "--store",
        store_url,
        "--run-id",
        "9",
        "--platform",
        "linux",
        "--topology",
        str(repo_root / "BUILD_TOPOLOGY.toml"),
    ]
    if endpoint:
        argv += ["--endpoint-url", endpoint]
    proc = subprocess.Popen(
        argv, cwd=repo_root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    uploading = _wait_mid_upload(store_kind, store_url, endpoint, proc)
    proc.kill()
    proc.wait()
    assert uploading, "the push finished before it could be interrupted"
    store = make_store()
    visible = [n for n in store.listing("9-linux") if n.startswith("base_lib_generic")]
    assert "base_lib_generic.tar.zst.sha256sum" not in visible
    status, out, _ = cli("ls", run_id="9")
    assert "base_lib_generic" not in out
    status, _, err = cli(
        "fetch", "--stage", "compiler-runtime", "--output-dir", str(tmp_path / "o"), run_id="9"
    )
    assert status == 1
    assert "base_*_generic" in err or "missing" in err


def _wait_mid_upload(
    kind: str, url: str, endpoint: str | None, proc: subprocess.Popen[bytes]
) -> bool:
    """Poll until the big archive is being written to the store (True), or the push ended."""
    deadline = time.monotonic() + 60
    client = None
    if kind == "s3":
        import boto3

        client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    while proc.poll() is None and time.monotonic() < deadline:
        if client is not None:
            bucket = url[len("s3://") :].split("/")[0]
            if client.list_multipart_uploads(Bucket=bucket).get("Uploads"):
                return True
        else:
            folder = Path(url) / "9-linux"
            temps = list(folder.glob(".base_lib_generic.tar.zst.tmp-*")) if folder.is_dir() else []
            if any(t.stat().st_size > (32 << 20) for t in temps):
                return True
        time.sleep(0.01)
    return False


def test_copy_between_runs(
    cli: Callable[..., tuple[int, str, str]], pushed: dict[str, Path]
) -> None:
    status, out, _ = cli(
        "copy",
        "--source-run-id",
        "7",
        "--stage",
        "foundation",
        "--dry-run",
        "--format",
        "json",
        run_id="8",
    )
    assert status == 0
    plan = json.loads(out)["artifacts"]
    assert plan and {a["status"] for a in plan} == {"would copy"}
    assert {a["archive"].split("_")[0] for a in plan} == {"base", "sysdeps", "fmtlite"}
    assert "base" not in cli("ls", run_id="8")[1]
    status, out, _ = cli("copy", "--source-run-id", "7", "--stage", "foundation", run_id="8")
    assert status == 0
    status, out, _ = cli("ls", "--format", "json", run_id="8")
    assert len(json.loads(out)["artifacts"]) == len(plan)
    status, out, _ = cli(
        "copy", "--source-run-id", "7", "--stage", "foundation", "--format", "json", run_id="8"
    )
    assert {a["status"] for a in json.loads(out)["artifacts"]} == {"unchanged"}


def test_info_ls_flatten_no_extract(
    cli: Callable[..., tuple[int, str, str]], pushed: dict[str, Path], tmp_path: Path
) -> None:
    status, out, _ = cli(
        "info", "--stage", "math-libs", "--amdgpu-families", FAMILY, "--format", "json"
    )
    assert status == 0
    rows = json.loads(out)["artifacts"]
    fetch = {r["artifact"]: r for r in rows if r["direction"] == "fetch"}
    assert fetch["kcc"]["stage"] == "compiler-runtime" and fetch["kcc"]["bytes"] > 0
    push = {(r["artifact"], r["target"]) for r in rows if r["direction"] == "push"}
    assert ("blas", FAMILY) in push and ("math-support", "generic") in push
    status, out, _ = cli("ls", "--all-runs")
    assert "7-linux" in out
    flat = tmp_path / "flat"
    status, _, err = cli(
        "fetch",
        "--stage",
        "compiler-runtime",
        "--output-dir",
        str(flat),
        "--flatten",
        "--exclude-artifacts",
        "sysdeps,fmtlite",
    )
    assert status == 0, err
    assert (flat / "lib" / "libbase.so.1").is_file()
    assert not (flat / "lib" / "libsysdeps.so.1").exists()
    raw = tmp_path / "raw"
    status, _, err = cli(
        "fetch",
        "--stage",
        "compiler-runtime",
        "--output-dir",
        str(raw),
        "--no-extract",
        "--exclude-components",
        "dev,doc,run",
    )
    assert status == 0, err
    names = sorted(p.name for p in raw.iterdir())
    assert names == sorted(
        n
        for a in ("base", "fmtlite", "sysdeps")
        for n in (f"{a}_lib_generic.tar.zst", f"{a}_lib_generic.tar.zst.sha256sum")
    )


def test_archives_without_index_xz_and_therock_made(
    cli: Callable[..., tuple[int, str, str]],
    make_store: Callable[..., Store],
    repo_root: Path,
    tmp_path: Path,
) -> None:
    """xz archives, and TheRock's (tarfile + zstd), carry no index: listed after download."""
    from action_lib.artifacts.names import format_digest
    from tests.artifact_helpers import Entry, craft_archive

    topology = load_topology(repo_root / "BUILD_TOPOLOGY.toml")
    build = tmp_path / "build"
    build_stage(build, topology, "foundation")
    push = ("push", "--stage", "foundation", "--build-dir", str(build), "--compression", "xz")
    assert cli(*push, "--level", "0")[0] == 0
    store = make_store()
    stage = stage_dir_of(topology, "fmtlite")
    archive = tmp_path / "fmtlite_lib_generic.tar.zst"  # wins over the .tar.xz
    digest = craft_archive(
        archive,
        [Entry(f"{stage}/lib", kind=b"5"), Entry(f"{stage}/lib/libfmtlite.so.2", b"therock")],
        manifest=stage + "\n",
    )
    upload = store.begin_upload("7-linux", archive.name)
    upload.file.write(archive.read_bytes())
    upload.commit()
    store.write_text("7-linux", archive.name + ".sha256sum", format_digest(digest))
    out = tmp_path / "o"
    fetch = ("fetch", "--stage", "compiler-runtime", "--output-dir", str(out), "--bootstrap")
    status, _, err = cli(*fetch)
    assert status == 0, err
    assert (out / stage / "lib" / "libfmtlite.so.2").read_bytes() == b"therock"
    assert not (out / stage / "lib" / "libfmtlite.so.1").exists()
    base = stage_dir_of(topology, "base")
    assert tree(out / base) == tree(build / base)
    assert (out / f"{base}.prebuilt").is_file() and (out / f"{stage}.prebuilt").is_file()
