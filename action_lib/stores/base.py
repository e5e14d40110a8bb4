"""The Store protocol: files under ``{root}/{run}/{name}``, where run is ``{run_id}-{platform}``.

Stores move bytes; they know nothing of artifacts. Publishing order (archive first, sidecar
last) and "an archive without its sidecar is absent" live in :mod:`action_lib.artifacts.push`
and :mod:`action_lib.artifacts.fetch`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from action_lib.errors import InputError, OperationError
from action_lib.inputs.paths import component_problems, run_folder_problems
from action_lib.inputs.untrusted import escape

OnBytes = Callable[[int], None]  # called with each count of bytes moved
Notice = Callable[[str], None]
SCHEMES = ("s3://", "file://")


class AlreadyExistsError(OperationError):
    """A create-if-absent write found the name taken; nothing was replaced."""


@dataclass(frozen=True)
class FileStat:
    """A stored file: size, modification time (epoch seconds), the sha256 recorded with it
    when the store keeps one, and an identity that changes whenever the file is replaced."""

    size: int
    modified: float
    digest: str | None
    identity: str


def safe_name(name: str) -> str:
    """``name`` when it can be one file in a run folder (no separator, no ``..``, no control
    character); InputError otherwise. Every store checks a name before it becomes a path or
    a key, so a name listed from a store can never reach outside its folder."""
    problems = component_problems(name)
    if problems:
        raise InputError(f"store file name '{escape(name, 80)}' {problems[0]}: refused")
    return name


def safe_run(run: str) -> str:
    """``run`` when it is a well-formed run folder (``<run id>-<platform>``, maybe under
    ``<owner>-<repo>/``); InputError otherwise."""
    problems = run_folder_problems(run)
    if problems:
        raise InputError(f"run folder '{escape(run, 80)}' {problems[0]}: refused")
    return run


def is_safe_run(run: str) -> bool:
    """True for a well-formed run folder (a listing of runs keeps only those)."""
    return not run_folder_problems(run)


class Sink(Protocol):
    """Anything bytes can be written to."""

    def write(self, data: bytes | bytearray | memoryview, /) -> object: ...


class Upload(Protocol):
    """A file being written to a store; readers see nothing until ``commit``."""

    file: BinaryIO
    identity: str  # of the published file, after ``commit``

    def commit(
        self, progress: OnBytes | None = None, *, digest: str = "", if_absent: bool = False
    ) -> None:
        """Publish the file under its final name (atomically for readers), recording its
        sha256 ``digest`` where the store can. With ``if_absent``, raise AlreadyExistsError
        when the name is taken (the upload stays ready for another commit or an abort)."""

    def abort(self) -> None:
        """Discard the file; nothing is published."""


class Store(Protocol):
    """Where artifacts live between the jobs of a pipeline."""

    url: str

    @property
    def conditional_writes(self) -> bool:
        """True when create-if-absent is enforced by the store itself, not compared after."""

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

    def write_text(self, run: str, name: str, text: str, *, if_absent: bool = False) -> None:
        """Write a small file atomically; with ``if_absent``, AlreadyExistsError when taken."""

    def stat(self, run: str, name: str) -> FileStat | None:
        """A file's size, time, recorded digest and identity; None when absent."""

    def gc(self, run: str | None, older_than: float, *, dry_run: bool = False) -> list[str]:
        """Remove what dead writers left in ``run`` (all runs when None): temporary files,
        incomplete multipart uploads, started more than ``older_than`` seconds ago. Returns a
        line per leftover."""

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
    on_retry: Callable[..., None] | None = None,
    on_notice: Notice | None = None,
) -> Store:
    """The store for ``url``: ``s3://bucket/prefix``, ``file://path`` or a plain path
    ("" = ``local_default``); any other ``scheme://`` is an InputError naming the schemes."""
    scheme, sep, _ = url.partition("://")
    if sep and not url.startswith(SCHEMES) and "/" not in scheme and "\\" not in scheme:
        raise InputError(
            f"store '{url}': unknown scheme '{scheme}://' (use s3://BUCKET/PREFIX, "
            "file://PATH or a directory)"
        )
    if url.startswith("s3://"):
        from action_lib.stores.s3 import S3Store

        return S3Store(
            url,
            endpoint_url=endpoint_url,
            jobs=jobs,
            retry_budget=retry_budget,
            on_retry=on_retry,
            on_notice=on_notice,
        )
    from action_lib.stores.local import LocalStore

    if url.startswith("file://"):
        url = url[len("file://") :]
    return LocalStore(Path(url) if url else local_default)
