"""The Store protocol: files under ``{root}/{run}/{name}``, where run is ``{run_id}-{platform}``.

Stores move bytes; they know nothing of artifacts. Publishing order (archive first, sidecar
last) and "an archive without its sidecar is absent" live in :mod:`action_lib.artifacts.push`
and :mod:`action_lib.artifacts.fetch`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import BinaryIO, Protocol

OnBytes = Callable[[int], None]  # called with each count of bytes moved


class Sink(Protocol):
    """Anything bytes can be written to."""

    def write(self, data: bytes | bytearray | memoryview, /) -> object: ...


class Upload(Protocol):
    """A file being written to a store; readers see nothing until ``commit``."""

    file: BinaryIO

    def commit(self, progress: OnBytes | None = None) -> None:
        """Publish the file under its final name (atomically for readers)."""

    def abort(self) -> None:
        """Discard the file; nothing is published."""


class Store(Protocol):
    """Where artifacts live between the jobs of a pipeline."""

    url: str

    def location(self, run: str) -> str:
        """The URL (or path) of a run's folder, for messages."""

    def listing(self, run: str) -> Mapping[str, int]:
        """File name -> size of every file in the run's folder."""

    def runs(self) -> list[str]:
        """The run folders present, sorted."""

    def read_text(self, run: str, name: str) -> str | None:
        """A small file's text, or None when absent."""

    def read_tail(self, run: str, name: str, size: int, n: int) -> bytes:
        """The last ``n`` bytes of a file of ``size`` bytes."""

    def local_path(self, run: str, name: str) -> Path | None:
        """The file's local path when the store is a local directory, else None."""

    def download(self, run: str, name: str, out: Sink, progress: OnBytes | None = None) -> None:
        """Stream a file into ``out`` (callers hash while it streams)."""

    def begin_upload(self, run: str, name: str) -> Upload:
        """Start writing a file; see :class:`Upload`."""

    def write_text(self, run: str, name: str, text: str) -> None:
        """Write a small file atomically."""

    def delete(self, run: str, name: str) -> None:
        """Remove a file; absent is fine."""

    def copy(self, src_run: str, name: str, dst_run: str) -> None:
        """Copy a file between runs, server-side where the store can."""


def open_store(
    url: str,
    *,
    local_default: Path,
    endpoint_url: str | None = None,
    jobs: int = 4,
    retry_budget: float | None = None,
) -> Store:
    """The store for ``url``: ``s3://bucket/prefix`` or a local directory ("" = ``local_default``)."""
    if url.startswith("s3://"):
        from action_lib.stores.s3 import S3Store

        return S3Store(url, endpoint_url=endpoint_url, jobs=jobs, retry_budget=retry_budget)
    from action_lib.stores.local import LocalStore

    if url.startswith("file://"):
        url = url[len("file://") :]
    return LocalStore(Path(url) if url else local_default)
