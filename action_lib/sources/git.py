"""Git through :func:`action_lib.edges.proc.run`: transient failures retried, hung commands killed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from action_lib.edges import proc
from action_lib.errors import OperationError

# Failures worth another attempt: the network, the remote's server side, a held lock.
TRANSIENT_MARKERS = (
    "could not resolve host",
    "couldn't resolve host",
    "temporary failure in name resolution",
    "connection timed out",
    "connection reset",
    "connection refused",
    "failed to connect",
    "operation timed out",
    "the remote end hung up unexpectedly",
    "early eof",
    "unexpected disconnect",
    "rpc failed",
    "transfer closed",
    "gnutls",
    "ssl_error",
    "tls connection",
    "http/2 stream",
    "internal server error",
    "service unavailable",
    "bad gateway",
    "returned error: 5",
    "index.lock': file exists",
    ".lock': file exists",
    "another git process seems to be running",
    "could not lock config file",
    "unable to create temporary file",
)
# Failures that another attempt cannot fix, even if a transient marker also appears.
PERMANENT_MARKERS = (
    "did not contain",
    "not our ref",
    "couldn't find remote ref",
    "no such remote ref",
    "reference is not a tree",
    "repository not found",
    "does not appear to be a git repository",
    "not a git repository",
    "authentication failed",
    "permission denied",
    "unable to read tree",
    "pathspec",
)


def is_transient(result: proc.Result) -> bool:
    """True when git's message says the failure may pass on another attempt."""
    text = (result.stderr + "\n" + result.stdout).lower()
    if any(marker in text for marker in PERMANENT_MARKERS):
        return False
    return any(marker in text for marker in TRANSIENT_MARKERS)


def git_message(result: proc.Result | None, lines: int = 4) -> str:
    """git's own words: the last non-empty lines of its stderr (or stdout), joined."""
    if result is None:
        return ""
    text = result.stderr.strip() or result.stdout.strip()
    kept = [line.strip() for line in text.splitlines() if line.strip()][-lines:]
    return " | ".join(kept)


class GitError(OperationError):
    """A git command failed: ``kind`` is ``timeout`` (killed), ``transient`` (still failing
    after the retries) or ``failed`` (a failure another attempt cannot fix)."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class GitRunner:
    """How to run git: retries of transient failures, their backoff, and a timeout per call."""

    retries: int = 3
    backoff: float = 2.0
    timeout: float | None = 1800.0
    git: str = "git"

    def run(
        self,
        args: Sequence[str],
        *,
        cwd: Path,
        what: str,
        check: bool = True,
        retry: bool = True,
        input_text: str | None = None,
    ) -> proc.Result:
        """Run ``git args`` in ``cwd``. On failure raise GitError naming ``what`` (the
        submodule or repository) and quoting git's message."""
        try:
            return proc.run(
                [self.git, *args],
                cwd=cwd,
                env={"GIT_TERMINAL_PROMPT": "0"},  # never wait for a password nobody types
                timeout=self.timeout,
                check=check,
                input_text=input_text,
                retries=self.retries if retry else 0,
                retry_if=is_transient,
                backoff=self.backoff,
            )
        except proc.ProcessError as exc:
            if exc.result is None:  # timed out (killed) or git not found
                kind = "timeout" if "timed out" in str(exc) else "failed"
                raise GitError(f"{what}: {exc}", kind) from None
            message = git_message(exc.result)
            transient = is_transient(exc.result)
            attempts = (
                f" after {self.retries + 1} attempts"
                if retry and self.retries and transient
                else ""
            )
            raise GitError(
                f"{what}: git {' '.join(args[:3])} failed{attempts}"
                + (f": {message}" if message else f" with exit status {exc.result.returncode}"),
                "transient" if transient else "failed",
            ) from None

    def output(self, args: Sequence[str], *, cwd: Path, what: str) -> str:
        """The stdout of a successful ``git args`` (retried like :meth:`run`)."""
        return self.run(args, cwd=cwd, what=what).stdout


@dataclass(frozen=True)
class TreeEntry:
    """One entry of ``git ls-tree``."""

    mode: str
    type: str  # blob | tree | commit (a submodule)
    object: str
    path: str


def ls_tree(
    runner: GitRunner, repo: Path, rev: str, paths: Sequence[str] = (), *, recursive: bool = False
) -> list[TreeEntry]:
    """``git ls-tree`` of ``rev`` (limited to ``paths``), parsed."""
    args = ["ls-tree", "-z", "--full-tree"]
    if recursive:
        args.append("-r")
    # Values from data (a revision, paths) come after --end-of-options and --: never options.
    # (No bare "--": without paths after it, ls-tree lists nothing.)
    args += ["--end-of-options", rev, *(["--", *paths] if paths else [])]
    out = runner.output(args, cwd=repo, what=str(repo))
    entries: list[TreeEntry] = []
    for record in out.split("\0"):
        if not record:
            continue
        meta, _, path = record.partition("\t")
        mode, kind, obj = meta.split()
        entries.append(TreeEntry(mode, kind, obj, path))
    return entries


def tree_children(
    runner: GitRunner, repo: Path, rev: str, folders: Sequence[str]
) -> dict[str, list[str]]:
    """Folder (``""`` = root) to the names of its sub-folders and submodules at ``rev``."""
    out: dict[str, list[str]] = {}
    for folder in folders:
        entries = ls_tree(runner, repo, rev, [folder + "/"] if folder else [])
        out[folder] = sorted(
            e.path.rpartition("/")[2] for e in entries if e.type in ("tree", "commit")
        )
    return out


@dataclass(frozen=True)
class DiffEntry:
    """One path changed between two revisions; submodule moves carry both commits."""

    path: str
    status: str
    submodule: bool
    old: str
    new: str


def diff(runner: GitRunner, repo: Path, base: str, head: str) -> list[DiffEntry]:
    """The paths changed from ``base`` to ``head`` (renames as delete + add), sorted."""
    out = runner.output(
        [
            "diff",
            "--raw",
            "-z",
            "--no-renames",
            "--no-abbrev",
            "--no-ext-diff",
            "--end-of-options",
            base,
            head,
            "--",
        ],
        cwd=repo,
        what=f"git diff {base} {head}",
    )
    fields = out.split("\0")
    entries: list[DiffEntry] = []
    i = 0
    while i + 1 < len(fields):
        meta, path = fields[i], fields[i + 1]
        i += 2
        if not meta.startswith(":"):
            continue
        old_mode, new_mode, old, new, status = meta[1:].split()
        submodule = "160000" in (old_mode, new_mode)
        zero = "0" * len(old)
        entries.append(
            DiffEntry(
                path,
                status[0],
                submodule,
                old if submodule and old != zero else "",
                new if submodule and new != zero else "",
            )
        )
    return sorted(entries, key=lambda e: e.path)


def list_files(runner: GitRunner, repo: Path) -> list[str]:
    """Every file of the checkout git knows or would add: tracked (also outside a sparse
    cone) and untracked but not ignored; sorted."""
    out = runner.output(
        ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=repo, what=str(repo)
    )
    return sorted({p for p in out.split("\0") if p})


def commit_time(runner: GitRunner, repo: Path, rev: str = "HEAD") -> int | None:
    """The committer time of ``rev`` in seconds since the epoch; None outside a git checkout."""
    if not (repo / ".git").exists():
        return None
    try:
        args = ["log", "-1", "--format=%ct", "--end-of-options", rev, "--"]
        out = runner.output(args, cwd=repo, what=str(repo)).strip()
    except OperationError:
        return None
    return int(out) if out.isdigit() else None
