"""Artifact names: parsing and validation of ``{name}_{component}_{target}.tar.{zst,xz}``."""

from __future__ import annotations

import pytest

from action_lib.artifacts.names import (
    ArtifactName,
    parse_archive,
    parse_digest,
    parse_stem,
    sidecar,
    try_parse_archive,
)
from action_lib.errors import InputError, OperationError


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("blas_lib_generic.tar.zst", (ArtifactName("blas", "lib", "generic"), "zstd")),
        (
            "core-hip_dev_gfx94X-dcgpu.tar.xz",
            (ArtifactName("core-hip", "dev", "gfx94X-dcgpu"), "xz"),
        ),
        ("amd-llvm_run_gfx942.tar.zst", (ArtifactName("amd-llvm", "run", "gfx942"), "zstd")),
    ],
    ids=["generic", "family-xz", "gfx-target"],
)
def test_parse_archive(filename: str, expected: tuple[ArtifactName, str]) -> None:
    assert parse_archive(filename) == expected
    name, compression = expected
    assert name.archive(compression) == filename


@pytest.mark.parametrize(
    "filename",
    [
        "blas_lib.tar.zst",
        "blas_lib_generic_extra.tar.zst",
        "blas_lib_generic.tar.gz",
        "../blas_lib_generic.tar.zst",
        "a/b_lib_generic.tar.zst",
        "blas_lib_..tar.zst",
        "_lib_generic.tar.zst",
    ],
    ids=["two-parts", "four-parts", "gzip", "dotdot-dir", "slash", "dotdot-target", "empty-name"],
)
def test_bad_archive_names_are_refused(filename: str) -> None:
    with pytest.raises(InputError):
        parse_archive(filename)
    assert try_parse_archive(filename) is None


def test_name_part_rules() -> None:
    with pytest.raises(InputError, match="contains '_'"):
        ArtifactName("my_lib", "lib", "generic")
    with pytest.raises(InputError, match="path separator"):
        ArtifactName("x", "lib", "..")
    with pytest.raises(InputError, match="NAME_COMPONENT_TARGET"):
        parse_stem("blas-lib-generic")


def test_sidecar_and_digest() -> None:
    digest = "a" * 64
    assert sidecar("x_lib_generic.tar.zst") == "x_lib_generic.tar.zst.sha256sum"
    assert parse_digest(digest + "\n", "here") == digest
    assert parse_digest(f"{digest.upper()}  x_lib_generic.tar.zst\n", "here") == digest
    with pytest.raises(OperationError, match="not a sha256 digest"):
        parse_digest("nope\n", "here")
