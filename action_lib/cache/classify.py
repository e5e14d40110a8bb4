"""Which key input holds each path of a tree. Pure.

Every path meets the rule impact would give it (:mod:`action_lib.impact.analyze`), in the same
order, so that one ``[inputs]`` declaration drives both:

1. the most specific of the ``every-stage`` and ``no-stage`` paths or patterns it meets
   (every-stage on a tie): in every key, or in none;
2. the deepest path a source set owns (a submodule, a path prefix, an external source): in the
   keys of the stages that use the source set;
3. the deepest path a stage declares (``[inputs.stages.S] paths``): in those stages' keys;
4. otherwise the path is *unclaimed*: in every key (impact's fallback), grouped by the
   outermost folder that holds nothing claimed, so an explain names the folder to declare.

The topology file and ``.gitmodules`` enter keys through the model (each stage's own part,
the submodules' paths), not as blobs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase

from action_lib.cache.inputs_config import InputsConfig, is_pattern
from action_lib.cache.tree import Entry, SourceTree, ancestors, digest_entries
from action_lib.impact.rules import specificity
from action_lib.sources.gitmodules import GitSubmodule
from action_lib.sources.layout import Owned, norm_path, owned_paths
from action_lib.topology import queries
from action_lib.topology.model import Topology

EVERY_STAGE = "every-stage"
STAGE_INPUT = "stage-input"
SUBMODULE = "submodule"
SOURCE = "source"
EXTERNAL = "external"
UNCLAIMED = "unclaimed"


class PatternSet:
    """Impact's patterns (:func:`action_lib.impact.rules.first_match`), indexed: plain paths
    and folders by lookup, globs one by one."""

    def __init__(self, patterns: Sequence[str]) -> None:
        self.patterns = tuple(patterns)
        self.exact: dict[str, int] = {}
        self.folders: dict[str, int] = {}
        self.globs: list[int] = []
        for i, pattern in enumerate(self.patterns):
            if is_pattern(pattern):
                self.globs.append(i)
            elif pattern.endswith("/"):
                self.folders.setdefault(norm_path(pattern), i)
            else:
                self.exact.setdefault(norm_path(pattern), i)

    def _glob(self, pattern: str, path: str) -> bool:
        if pattern.endswith("/"):
            folder = norm_path(pattern)
            parts = path.split("/")
            return any(fnmatchcase("/".join(parts[:i]), folder) for i in range(1, len(parts) + 1))
        if "/" in pattern:
            return fnmatchcase(path, pattern)
        return fnmatchcase(path.rpartition("/")[2], pattern)

    def best(self, path: str, folders: Sequence[str]) -> str | None:
        """The most specific pattern ``path`` meets (the first on a tie), or None.

        ``folders`` are the path's ancestors (innermost first)."""
        found: list[int] = []
        if path in self.exact:
            found.append(self.exact[path])
        for folder in (path, *folders):
            if folder in self.folders:
                found.append(self.folders[folder])
        found.extend(i for i in self.globs if self._glob(self.patterns[i], path))
        if not found:
            return None
        best = min(found, key=lambda i: (-specificity(self.patterns[i]), i))
        return self.patterns[best]


@dataclass(frozen=True)
class Region:
    """The key input a path belongs to: its name, kind, root path and stages (None: all)."""

    name: str
    kind: str
    root: str
    stages: tuple[str, ...] | None = None


def input_name(kind: str, path: str, folder: bool) -> str:
    """``input:cmake/``, ``source:src/tools/``, ``unclaimed:.ci/``: a path input's name."""
    prefix = "input" if kind in (EVERY_STAGE, STAGE_INPUT) else kind
    return f"{prefix}:{path}{'/' if folder and path else ''}"


class Classifier:
    """Classifies the paths of one tree for one platform; built once, used for every path."""

    def __init__(
        self,
        topology: Topology,
        inputs: InputsConfig,
        submodules: Sequence[GitSubmodule],
        tree: SourceTree,
        *,
        platform: str | None = None,
        model_files: Sequence[str] = (),
    ) -> None:
        self.tree = tree
        self.every = PatternSet(inputs.every_stage)
        self.none = PatternSet(inputs.no_stage)
        self.model = {norm_path(p) for p in model_files}
        self.owned: dict[str, Owned] = {}
        for entry in owned_paths(topology, submodules):
            self.owned.setdefault(entry.path, entry)
        users = queries.source_set_to_stages(topology, platform)
        self.users: Mapping[str, tuple[str, ...]] = users
        self.declared = inputs.stage_paths()

    def classify(self, path: str) -> Region | None:
        """The region of ``path``; None when no key holds it (a no-stage path, a model file).

        An unclaimed path's region is named later, by :func:`regions`."""
        if path in self.model:
            return None
        folders = ancestors(path)
        every = self.every.best(path, folders)
        none = self.none.best(path, folders)
        if every is not None and (none is None or specificity(every) >= specificity(none)):
            root = norm_path(every)
            return Region(
                input_name(EVERY_STAGE, root, self.tree.is_folder(root)), EVERY_STAGE, root
            )
        if none is not None:
            return None
        for folder in (path, *folders):
            owner = self.owned.get(folder)
            if owner is not None:
                stages = self.users.get(owner.source_set, ())
                if owner.kind == "submodule":
                    return Region(f"{SUBMODULE}:{owner.name}", SUBMODULE, owner.path, stages)
                if owner.kind == "external":
                    return Region(f"{EXTERNAL}:{owner.name}", EXTERNAL, owner.path, stages)
                name = input_name(SOURCE, owner.path, self.tree.is_folder(owner.path))
                return Region(name, SOURCE, owner.path, stages)
        for folder in (path, *folders):
            declared = self.declared.get(folder)
            if declared is not None and folder:
                name = input_name(STAGE_INPUT, folder, self.tree.is_folder(folder))
                return Region(name, STAGE_INPUT, folder, declared)
        return Region("", UNCLAIMED, path)


@dataclass(frozen=True)
class RegionDigest:
    """One path input of the keys: its region, digest and how the digest was made."""

    region: Region
    digest: str
    how: str  # "tree", "blob", "commit" (a submodule), "sha256" (computed), "absent"
    files: int


def _unclaimed_root(path: str, claimed: set[str]) -> str:
    """The outermost folder holding ``path`` that holds nothing claimed, else ``path``."""
    for folder in reversed(ancestors(path)[:-1]):  # outermost first, the root left out
        if folder not in claimed:
            return folder
    return path


def regions(tree: SourceTree, classifier: Classifier) -> dict[str, RegionDigest]:
    """Every non-empty region of ``tree`` with its digest, by input name.

    A region that is a whole folder of the commit gets the folder's git tree id; one with
    paths carved out (a no-stage file inside, a more specific input) a sha256 of its entries.
    """
    members: dict[str, list[tuple[str, Entry]]] = {}
    found: dict[str, Region] = {}
    unclaimed: list[str] = []
    claimed: set[str] = set()
    label: dict[str, str] = {}  # path -> its region's name ("" = in no key)
    for path, entry in tree.files.items():
        region = classifier.classify(path)
        if region is None:
            label[path] = ""
            continue
        if region.kind == UNCLAIMED:
            unclaimed.append(path)
            continue
        claimed.update(ancestors(path))
        found.setdefault(region.name, region)
        members.setdefault(region.name, []).append((path, entry))
        label[path] = region.name
    for path in unclaimed:
        root = _unclaimed_root(path, claimed)
        name = input_name(UNCLAIMED, root, root != path)
        found.setdefault(name, Region(name, UNCLAIMED, root))
        members.setdefault(name, []).append((path, tree.files[path]))
        label[path] = name
    partial: set[str] = set()  # region roots with a foreign path below
    roots: dict[str, list[str]] = {}
    for name, region in found.items():
        roots.setdefault(region.root, []).append(name)
    for path, name in label.items():
        for folder in ancestors(path):
            for owner in roots.get(folder, ()):
                if owner != name:
                    partial.add(owner)
    out: dict[str, RegionDigest] = {}
    for name, region in sorted(found.items()):
        files = members[name]
        root = region.root
        if len(files) == 1 and files[0][0] == root:
            entry = files[0][1]
            how = "commit" if entry.is_submodule else "blob"
            out[name] = RegionDigest(region, entry.oid, how, 1)
        elif name not in partial and root in tree.trees:
            out[name] = RegionDigest(region, tree.trees[root], "tree", len(files))
        else:
            cut = len(root) + 1 if root else 0
            entries = [(p[cut:], e) for p, e in files]
            out[name] = RegionDigest(region, digest_entries(entries), "sha256", len(files))
    return out
