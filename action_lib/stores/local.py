"""LocalStore: a plain directory; writes go to a hidden temporary name, then are published.

Publishing is a rename, or, for create-if-absent, a hard link (``os.link`` fails when the name
exists: an exclusive create). Temporary names carry the writer's host and process id, so a
later writer on the same host removes what a dead one left (:func:`sweep_temps`).
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import BinaryIO

from action_lib.errors import OperationError
from action_lib.stores.base import (
    AlreadyExistsError,
    FileStat,
    OnBytes,
    Sink,
    is_safe_run,
    safe_name,
    safe_run,
)

CHUNK = 1 << 20
TEMP_MARK = ".tmp-"
_HOST = socket.gethostname().replace("-", "_").replace(".", "_")[:40] or "host"


def _is_temp(name: str) -> bool:
    return name.startswith(".") and TEMP_MARK in name


def temp_path(final: Path) -> Path:
    """A hidden temporary name beside ``final``: ``.{name}.tmp-{pid}-{host}-{random}``."""
    return final.parent / f".{final.name}{TEMP_MARK}{os.getpid()}-{_HOST}-{uuid.uuid4().hex[:8]}"


def _writer_dead(name: str) -> bool:
    """True when the temporary file's writer was a process of this host that is gone."""
    tail = name.rpartition(TEMP_MARK)[2]
    pid_text, _, rest = tail.partition("-")
    host = rest.rpartition("-")[0]
    if host != _HOST or not pid_text.isdigit() or sys.platform == "win32":
        return False  # another host's, or an old name: left to the age rule
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


def sweep_temps(folder: Path, older_than: float | None, *, dry_run: bool = False) -> list[str]:
    """Remove temporary files (and directories) in ``folder`` whose writer is dead, or (when
    ``older_than`` is given) last written more than ``older_than`` seconds ago; their paths."""
    removed: list[str] = []
    now = time.time()
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return removed
    for entry in entries:
        if not _is_temp(entry.name) or entry.is_symlink():
            continue
        try:
            age = now - entry.stat(follow_symlinks=False).st_mtime
        except FileNotFoundError:
            continue
        if _writer_dead(entry.name) or (older_than is not None and age >= older_than):
            if dry_run:
                pass
            elif entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                Path(entry.path).unlink(missing_ok=True)
            removed.append(entry.path)
    return removed


class _LocalUpload:
    def __init__(self, final: Path) -> None:
        self.final = final
        final.parent.mkdir(parents=True, exist_ok=True)
        self.temp = temp_path(final)
        self.file: BinaryIO = self.temp.open("wb")
        self.identity = ""
        self.exclusive = True  # False once hard links turned out unsupported here

    def commit(
        self, progress: OnBytes | None = None, *, digest: str = "", if_absent: bool = False
    ) -> None:
        self.file.close()
        if not if_absent:
            self.temp.replace(self.final)
        else:
            try:
                os.link(self.temp, self.final)  # exclusive: fails when the name exists
            except FileExistsError:
                raise AlreadyExistsError(f"{self.final} exists") from None
            except OSError:  # no hard links on this file system: check, then rename
                self.exclusive = False
                if self.final.exists():
                    raise AlreadyExistsError(f"{self.final} exists") from None
                self.temp.replace(self.final)
            else:
                self.temp.unlink()
        info = self.final.stat()
        self.identity = f"{info.st_dev}:{info.st_ino}"

    def abort(self) -> None:
        self.file.close()
        self.temp.unlink(missing_ok=True)


class LocalStore:
    """Files under ``{root}/{run}/{name}`` on a local (or mounted) file system."""

    def __init__(self, root: Path) -> None:
        self.root = root.expanduser().absolute()
        self.url = str(self.root)

    @property
    def conditional_writes(self) -> bool:
        """Hard links give an exclusive create (a file system without them: compare after)."""
        return True

    def _path(self, run: str, name: str = "") -> Path:
        path = self.root.joinpath(*safe_run(run).split("/"))
        return path / safe_name(name) if name else path

    def location(self, run: str) -> str:
        return str(self._path(run))

    def listing(self, run: str) -> Mapping[str, int]:
        folder = self._path(run)
        out: dict[str, int] = {}
        try:
            with os.scandir(folder) as it:
                for entry in it:
                    if entry.is_file(follow_symlinks=False) and not _is_temp(entry.name):
                        out[entry.name] = entry.stat().st_size
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise OperationError(f"cannot list {folder}: {exc.strerror or exc}") from None
        return dict(sorted(out.items()))

    def runs(self) -> list[str]:
        found: list[str] = []
        if not self.root.is_dir():
            return found
        for path in self.root.rglob("*"):
            if path.is_file() and not _is_temp(path.name):
                found.append(path.parent.relative_to(self.root).as_posix())
        return sorted(r for r in set(found) if is_safe_run(r))

    def read_text(self, run: str, name: str) -> str | None:
        try:
            # A small file of a shared store is data: undecodable bytes are replaced, not fatal.
            return self._path(run, name).read_bytes().decode("utf-8", "replace")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise OperationError(
                f"cannot read {self._path(run, name)}: {exc.strerror or exc}"
            ) from None

    def read_tail(self, run: str, name: str, size: int, n: int) -> bytes:
        with self._path(run, name).open("rb") as f:
            f.seek(max(0, size - n))
            return f.read(n)

    def local_path(self, run: str, name: str) -> Path | None:
        return self._path(run, name)

    def download(self, run: str, name: str, out: Sink, progress: OnBytes | None = None) -> None:
        path = self._path(run, name)
        try:
            with path.open("rb", buffering=0) as src:
                buf = bytearray(CHUNK)
                view = memoryview(buf)
                while n := src.readinto(buf):
                    out.write(view[:n])
                    if progress is not None:
                        progress(n)
        except FileNotFoundError:
            raise OperationError(f"{path} is absent") from None

    def begin_upload(self, run: str, name: str) -> _LocalUpload:
        try:
            upload = _LocalUpload(self._path(run, name))
            sweep_temps(upload.final.parent, None)  # what dead writers of this host left
            return upload
        except OSError as exc:
            raise OperationError(
                f"cannot write to {self._path(run)}: {exc.strerror or exc}"
            ) from None

    def write_text(self, run: str, name: str, text: str, *, if_absent: bool = False) -> None:
        upload = self.begin_upload(run, name)
        try:
            upload.file.write(text.encode("utf-8"))
            upload.commit(if_absent=if_absent)
        except BaseException:
            upload.abort()
            raise

    def stat(self, run: str, name: str) -> FileStat | None:
        try:
            info = self._path(run, name).stat()
        except FileNotFoundError:
            return None
        return FileStat(info.st_size, info.st_mtime, None, f"{info.st_dev}:{info.st_ino}")

    def gc(self, run: str | None, older_than: float, *, dry_run: bool = False) -> list[str]:
        folders = [self._path(run)] if run is not None else []
        if run is None and self.root.is_dir():
            folders = [self.root, *sorted(p for p in self.root.rglob("*") if p.is_dir())]
        removed: list[str] = []
        for folder in folders:
            removed += sweep_temps(folder, older_than, dry_run=dry_run)
        return [f"temporary file {path}" for path in removed]

    def delete(self, run: str, name: str) -> None:
        self._path(run, name).unlink(missing_ok=True)

    def copy(self, src_run: str, name: str, dst_run: str) -> None:
        source = self._path(src_run, name)
        upload = self.begin_upload(dst_run, name)
        upload.file.close()
        try:
            upload.temp.unlink()
            try:
                os.link(source, upload.temp)
            except OSError:
                shutil.copyfile(source, upload.temp)
            upload.temp.replace(upload.final)
        except OSError as exc:
            upload.temp.unlink(missing_ok=True)
            raise OperationError(f"cannot copy {source}: {exc.strerror or exc}") from None
