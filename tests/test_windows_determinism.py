"""Windows DLLs are reproducible: the super-build cross-compiled twice with mingw-w64, in two
directories and at two times, gives byte-identical artifact archives.

Per-arch stages on Windows each build the same generic half; the store accepts one content, so
without --no-insert-timestamp (GNU ld writes the link time into every PE file) the second
family's push would be refused. Skips when the mingw-w64 cross compiler is absent (Debian:
apt-get install mingw-w64; .ci/run installs it).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.replay_helpers import REPO, rockshard, tool_env

pytestmark = pytest.mark.integration

MINGW = "x86_64-w64-mingw32-gcc"
TOOLCHAIN = REPO / "cmake" / "toolchains" / "mingw-w64-x86_64.cmake"
# The stages whose build runs nothing it builds (later ones run kcc.exe at build time).
STAGES = ("foundation", "compiler-runtime")


def _cross_build(build: Path) -> None:
    env = tool_env()
    cmake = shutil.which("cmake", path=env["PATH"])
    assert cmake is not None
    configure = [
        cmake,
        "-S",
        str(REPO),
        "-B",
        str(build),
        "-G",
        "Ninja",
        f"-DCMAKE_TOOLCHAIN_FILE={TOOLCHAIN}",
        "-DROCKSHARD_PLATFORM=windows",
        f"-DROCKSHARD_PYTHON={sys.executable}",
        "-DROCKSHARD_ENABLE_ALL=OFF",
        "-DROCKSHARD_ENABLE_HIP_RUNTIME=ON",  # and so every artifact it needs
    ]
    targets = [f"stage-{s}" for s in STAGES]
    for args in (configure, [cmake, "--build", str(build), "--target", *targets]):
        done = subprocess.run(
            args, env=env, capture_output=True, text=True, timeout=900, check=False
        )
        assert done.returncode == 0, (done.stdout + done.stderr)[-6000:]


def _archives(build: Path, store: Path) -> dict[str, str]:
    """Push the stages' artifacts to a local store; archive -> sha256."""
    for stage in STAGES:
        done = rockshard(
            "artifacts",
            "push",
            "--stage",
            stage,
            "--build-dir",
            build,
            "--platform",
            "windows",
            "--local-staging-dir",
            store,
            "--run-id",
            "cross",
        )
        assert done.returncode == 0, done.stdout + done.stderr
    folder = store / "cross-windows"
    return {
        p.name.removesuffix(".sha256sum"): p.read_text().strip()
        for p in sorted(folder.glob("*.sha256sum"))
    }


def test_cross_compiled_windows_dlls_are_byte_identical(tmp_path: Path) -> None:
    if shutil.which(MINGW) is None:
        pytest.skip(f"{MINGW} is absent: apt-get install mingw-w64 (as .ci/run does)")
    first, second = tmp_path / "a" / "build", tmp_path / "elsewhere" / "b" / "build"
    _cross_build(first)
    time.sleep(1.1)  # PE timestamps count seconds: the two links are never in the same one
    _cross_build(second)
    dlls = sorted(p.name for p in first.rglob("stage/bin/*.dll"))
    assert {"libsysdeps.dll", "librsbase.dll", "libcorert.dll", "librship.dll"} <= set(dlls), dlls
    for name in dlls:  # PE files, not ELF: the host toolchain was not used
        data = next(first.rglob(f"stage/bin/{name}")).read_bytes()
        assert data[:2] == b"MZ", name
    a = _archives(first, tmp_path / "store-a")
    b = _archives(second, tmp_path / "store-b")
    assert len(a) >= 20 and "core-runtime_lib_generic.tar.zst" in a
    differing = sorted(name for name in a if a[name] != b.get(name))
    assert not differing and a.keys() == b.keys(), differing
