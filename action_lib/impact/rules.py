"""The explicit rules of impact: paths that affect every stage, paths that affect none,
and folders mapped to artifact groups. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase
from types import MappingProxyType
from typing import Any

from action_lib.inputs.suggest import suggest
from action_lib.inputs.toml import TomlReader
from action_lib.sources.layout import is_under, norm_path
from action_lib.topology.model import Topology

DEFAULT_AFFECTS_ALL = (
    "BUILD_TOPOLOGY.toml",
    ".gitmodules",
    "CMakeLists.txt",
    "pyproject.toml",
    "cmake/",
    "action_lib/",
    "actions/",
    ".github/",
)
DEFAULT_AFFECTS_NONE = ("docs/", "*.md", "LICENSE", ".gitignore")
RULE_KEYS = ("affects_all", "affects_none", "folders")


def _glob(pattern: str) -> bool:
    return any(c in pattern for c in "*?[")


def matches(pattern: str, path: str) -> bool:
    """Does ``path`` meet ``pattern``?

    ``dir/`` matches everything under ``dir`` (``build_tools/*/tests/`` everything under a
    folder the glob matches); a glob without ``/`` (``*.md``) matches the file name anywhere;
    a glob with ``/`` matches the whole path (``*`` crosses ``/``); anything else is exact.
    """
    if pattern.endswith("/"):
        folder = norm_path(pattern)
        if not _glob(folder):
            return is_under(path, folder)
        parts = path.split("/")
        return any(fnmatchcase("/".join(parts[:i]), folder) for i in range(1, len(parts) + 1))
    if _glob(pattern):
        if "/" in pattern:
            return fnmatchcase(path, pattern)
        return fnmatchcase(path.rpartition("/")[2], pattern)
    return path == norm_path(pattern)


def specificity(pattern: str) -> int:
    """How specific a pattern is: its characters other than wildcards."""
    return sum(1 for c in pattern if c not in "*?[]")


def first_match(patterns: Sequence[str], path: str) -> str | None:
    """The most specific of ``patterns`` that ``path`` meets (the first on a tie), or None."""
    best: str | None = None
    for pattern in patterns:
        if matches(pattern, path) and (best is None or specificity(pattern) > specificity(best)):
            best = pattern
    return best


@dataclass(frozen=True)
class ImpactRules:
    """Explicit rules first (the most specific affects-all or affects-none pattern wins, and
    affects-all on a tie), then the paths of source sets, then mapped folders."""

    affects_all: tuple[str, ...] = DEFAULT_AFFECTS_ALL
    affects_none: tuple[str, ...] = DEFAULT_AFFECTS_NONE
    folders: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # folder -> groups

    def __post_init__(self) -> None:
        object.__setattr__(self, "folders", MappingProxyType(dict(self.folders)))

    def extended(
        self,
        affects_all: Sequence[str] = (),
        affects_none: Sequence[str] = (),
        folders: Mapping[str, Sequence[str]] | None = None,
    ) -> ImpactRules:
        """These rules plus more patterns and folders (a folder given twice joins its groups)."""
        merged = {k: set(v) for k, v in self.folders.items()}
        for folder, groups in (folders or {}).items():
            merged.setdefault(norm_path(folder), set()).update(groups)
        return replace(
            self,
            affects_all=self.affects_all
            + tuple(p for p in affects_all if p not in self.affects_all),
            affects_none=self.affects_none
            + tuple(p for p in affects_none if p not in self.affects_none),
            folders={k: tuple(sorted(v)) for k, v in sorted(merged.items())},
        )

    def folder_of(self, path: str) -> str | None:
        """The deepest mapped folder holding ``path`` (the root never maps), or None."""
        best: str | None = None
        for folder in self.folders:
            if folder and is_under(path, folder) and (best is None or len(folder) > len(best)):
                best = folder
        return best

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (stable keys)."""
        return {
            "affects_all": list(self.affects_all),
            "affects_none": list(self.affects_none),
            "folders": {k: list(v) for k, v in sorted(self.folders.items())},
        }


def parse_rules(text: str, file: str, topology: Topology) -> ImpactRules:
    """Rules from a TOML file with an ``[impact]`` table.

    ``affects_all`` / ``affects_none`` (lists of patterns) replace the defaults;
    ``[impact.folders]`` maps a folder to the artifact groups its changes affect.
    Raises FindingsError for a syntax error, an unknown key or an unknown group.
    """
    reader = TomlReader(text, file)
    reader.raise_findings()  # a syntax error: nothing else to check
    raw = reader.data.get("impact")
    if raw is None:
        reader.add("missing-key", "no [impact] table")  # about the whole file: no line
    body = reader.table(raw, "impact") if raw is not None else {}
    for key in sorted(body):
        if key not in RULE_KEYS:
            reader.unknown(
                "unknown-key",
                "key",
                key,
                RULE_KEYS,
                "impact",
                key,
                within="in [impact]",
                listing="known keys",
            )
    lists: dict[str, tuple[str, ...]] = {}
    for key in ("affects_all", "affects_none"):
        value = body.get(key)
        if value is None:
            continue
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            reader.add("type", f"'{key}' must be a list of strings", "impact", key)
            continue
        lists[key] = tuple(value)
    folders: dict[str, tuple[str, ...]] = {}
    raw_folders = body.get("folders", {})
    if not isinstance(raw_folders, dict):
        reader.add("type", "[impact.folders] must be a table", "impact", "folders")
        raw_folders = {}
    for folder, groups in raw_folders.items():
        where = ("impact", "folders", folder)
        if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
            reader.add("type", f"folder '{folder}' must map to a list of group names", *where)
            continue
        for group in groups:
            if group not in topology.artifact_groups:
                reader.add(
                    "unknown-ref",
                    f"folder '{folder}' maps to unknown artifact group '{group}'",
                    *where,
                    hint=suggest(group, topology.artifact_groups),
                )
        folders[norm_path(folder)] = tuple(sorted(set(groups)))
    reader.raise_findings()
    return ImpactRules(
        affects_all=lists.get("affects_all", DEFAULT_AFFECTS_ALL),
        affects_none=lists.get("affects_none", DEFAULT_AFFECTS_NONE),
        folders=folders,
    )
