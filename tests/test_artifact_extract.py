"""Extraction safety: every hostile archive kind is refused and nothing lands outside."""

from __future__ import annotations

import re
import sys
import tarfile
from pathlib import Path

import pytest

from action_lib.artifacts.archive import Index
from action_lib.artifacts.extract import (
    Claims,
    Layout,
    OverlapError,
    SafeRoot,
    UnsafeArchiveError,
    check_overlaps,
    extract,
)
from action_lib.artifacts.tarfmt import Member, TarFormatError
from action_lib.errors import OperationError
from tests.artifact_helpers import Entry, craft_archive, tree

F = tarfile.REGTYPE
D = tarfile.DIRTYPE
S = tarfile.SYMTYPE
H = tarfile.LNKTYPE


@pytest.fixture
def sandbox(tmp_path: Path) -> tuple[Path, Path]:
    """(output dir, a sibling 'outside' dir holding a victim file)."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim").write_text("precious")
    (outside / "dir").mkdir()
    return tmp_path / "out", outside


def run(archive: Path, out: Path, layout: Layout = "bootstrap") -> None:
    with archive.open("rb") as raw:
        extract(raw, "zstd", SafeRoot(out), layout, "x_lib_generic", archive.name, claims=Claims())


HOSTILE = {
    "absolute-path": [Entry("/tmp/rockshard-absolute-victim", b"x")],
    "dotdot-path": [Entry("stage/../../outside/victim", b"pwned")],
    "dotdot-top": [Entry("../outside/victim", b"pwned")],
    "symlink-outside": [Entry("stage/evil", kind=S, link="../../outside/victim")],
    "symlink-absolute": [Entry("stage/evil", kind=S, link="/etc/passwd")],
    "symlink-then-file-through-it": [
        Entry("stage/ln", kind=S, link="../../outside"),
        Entry("stage/ln/victim", b"pwned"),
    ],
    "symlink-chain-outside": [  # each link alone stays inside; together they escape
        Entry("stage/a", kind=S, link="b/../.."),
        Entry("stage/b", kind=S, link="."),
    ],
    "symlink-chain-then-file": [
        Entry("stage/a", kind=S, link="b/../../outside"),
        Entry("stage/b", kind=S, link="."),
        Entry("stage/a/victim", b"pwned"),
    ],
    "hardlink-outside": [Entry("stage/h", kind=H, link="../outside/victim")],
    "hardlink-absolute": [Entry("stage/h", kind=H, link="/etc/passwd")],
    "hardlink-to-nothing-earlier": [
        Entry("stage/h", kind=H, link="stage/later"),
        Entry("stage/later", b"x"),
    ],
    "char-device": [Entry("stage/null", kind=tarfile.CHRTYPE)],
    "block-device": [Entry("stage/sda", kind=tarfile.BLKTYPE)],
    "fifo": [Entry("stage/fifo", kind=tarfile.FIFOTYPE)],
    "outside-manifest-prefix": [Entry("elsewhere/file", b"x")],
    "file-over-directory": [Entry("stage/d", kind=D), Entry("stage/d", b"x")],
}


@pytest.mark.parametrize("entries", list(HOSTILE.values()), ids=list(HOSTILE))
def test_hostile_archive_is_refused_and_nothing_escapes(
    entries: list[Entry], sandbox: tuple[Path, Path], tmp_path: Path
) -> None:
    out, outside = sandbox
    before = tree(outside)
    archive = tmp_path / "x_lib_generic.tar.zst"
    craft_archive(archive, entries)
    with pytest.raises(OperationError):
        run(archive, out)
    assert tree(outside) == before
    assert not Path("/tmp/rockshard-absolute-victim").exists()
    for path in out.rglob("*"):
        assert path.resolve().is_relative_to(out.resolve()) or path.is_symlink()


def test_manifest_entry_escaping_is_refused(sandbox: tuple[Path, Path], tmp_path: Path) -> None:
    out, outside = sandbox
    archive = tmp_path / "x_lib_generic.tar.zst"
    craft_archive(archive, [Entry("../outside/victim", b"x")], manifest="../outside\n")
    with pytest.raises(OperationError, match=re.escape("manifest entry '../outside'")):
        run(archive, out)
    assert (outside / "victim").read_text() == "precious"


def test_existing_symlink_in_output_leading_outside(
    sandbox: tuple[Path, Path], tmp_path: Path
) -> None:
    out, outside = sandbox
    (out / "stage").mkdir(parents=True)
    (out / "stage" / "pre").symlink_to(outside)
    archive = tmp_path / "x_lib_generic.tar.zst"
    craft_archive(archive, [Entry("stage/pre/victim", b"pwned")])
    with pytest.raises(UnsafeArchiveError, match="symlink leading outside"):
        run(archive, out)
    assert (outside / "victim").read_text() == "precious"


def test_existing_symlink_at_a_file_path_is_replaced_not_followed(
    sandbox: tuple[Path, Path], tmp_path: Path
) -> None:
    out, outside = sandbox
    (out / "stage").mkdir(parents=True)
    (out / "stage" / "f").symlink_to(outside / "victim")
    archive = tmp_path / "x_lib_generic.tar.zst"
    craft_archive(archive, [Entry("stage/f", b"new")])
    run(archive, out)
    assert (outside / "victim").read_text() == "precious"
    assert not (out / "stage" / "f").is_symlink()
    assert (out / "stage" / "f").read_text() == "new"


def test_internal_links_are_fine(sandbox: tuple[Path, Path], tmp_path: Path) -> None:
    out, _ = sandbox
    archive = tmp_path / "x_lib_generic.tar.zst"
    entries = [
        Entry("stage/lib", kind=D, mode=0o755),
        Entry("stage/lib/libx.so.1", b"lib"),
        Entry("stage/lib/libx.so", kind=S, link="libx.so.1"),
        Entry("stage/lib64", kind=S, link="lib"),
        Entry("stage/lib64/extra", b"through an internal link"),
        Entry("stage/lib/hard", kind=H, link="stage/lib/libx.so.1"),
    ]
    craft_archive(archive, entries)
    run(archive, out)
    assert (out / "stage/lib/extra").read_text() == "through an internal link"
    assert (out / "stage/lib/hard").stat().st_ino == (out / "stage/lib/libx.so.1").stat().st_ino


def test_damaged_header_is_detected(sandbox: tuple[Path, Path], tmp_path: Path) -> None:
    import io

    import zstandard

    out, _ = sandbox
    archive = tmp_path / "x_lib_generic.tar.zst"
    craft_archive(archive, [Entry(f"stage/f{i}", b"x" * 600) for i in range(8)])
    raw = bytearray(
        zstandard.ZstdDecompressor().stream_reader(io.BytesIO(archive.read_bytes())).read()
    )
    raw[512 * 5 + 10] ^= 0x55  # inside the header of a later member
    archive.write_bytes(zstandard.ZstdCompressor().compress(bytes(raw)))
    with pytest.raises(TarFormatError, match="damaged tar header"):
        run(archive, out)


def test_truncated_archive_is_detected(sandbox: tuple[Path, Path], tmp_path: Path) -> None:
    out, _ = sandbox
    archive = tmp_path / "x_lib_generic.tar.zst"
    craft_archive(archive, [Entry("stage/f", b"x" * 100_000)])
    archive.write_bytes(archive.read_bytes()[:-40])
    with pytest.raises(TarFormatError):
        run(archive, out)


def test_first_member_must_be_the_manifest(sandbox: tuple[Path, Path], tmp_path: Path) -> None:
    import io

    import zstandard

    out, _ = sandbox
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        info = tarfile.TarInfo("stage/f")
        tar.addfile(info, io.BytesIO())
    archive = tmp_path / "x_lib_generic.tar.zst"
    archive.write_bytes(zstandard.ZstdCompressor().compress(raw.getvalue()))
    with pytest.raises(TarFormatError, match="first member"):
        run(archive, out)


def test_members_must_match_the_index(sandbox: tuple[Path, Path], tmp_path: Path) -> None:
    out, _ = sandbox
    archive = tmp_path / "x_lib_generic.tar.zst"
    craft_archive(archive, [Entry("stage/a", b"a"), Entry("stage/b", b"b")])
    index = Index(("stage",), (Member("stage/a", "f", 1, 0o644),))
    with archive.open("rb") as raw, pytest.raises(UnsafeArchiveError, match="index"):
        extract(raw, "zstd", SafeRoot(out), "bootstrap", "x", archive.name, index=index)


@pytest.mark.parametrize(
    ("layout", "expected"),
    [
        (
            "dirs",
            {
                "artifacts/x_lib_generic/artifact_manifest.txt",
                "artifacts/x_lib_generic/stage/sub/f",
            },
        ),
        ("bootstrap", {"stage/sub/f"}),
        ("flatten", {"sub/f"}),
    ],
    ids=["dirs", "bootstrap", "flatten"],
)
def test_layouts(layout: Layout, expected: set[str], tmp_path: Path) -> None:
    archive = tmp_path / "x_lib_generic.tar.zst"
    craft_archive(archive, [Entry("stage/sub", kind=D), Entry("stage/sub/f", b"f")])
    out = tmp_path / "out"
    run(archive, out, layout)
    assert {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()} == expected


def test_overlap_is_detected_before_extracting() -> None:
    a = Index(("stage",), (Member("stage/lib", "d"), Member("stage/lib/x.so", "f", 1)))
    b = Index(("stage",), (Member("stage/lib", "d"), Member("stage/lib/y.so", "f", 1)))
    c = Index(("stage",), (Member("stage/lib/x.so", "l", 0, 0o777, "y.so"),))
    check_overlaps(
        [("a.tar.zst", "a", a), ("b.tar.zst", "b", b)], "bootstrap"
    )  # shared dirs are fine
    with pytest.raises(
        OverlapError, match=re.escape("'stage/lib/x.so' is written by both a.tar.zst and c.tar.zst")
    ):
        check_overlaps(
            [("a.tar.zst", "a", a), ("b.tar.zst", "b", b), ("c.tar.zst", "c", c)], "bootstrap"
        )
    check_overlaps([("a.tar.zst", "a", a), ("c.tar.zst", "c", c)], "dirs")  # separate dirs


def test_overlap_claims_during_extraction(tmp_path: Path) -> None:
    claims = Claims()
    out = SafeRoot(tmp_path / "out")
    for name in ("a_lib_generic", "b_lib_generic"):
        archive = tmp_path / f"{name}.tar.zst"
        craft_archive(archive, [Entry("stage/same", name.encode())])
        with archive.open("rb") as raw:
            if name.startswith("a"):
                extract(raw, "zstd", out, "bootstrap", name, archive.name, claims=claims)
            else:
                with pytest.raises(
                    OverlapError, match=re.escape("a_lib_generic.tar.zst and b_lib_generic")
                ):
                    extract(raw, "zstd", out, "bootstrap", name, archive.name, claims=claims)


@pytest.mark.skipif(sys.platform != "win32", reason="Windows path rules")
def test_windows_paths_refused(tmp_path: Path) -> None:  # pragma: no cover - Windows only
    archive = tmp_path / "x_lib_generic.tar.zst"
    craft_archive(archive, [Entry("stage\\..\\..\\x", b"x")])
    with pytest.raises(UnsafeArchiveError):
        run(archive, tmp_path / "out")
