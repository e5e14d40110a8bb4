"""Populate: claim rules on trees built here, target halves, errors, atomic output."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from action_lib.artifacts.descriptor import parse_descriptor
from action_lib.artifacts.populate import populate
from action_lib.cli.main import main
from action_lib.errors import FindingsError, InputError

STAGE = "math-libs/blas/stage"
FILES = [
    "lib/libblas.so.1",
    "lib/libblas.dll",
    "lib/libblas.a",
    "lib/cmake/blas/blas-config.cmake",
    "lib/pkgconfig/blas.pc",
    "lib/gfx942/blas.hsaco",
    "lib/gfx1100/blas.hsaco",
    ".build-id/ab/cdef.debug",
    "include/blas.h",
    "bin/blas-bench",
    "bin/blas-test",
    "bin/blas.pdb",
    "share/doc/blas/README",
    "share/blas/data.txt",
]


def make_stage(root: Path, files: list[str] = FILES) -> None:
    for rel in files:
        path = root / STAGE / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(rel)
    (root / STAGE / "lib" / "libblas.so").symlink_to("libblas.so.1")


def run_populate(
    root: Path, text: str, target: str = "generic", targets: tuple[str, ...] = ()
) -> dict[str, set[str]]:
    descriptor, findings = parse_descriptor(text, "artifact-blas.toml", "blas", "Linux")
    assert not findings
    written = populate(descriptor, root, root / "artifacts", target, targets)
    out: dict[str, set[str]] = {}
    for d in written:
        files = (
            {
                p.relative_to(d.path / STAGE).as_posix()
                for p in (d.path / STAGE).rglob("*")
                if not p.is_dir() or p.is_symlink()
            }
            if (d.path / STAGE).exists()
            else set()
        )
        out[d.name.stem] = files
        assert (d.path / "artifact_manifest.txt").read_text() == f"{STAGE}\n"
    return out


DESCRIPTOR = f"""
[components.lib."{STAGE}"]
include = ["lib/gfx*/**"]
[components.run."{STAGE}"]
include = ["bin/blas-bench"]
[components.dbg."{STAGE}"]
[components.dev."{STAGE}"]
[components.doc."{STAGE}"]
[components.test."{STAGE}"]
include = ["bin/blas-test", "share/blas/**"]
"""


def test_components_claim_in_order_each_file_once(tmp_path: Path) -> None:
    make_stage(tmp_path)
    got = run_populate(tmp_path, DESCRIPTOR)
    assert got == {
        "blas_lib_generic": {
            "lib/libblas.so.1",
            "lib/libblas.so",
            "lib/libblas.dll",
            "lib/gfx942/blas.hsaco",
            "lib/gfx1100/blas.hsaco",
        },
        "blas_run_generic": {"bin/blas-bench"},
        "blas_dbg_generic": {".build-id/ab/cdef.debug", "bin/blas.pdb"},
        "blas_dev_generic": {
            "lib/libblas.a",
            "lib/cmake/blas/blas-config.cmake",
            "lib/pkgconfig/blas.pc",
            "include/blas.h",
        },
        "blas_doc_generic": {"share/doc/blas/README"},
        "blas_test_generic": {"bin/blas-test", "share/blas/data.txt"},
    }
    assert (
        os.readlink(tmp_path / "artifacts/blas_lib_generic" / STAGE / "lib/libblas.so")
        == "libblas.so.1"
    )


def test_family_target_splits_into_generic_and_family_halves(tmp_path: Path) -> None:
    make_stage(tmp_path)
    got = run_populate(tmp_path, DESCRIPTOR, "gfx110X-all", ("gfx1100", "gfx1101"))
    assert got["blas_lib_gfx110X-all"] == {"lib/gfx1100/blas.hsaco"}
    assert "lib/gfx942/blas.hsaco" in got["blas_lib_generic"]
    assert "lib/gfx1100/blas.hsaco" not in got["blas_lib_generic"]
    assert got["blas_doc_gfx110X-all"] == set()


def test_target_with_features_matches_base_arch(tmp_path: Path) -> None:
    make_stage(tmp_path)
    got = run_populate(tmp_path, DESCRIPTOR, "gfx94X-dcgpu", ("gfx942:xnack+",))
    assert got["blas_lib_gfx94X-dcgpu"] == {"lib/gfx942/blas.hsaco"}


def test_generic_halves_identical_across_families(tmp_path: Path) -> None:
    from action_lib.artifacts.archive import write_archive

    digests = []
    for family, targets in (("gfx110X-all", ("gfx1100",)), ("gfx94X-dcgpu", ("gfx942",))):
        root = tmp_path / family
        make_stage(root, [f for f in FILES if "gfx" not in f])
        (root / STAGE / "lib" / targets[0]).mkdir()
        (root / STAGE / "lib" / targets[0] / "k.hsaco").write_text(family)
        run_populate(root, DESCRIPTOR, family, targets)
        with (tmp_path / f"{family}.tar.zst").open("wb") as out:
            digests.append(write_archive(root / "artifacts" / "blas_lib_generic", out).digest)
    assert digests[0] == digests[1]


def test_force_include_exclude_and_default_patterns(tmp_path: Path) -> None:
    make_stage(tmp_path)
    text = f"""
[components.lib."{STAGE}"]
exclude = ["lib/libblas.dll", "lib/gfx*/**"]
force_include = ["lib/gfx942/**"]
[components.run."{STAGE}"]
include = ["**/*"]
"""
    got = run_populate(tmp_path, text)
    assert got["blas_lib_generic"] == {
        "lib/libblas.so.1",
        "lib/libblas.so",
        "lib/gfx942/blas.hsaco",
    }
    assert {"lib/libblas.dll", "lib/gfx1100/blas.hsaco"} <= got["blas_run_generic"]
    assert got["blas_dbg_generic"] == {"bin/blas.pdb"}  # run's default exclude leaves it to dbg
    no_defaults = text.replace('include = ["**/*"]', 'include = ["**/*"]\ndefault_patterns = false')
    got = run_populate(tmp_path, no_defaults)
    assert "bin/blas.pdb" in got["blas_run_generic"]
    assert "blas_dbg_generic" not in got  # undeclared and empty: no directory (stale one gone)
    assert not (tmp_path / "artifacts" / "blas_dbg_generic").exists()


def test_unmatched_files_are_an_error_unless_allowed(tmp_path: Path) -> None:
    make_stage(tmp_path)
    text = f'[components.lib."{STAGE}"]\n'
    descriptor, _ = parse_descriptor(text, "artifact-blas.toml", "blas")
    with pytest.raises(FindingsError) as caught:
        populate(descriptor, tmp_path, tmp_path / "artifacts", "generic")
    finding = caught.value.findings[0]
    assert finding.code == "unmatched-files"
    assert f"{STAGE}/bin/blas-bench" in finding.message
    assert not (tmp_path / "artifacts" / "blas_lib_generic").exists()
    allowed = (
        text + '[options]\nunmatched_exclude = ["bin/**", "include/**", "lib/**", "share/**"]\n'
    )
    descriptor, _ = parse_descriptor(allowed, "artifact-blas.toml", "blas")
    assert populate(descriptor, tmp_path, tmp_path / "artifacts", "generic")


def test_missing_stage_dir_is_an_error_unless_optional(tmp_path: Path) -> None:
    text = '[components.lib."nope/stage"]\n'
    descriptor, _ = parse_descriptor(text, "artifact-x.toml", "x")
    with pytest.raises(FindingsError, match="stage-dir-missing"):
        populate(descriptor, tmp_path, tmp_path / "artifacts", "generic")
    descriptor, _ = parse_descriptor(text + "optional = true\n", "artifact-x.toml", "x")
    written = populate(descriptor, tmp_path, tmp_path / "artifacts", "generic")
    assert [d.name.stem for d in written] == ["x_lib_generic"]


def test_family_target_needs_gfx_targets(tmp_path: Path) -> None:
    descriptor, _ = parse_descriptor('[components.lib."s"]\noptional = true\n', "d.toml", "x")
    with pytest.raises(InputError, match="no gfx targets"):
        populate(descriptor, tmp_path, tmp_path / "artifacts", "gfx94X-dcgpu", ())


@pytest.mark.skipif(sys.platform == "win32", reason="fifos are POSIX")
def test_special_files_are_refused(tmp_path: Path) -> None:
    make_stage(tmp_path)
    os.mkfifo(tmp_path / STAGE / "lib" / "pipe.so")
    descriptor, _ = parse_descriptor(DESCRIPTOR, "d.toml", "blas")
    with pytest.raises(FindingsError, match="special-file"):
        populate(descriptor, tmp_path, tmp_path / "artifacts", "generic")


def test_repopulate_replaces_the_directory(tmp_path: Path) -> None:
    make_stage(tmp_path)
    run_populate(tmp_path, DESCRIPTOR)
    (tmp_path / STAGE / "bin" / "blas-bench").unlink()
    got = run_populate(tmp_path, DESCRIPTOR)
    assert got["blas_run_generic"] == set()
    assert not [p for p in (tmp_path / "artifacts").iterdir() if p.name.startswith(".")]


def test_cli_populate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_stage(tmp_path)
    desc = tmp_path / "artifact-blas.toml"
    desc.write_text(DESCRIPTOR)
    args = ["artifacts", "populate", "--descriptor", str(desc), "--root-dir", str(tmp_path)]
    args += ["--name", "blas", "--output-dir", str(tmp_path / "artifacts")]
    assert main([*args, "--target", "gfx110X-all", "--amdgpu-targets", "gfx1100;gfx1101"]) == 0
    assert (
        tmp_path / "artifacts/blas_lib_gfx110X-all" / STAGE / "lib/gfx1100/blas.hsaco"
    ).is_file()
    assert "blas_lib_gfx110X-all" in capsys.readouterr().out
    assert main([*args, "--target", "gfx94X-dcgpu"]) == 0  # targets from the family map
    assert (
        tmp_path / "artifacts/blas_lib_gfx94X-dcgpu" / STAGE / "lib/gfx942/blas.hsaco"
    ).is_file()
    assert main([*args, "--target", "gfx94X-dcgpo"]) == 2
    assert "did you mean 'gfx94X-dcgpu'" in capsys.readouterr().err
