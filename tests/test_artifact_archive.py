"""Archives: deterministic bytes, manifest first, metadata kept or normalised, interoperable."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import zstandard

from action_lib.artifacts.archive import collect, file_tail, read_index, write_archive
from action_lib.artifacts.extract import SafeRoot, extract, list_members
from action_lib.errors import InputError
from tests.artifact_helpers import tree

STAGE = "math-libs/blas/stage"


def make_artifact(root: Path) -> Path:
    art = root / "blas_lib_generic"
    stage = art / STAGE
    (stage / "lib" / "gfx942").mkdir(parents=True)
    (stage / "bin").mkdir()
    (stage / "empty").mkdir()
    (art / "artifact_manifest.txt").write_text(STAGE + "\n")
    (stage / "lib" / "libblas.so.1").write_bytes(os.urandom(1 << 16) + b"x" * (3 << 20))
    (stage / "lib" / "libblas.so").symlink_to("libblas.so.1")
    (stage / "lib" / "libblas.so.1.0").hardlink_to(stage / "lib" / "libblas.so.1")
    (stage / "lib" / "gfx942" / "k.hsaco").write_bytes(b"k" * 10)
    (stage / "bin" / "tool").write_text("#!/bin/sh\n")
    (stage / "bin" / "tool").chmod(0o750)
    (stage / "lib" / ("long-" * 30 + "name.txt")).write_text("long")
    (stage / "lib" / "ünïcode.txt").write_text("u")
    return art


def archive_bytes(art: Path, **kw: object) -> bytes:
    out = io.BytesIO()
    write_archive(art, out, **kw)  # type: ignore[arg-type]
    return out.getvalue()


def test_same_tree_same_bytes(tmp_path: Path) -> None:
    art = make_artifact(tmp_path / "a")
    first = archive_bytes(art, threads=1)
    assert archive_bytes(art, threads=1) == first
    assert archive_bytes(art, threads=3) == first  # independent of the worker count
    copy = tmp_path / "b" / art.name
    shutil.copytree(art, copy, symlinks=True)
    for path in copy.rglob("*"):  # other mtimes, same content
        os.utime(path, (1_000_000, 1_000_000), follow_symlinks=False)
    link = copy / STAGE / "lib" / "libblas.so.1.0"
    link.unlink()
    link.hardlink_to(copy / STAGE / "lib" / "libblas.so.1")
    assert archive_bytes(copy, threads=2) == first


def test_content_change_changes_digest(tmp_path: Path) -> None:
    art = make_artifact(tmp_path)
    first = archive_bytes(art)
    (art / STAGE / "bin" / "tool").chmod(0o755)
    assert archive_bytes(art) != first


def test_members_sorted_manifest_first_metadata_normalised(tmp_path: Path) -> None:
    art = make_artifact(tmp_path)
    blob = archive_bytes(art)
    raw = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(blob), read_across_frames=True)
    with tarfile.open(fileobj=raw, mode="r|") as tar:
        members = list(tar)
    names = [m.name for m in members]
    assert names[0] == "artifact_manifest.txt"
    assert names[1:] == sorted(names[1:])
    assert all(n.startswith(STAGE + "/") for n in names[1:])
    assert {(m.mtime, m.uid, m.gid, m.uname, m.gname) for m in members} == {
        (0, 0, 0, "root", "root")
    }
    by_name = {m.name: m for m in members}
    assert by_name[f"{STAGE}/bin/tool"].mode == 0o750
    assert by_name[f"{STAGE}/lib/libblas.so"].issym()
    assert by_name[f"{STAGE}/lib/libblas.so"].linkname == "libblas.so.1"
    assert by_name[f"{STAGE}/lib/libblas.so.1.0"].islnk()
    assert by_name[f"{STAGE}/empty"].isdir()
    assert f"{STAGE}/lib/ünïcode.txt" in by_name
    assert f"{STAGE}/lib/{'long-' * 30}name.txt" in by_name


@pytest.mark.skipif(
    shutil.which("tar") is None or shutil.which("zstd") is None, reason="needs tar, zstd"
)
def test_gnu_tar_reads_it_and_round_trip(tmp_path: Path) -> None:
    art = make_artifact(tmp_path / "src")
    archive = tmp_path / "blas_lib_generic.tar.zst"
    with archive.open("wb") as out:
        info = write_archive(art, out)
    assert info.size == archive.stat().st_size
    gnu = tmp_path / "gnu"
    gnu.mkdir()
    subprocess.run(["tar", "--zstd", "-xf", str(archive), "-C", str(gnu)], check=True)
    mine = tmp_path / "mine"
    with archive.open("rb") as raw:
        extract(raw, "zstd", SafeRoot(mine), "dirs", "blas_lib_generic", archive.name)
    assert tree(gnu) == tree(art)
    assert tree(mine / "artifacts" / "blas_lib_generic") == tree(art)
    assert (
        os.stat(mine / "artifacts" / "blas_lib_generic" / STAGE / "bin" / "tool").st_mode & 0o777
        == 0o750
    )
    a = mine / "artifacts" / "blas_lib_generic" / STAGE / "lib"
    assert os.stat(a / "libblas.so.1").st_ino == os.stat(a / "libblas.so.1.0").st_ino


def test_index_frame_matches_members(tmp_path: Path) -> None:
    art = make_artifact(tmp_path)
    archive = tmp_path / "a.tar.zst"
    with archive.open("wb") as out:
        write_archive(art, out)
    index = read_index(file_tail(archive), archive.stat().st_size)
    assert index is not None
    with archive.open("rb") as raw:
        listed = list_members(raw, "zstd", archive.name)
    assert index == listed
    assert index.manifest == (STAGE,)


def test_xz_on_request(tmp_path: Path) -> None:
    art = make_artifact(tmp_path / "src")
    archive = tmp_path / "a.tar.xz"
    with archive.open("wb") as out:
        write_archive(art, out, compression="xz", level=1)
    assert read_index(file_tail(archive), archive.stat().st_size) is None
    with tarfile.open(archive, "r:xz") as tar:
        assert tar.getnames()[0] == "artifact_manifest.txt"
    with archive.open("rb") as raw:
        extract(raw, "xz", SafeRoot(tmp_path / "out"), "dirs", "s", archive.name)
    assert tree(tmp_path / "out" / "artifacts" / "s") == tree(art)


@pytest.mark.parametrize(
    ("compression", "level", "message"),
    [
        ("zstdd", None, "unknown compression 'zstdd': did you mean 'zstd'?"),
        ("gzip", 1, "unknown compression 'gzip' (one of: zstd, xz)"),
    ],
    ids=["typo-default-level", "other-with-level"],
)
def test_unknown_compression_is_an_input_error(
    tmp_path: Path, compression: str, level: int | None, message: str
) -> None:
    art = make_artifact(tmp_path)
    with pytest.raises(InputError) as caught:
        write_archive(art, io.BytesIO(), compression=compression, level=level)
    assert str(caught.value) == message


def test_paths_outside_the_manifest_prefixes_are_refused(tmp_path: Path) -> None:
    art = make_artifact(tmp_path)
    (art / "stray.txt").write_text("x")
    with pytest.raises(InputError, match="not under any prefix"):
        collect(art)


def test_not_an_artifact_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"artifact_manifest\.txt"):
        collect(tmp_path)


@pytest.mark.skipif(sys.platform == "win32", reason="fifos are POSIX")
def test_special_files_are_refused(tmp_path: Path) -> None:
    art = make_artifact(tmp_path)
    os.mkfifo(art / STAGE / "lib" / "fifo")
    with pytest.raises(InputError, match="special file"):
        collect(art)


def test_manifest_lines_are_checked(tmp_path: Path) -> None:
    art = make_artifact(tmp_path)
    (art / "artifact_manifest.txt").write_text("../victim\n")
    with pytest.raises(Exception, match="not a relative path inside the build"):
        collect(art)
