"""Read a commit's tree for the keys from git objects: no checkout of the sources needed.

One ``git ls-tree -r -t`` lists every file, submodule (gitlink) and folder with its object id.
It works in a shallow, sparse, blobless or treeless clone (a treeless clone fetches the trees
once, without blobs). A checkout's uncommitted changes are laid over the commit's tree, so a
key describes what the job builds (a replay of a working copy, ``cache key`` at a terminal).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path

from action_lib.cache.tree import GITLINK, Entry, SourceTree, parse_ls_tree
from action_lib.errors import InputError, OperationError
from action_lib.sources.checkout import read_gitmodules
from action_lib.sources.git import GitRunner
from action_lib.sources.gitmodules import GitSubmodule


def _blob_of_link(target: str) -> str:
    data = target.encode()
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def _has_index(runner: GitRunner, repo: Path) -> bool:
    """False in a clone made with --no-checkout (nothing checked out: no overlay)."""
    out = runner.output(["rev-parse", "--git-path", "index"], cwd=repo, what=str(repo)).strip()
    path = Path(out) if Path(out).is_absolute() else repo / out
    return path.is_file()


def worktree_changes(
    runner: GitRunner, repo: Path, committed: Mapping[str, Entry] | None = None
) -> dict[str, Entry | None]:
    """The checkout's files that differ from HEAD (None: deleted), as tree entries. On
    Windows (no executable bit to read) a file ``committed`` already holds keeps its mode."""
    out = runner.output(
        ["status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames"],
        cwd=repo,
        what=str(repo),
    )
    changed: dict[str, Entry | None] = {}
    regular: list[str] = []
    for record in out.split("\0"):
        if len(record) < 4:
            continue
        path = record[3:]
        full = repo / path
        if full.is_symlink():
            changed[path] = Entry("120000", _blob_of_link(str(full.readlink())))
        elif full.is_dir():
            if (full / ".git").exists():  # a submodule checked out at another commit
                head = runner.output(["rev-parse", "HEAD"], cwd=full, what=path).strip()
                changed[path] = Entry(GITLINK, head)
        elif full.is_file():
            regular.append(path)
        else:
            changed[path] = None
    if regular:
        hashed = runner.run(
            ["hash-object", "--stdin-paths"],
            cwd=repo,
            what=str(repo),
            input_text="".join(p + "\n" for p in regular),
        ).stdout
        for path, oid in zip(regular, hashed.split(), strict=True):
            before = (committed or {}).get(path)
            if os.name == "nt" and before is not None and before.mode in ("100644", "100755"):
                mode = before.mode
            else:
                mode = "100755" if os.access(repo / path, os.X_OK) else "100644"
            changed[path] = Entry(mode, oid)
    return changed


def read_tree(
    repo: Path, rev: str = "HEAD", *, worktree: bool = True, runner: GitRunner | None = None
) -> SourceTree:
    """The tree of ``rev`` in ``repo``; with ``worktree`` (and ``rev`` HEAD), the checkout's
    uncommitted changes laid over it. InputError when ``repo`` is not a git repository or
    ``rev`` names no commit."""
    runner = runner or GitRunner(retries=2, timeout=600.0)
    if not (repo / ".git").exists() and not (repo / "HEAD").is_file():
        raise InputError(f"{repo}: not a git repository (keys are read from git objects)")
    try:
        commit = runner.output(
            ["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], cwd=repo, what=str(repo)
        ).strip()
        listing = runner.output(
            ["ls-tree", "-r", "-t", "-z", "--full-tree", commit], cwd=repo, what=str(repo)
        )
    except OperationError as exc:
        raise InputError(f"{repo}: cannot read the tree of {rev}: {exc}") from None
    files, trees = parse_ls_tree(listing)
    tree = SourceTree(commit, files, trees)
    if worktree and rev == "HEAD" and _has_index(runner, repo):
        tree = tree.overlay(worktree_changes(runner, repo, files))
    return tree


def read_submodules(
    repo: Path, rev: str = "HEAD", *, runner: GitRunner | None = None
) -> tuple[GitSubmodule, ...]:
    """The superproject's ``.gitmodules`` (the checkout's file for HEAD, else ``rev``'s)."""
    runner = runner or GitRunner(retries=2, timeout=600.0)
    return read_gitmodules(runner, repo, None if rev == "HEAD" else rev)
