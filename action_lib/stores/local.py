"""LocalStore: a plain directory; writes go to a hidden temporary name, then are renamed."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import BinaryIO

from action_lib.errors import OperationError
from action_lib.stores.base import OnBytes, Sink

CHUNK = 1 << 20
TEMP_MARK = ".tmp-"


def _is_temp(name: str) -> bool:
    return name.startswith(".") and TEMP_MARK in name


class _LocalUpload:
    def __init__(self, final: Path) -> None:
        self.final = final
        final.parent.mkdir(parents=True, exist_ok=True)
        self.temp = final.parent / f".{final.name}{TEMP_MARK}{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.file: BinaryIO = self.temp.open("wb")

    def commit(self, progress: OnBytes | None = None) -> None:
        self.file.close()
        self.temp.replace(self.final)

    def abort(self) -> None:
        self.file.close()
        self.temp.unlink(missing_ok=True)


class LocalStore:
    """Files under ``{root}/{run}/{name}`` on a local (or mounted) file system."""

    def __init__(self, root: Path) -> None:
        self.root = root.expanduser().absolute()
        self.url = str(self.root)

    def _path(self, run: str, name: str = "") -> Path:
        path = self.root.joinpath(*run.split("/"))
        return path / name if name else path

    def location(self, run: str) -> str:
        return str(self._path(run))

    def listing(self, run: str) -> Mapping[str, int]:
        folder = self._path(run)
        out: dict[str, int] = {}
        try:
            with os.scandir(folder) as it:
                for entry in it:
                    if entry.is_file() and not _is_temp(entry.name):
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
        return sorted(set(found))

    def read_text(self, run: str, name: str) -> str | None:
        try:
            return self._path(run, name).read_text(encoding="utf-8")
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
            return _LocalUpload(self._path(run, name))
        except OSError as exc:
            raise OperationError(
                f"cannot write to {self._path(run)}: {exc.strerror or exc}"
            ) from None

    def write_text(self, run: str, name: str, text: str) -> None:
        upload = self.begin_upload(run, name)
        try:
            upload.file.write(text.encode("utf-8"))
        except BaseException:
            upload.abort()
            raise
        upload.commit()

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
