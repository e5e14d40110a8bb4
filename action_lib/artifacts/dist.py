"""Assembling a product tree (``dist/``) from stage directories.

Every file and symlink of every stage dir lands at the same relative path in ``dist``. Two stage
dirs may hold one path only with the same content (or the same link target); anything else is an
error naming both. The tree is built beside the destination and renamed into place, so a failed
assembly never leaves a half-made ``dist``.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from action_lib.errors import InputError, OperationError


@dataclass(frozen=True)
class DistResult:
    """What an assembly did."""

    files: int
    stage_dirs: int


def _digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def _same(a: Path, b: Path) -> bool:
    if a.is_symlink() or b.is_symlink():
        return a.is_symlink() and b.is_symlink() and a.readlink() == b.readlink()
    return a.stat().st_size == b.stat().st_size and _digest(a) == _digest(b)


def assemble_dist(root: Path, stage_dirs: Sequence[str], dist: Path) -> DistResult:
    """Merge ``root/<stage dir>`` for each stage dir (relative, ``/``-separated) into ``dist``."""
    temp = dist.with_name(dist.name + ".tmp")
    shutil.rmtree(temp, ignore_errors=True)
    temp.mkdir(parents=True)
    owner: dict[str, str] = {}
    files = 0
    try:
        for stage_dir in stage_dirs:
            base = root / stage_dir
            if not base.is_dir():
                raise InputError(f"dist: stage dir {stage_dir} does not exist under {root}")
            for path in sorted(base.rglob("*")):
                if path.is_dir() and not path.is_symlink():
                    continue
                rel = path.relative_to(base).as_posix()
                target = temp / rel
                if rel in owner:
                    if not _same(path, target):
                        raise OperationError(
                            f"dist: {rel} differs between stage dirs {owner[rel]} and {stage_dir}"
                        )
                    continue
                owner[rel] = stage_dir
                target.parent.mkdir(parents=True, exist_ok=True)
                if path.is_symlink():
                    target.symlink_to(path.readlink())
                else:
                    shutil.copy2(path, target)
                files += 1
        shutil.rmtree(dist, ignore_errors=True)
        temp.rename(dist)
    except BaseException:
        with contextlib.suppress(OSError):
            shutil.rmtree(temp)
        raise
    return DistResult(files, len(stage_dirs))
