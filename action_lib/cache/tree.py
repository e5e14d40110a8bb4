"""A commit's tree as the keys see it: every file and submodule with its git object id. Pure.

Built from one ``git ls-tree -r -t`` of a commit (:mod:`action_lib.cache.gitread`), so it works
in a shallow, sparse, blobless or treeless clone: no file content is read. A checkout's
uncommitted changes can be laid over it (``overlay``), so that a key describes what is built.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType

GITLINK = "160000"  # the mode of a submodule's entry
TREE = "040000"


def parent(path: str) -> str:
    """The folder holding ``path`` (``""`` at the root)."""
    return path.rpartition("/")[0]


def ancestors(path: str) -> list[str]:
    """The folders holding ``path``, innermost first, the root (``""``) last."""
    out: list[str] = []
    while path:
        path = parent(path)
        out.append(path)
    return out


@dataclass(frozen=True)
class Entry:
    """A file (mode 100644, 100755, 120000) or a submodule (mode 160000) of the tree."""

    mode: str
    oid: str

    @property
    def is_submodule(self) -> bool:
        """True for a gitlink (a submodule's commit)."""
        return self.mode == GITLINK


@dataclass(frozen=True, eq=False)
class SourceTree:
    """The files and submodules of a commit, and the tree ids of its folders.

    ``trees`` may miss a folder (a synthetic tree, or one changed by an overlay): its digest
    is then computed from the entries below it.
    """

    commit: str
    files: Mapping[str, Entry]
    trees: Mapping[str, str] = field(default_factory=dict)
    dirty: tuple[str, ...] = ()  # paths taken from the checkout, not from the commit

    def __post_init__(self) -> None:
        object.__setattr__(self, "files", MappingProxyType(dict(self.files)))
        object.__setattr__(self, "trees", MappingProxyType(dict(self.trees)))

    @cached_property
    def folders(self) -> frozenset[str]:
        """Every folder of the tree: those git listed, and those holding a file."""
        out = set(self.trees)
        for path in self.files:
            out.update(ancestors(path))
        return frozenset(out)

    def is_folder(self, path: str) -> bool:
        """True when ``path`` is a folder of the tree (the root is one)."""
        return path == "" or path in self.folders

    def exists(self, path: str) -> bool:
        """True when ``path`` is a file, submodule or folder of the tree."""
        return path in self.files or self.is_folder(path)

    def overlay(self, changed: Mapping[str, Entry | None]) -> SourceTree:
        """This tree with ``changed`` paths replaced (None: deleted). Folders holding a
        changed path lose their tree id."""
        if not changed:
            return self
        files = dict(self.files)
        stale: set[str] = set()
        for path, entry in changed.items():
            if entry is None:
                files.pop(path, None)
            else:
                files[path] = entry
            stale.update(ancestors(path))
        trees = {k: v for k, v in self.trees.items() if k not in stale}
        dirty = tuple(sorted(set(self.dirty) | set(changed)))
        return SourceTree(self.commit, files, trees, dirty)


def parse_ls_tree(output: str) -> tuple[dict[str, Entry], dict[str, str]]:
    """Files and folder tree ids from ``git ls-tree -r -t -z --full-tree`` output."""
    files: dict[str, Entry] = {}
    trees: dict[str, str] = {}
    for record in output.split("\0"):
        if not record:
            continue
        meta, _, path = record.partition("\t")
        mode, kind, oid = meta.split()
        if kind == "tree":
            trees[path] = oid
        else:
            files[path] = Entry(mode, oid)
    return files, trees


def digest_entries(entries: Iterable[tuple[str, Entry]]) -> str:
    """sha256 over ``mode oid path`` lines, sorted by path: a folder's content without git."""
    sha = hashlib.sha256()
    for path, entry in sorted(entries):
        sha.update(f"{entry.mode} {entry.oid} {path}\n".encode())
    return sha.hexdigest()
