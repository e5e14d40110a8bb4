"""TheRock's artifact descriptor TOML: which files of a stage directory go into which component.

::

    [components.<lib|run|dbg|dev|doc|test>."<stage dir relative to the build dir>"]
    include = [...]          # patterns (str or list); with default_patterns, added to the defaults
    exclude = [...]
    force_include = [...]    # wins over exclude
    default_patterns = true  # add the component's default patterns
    optional = true          # or a platform name / list: a missing directory is not an error
    [components.<comp>]
    extends = ["lib"]        # claim order (default: the chain lib, run, dbg, dev, doc, test)
    [options]
    unmatched_include = [...]  # which unclaimed files are errors (default: all)
    unmatched_exclude = [...]  # unclaimed files that are allowed

Parsing is pure: every problem is a located :class:`Finding`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import Any

from action_lib.artifacts.names import COMPONENTS
from action_lib.errors import Finding, FindingsError, InputError
from action_lib.inputs.paths import relative_path_problems
from action_lib.inputs.suggest import suggest
from action_lib.inputs.toml import TomlReader

# TheRock's component defaults (build_tools/_therock_utils/artifact_builder.py).
DEFAULT_INCLUDES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "lib": ("**/*.dll", "**/*.dylib", "**/*.dylib.*", "**/*.so", "**/*.so.*"),
        "run": (),
        "dbg": (".build-id/**/*.debug", "**/*.pdb"),
        "dev": (
            "**/*.a",
            "**/*.lib",
            "**/cmake/**",
            "**/include/**",
            "**/share/modulefiles/**",
            "**/pkgconfig/**",
        ),
        "doc": ("**/share/doc/**",),
        "test": (),
    }
)
DEFAULT_EXCLUDES: Mapping[str, tuple[str, ...]] = MappingProxyType({"run": ("**/*.pdb",)})
DEFAULT_EXTENDS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {c: (COMPONENTS[i - 1],) if i else () for i, c in enumerate(COMPONENTS)}
)
BASEDIR_KEYS = ("default_patterns", "exclude", "force_include", "include", "optional")
OPTION_KEYS = ("unmatched_exclude", "unmatched_include")


def glob_regex(glob: str) -> re.Pattern[str]:
    """TheRock's recursive glob: ``**/`` any leading dirs, ``/**`` anything below, ``*`` and
    ``?`` within one path segment."""
    pattern = f"^{re.escape(glob)}$"
    pattern = pattern.replace("/\\*\\*/", "/(.*/)?")
    pattern = pattern.replace("^\\*\\*/", "^(.*/)?")
    pattern = pattern.replace("/\\*\\*$", "(/.*)?$")
    pattern = pattern.replace("\\*", "[^/]*")
    pattern = pattern.replace("\\?", "[^/]*")
    return re.compile(pattern)


@dataclass(frozen=True)
class Predicate:
    """include / exclude / force_include, as TheRock evaluates them."""

    includes: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()
    force_includes: tuple[str, ...] = ()

    @cached_property
    def _compiled(self) -> tuple[list[re.Pattern[str]], ...]:
        return tuple(
            [glob_regex(p) for p in patterns]
            for patterns in (self.includes, self.excludes, self.force_includes)
        )

    def matches(self, relpath: str) -> bool:
        """True when ``relpath`` (relative to its stage dir, ``/``-separated) is selected."""
        includes, excludes, forced = self._compiled
        if any(p.match(relpath) for p in forced):
            return True
        if includes and not any(p.match(relpath) for p in includes):
            return False
        return not any(p.match(relpath) for p in excludes)


@dataclass(frozen=True)
class Basedir:
    """One stage directory of one component, with its predicate."""

    path: str
    predicate: Predicate
    optional: bool = False
    line: int = 0
    declared: bool = True


@dataclass(frozen=True)
class Component:
    """One component (lib, run, dbg, dev, doc, test) and its stage directories."""

    name: str
    extends: tuple[str, ...]
    basedirs: tuple[Basedir, ...] = ()
    declared: bool = False
    line: int = 0


@dataclass(frozen=True)
class Descriptor:
    """A parsed descriptor; ``components`` holds all six, in claim order."""

    path: str
    artifact: str
    components: Mapping[str, Component]
    unmatched: Predicate = field(default_factory=Predicate)
    options_line: int = 0

    @property
    def basedirs(self) -> tuple[str, ...]:
        """Every stage directory any component names, first-declared first."""
        seen: dict[str, None] = {}
        for component in self.components.values():
            for basedir in component.basedirs:
                seen.setdefault(basedir.path, None)
        return tuple(seen)


def _strings(value: object) -> list[str] | None:
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    return None


def _optional(value: object, system: str) -> bool | None:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    names = _strings(value)
    if names is None:
        return None
    return any(n.lower() == system.lower() for n in names)


def _bad_relpath(path: str) -> bool:
    posix = PurePosixPath(path.replace("\\", "/"))
    return not path or posix.is_absolute() or ":" in path or ".." in posix.parts


# Problems of a stage dir or pattern the first check words itself.
_WORDED = ("is empty", "is absolute", "names a Windows drive", "leaves its root ('..')")


class _Parser(TomlReader):
    def __init__(self, path: str, text: str, artifact: str, system: str) -> None:
        super().__init__(text, path)
        self.artifact = artifact
        self.system = system

    def keys(self, table: Mapping[str, Any], allowed: Sequence[str], *where: str) -> None:
        self.unknown_keys(table, allowed, *where, code="descriptor-key", listing="allowed")

    def patterns(self, body: Mapping[str, Any], key: str, *where: str) -> list[str]:
        values = _strings(body.get(key, []))
        if values is None:
            self.add(
                "descriptor-type", f"'{key}' must be a string or a list of strings", *where, key
            )
            return []
        for pattern in values:
            problems = relative_path_problems(pattern, glob=True)
            if any(p in _WORDED for p in problems):
                self.add(
                    "descriptor-pattern",
                    f"pattern '{pattern}' must be relative to the stage dir, without '..'",
                    *where,
                    key,
                )
            for problem in problems:
                if problem not in _WORDED:
                    self.add("descriptor-pattern", f"pattern '{pattern}' {problem}", *where, key)
        return values

    def basedir(self, comp: str, path: str, body: Mapping[str, Any]) -> Basedir:
        where = ("components", comp, path)
        self.keys(body, BASEDIR_KEYS, *where)
        if _bad_relpath(path):
            self.add(
                "descriptor-path",
                f"stage dir '{path}' must be relative to the build dir, without '..'",
                *where,
            )
        for problem in relative_path_problems(path):
            if problem not in _WORDED:
                self.add("descriptor-path", f"stage dir '{path}' {problem}", *where)
        use_defaults = body.get("default_patterns", True)
        if not isinstance(use_defaults, bool):
            self.add(
                "descriptor-type",
                "'default_patterns' must be true or false",
                *where,
                "default_patterns",
            )
            use_defaults = True
        optional = _optional(body.get("optional"), self.system)
        if optional is None:
            self.add(
                "descriptor-type",
                "'optional' must be a boolean, a platform name or a list of them",
                *where,
                "optional",
            )
        includes = self.patterns(body, "include", *where)
        excludes = self.patterns(body, "exclude", *where)
        forced = self.patterns(body, "force_include", *where)
        if use_defaults:
            includes += DEFAULT_INCLUDES.get(comp, ())
            excludes += DEFAULT_EXCLUDES.get(comp, ())
        forced += [f".kpack/{self.artifact}_{comp}.kpm", f".kpack/{self.artifact}_{comp}_*.kpack"]
        predicate = Predicate(tuple(includes), tuple(excludes), tuple(forced))
        return Basedir(path, predicate, bool(optional), self.lines.line(*where))

    def component(self, name: str, body: Mapping[str, Any]) -> Component:
        basedirs = [
            self.basedir(name, key, value) for key, value in body.items() if isinstance(value, dict)
        ]
        fields = {k: v for k, v in body.items() if not isinstance(v, dict)}
        self.keys(fields, ("extends",), "components", name)
        extends = _strings(fields.get("extends", list(DEFAULT_EXTENDS[name])))
        if extends is None:
            self.add(
                "descriptor-type",
                "'extends' must be a string or a list of strings",
                "components",
                name,
                "extends",
            )
            extends = list(DEFAULT_EXTENDS[name])
        for parent in extends:
            if parent not in COMPONENTS:
                self.add(
                    "descriptor-extends",
                    f"component '{name}' extends unknown component '{parent}'",
                    "components",
                    name,
                    "extends",
                    hint=suggest(parent, COMPONENTS),
                )
        extends = [p for p in extends if p in COMPONENTS]
        return Component(
            name, tuple(extends), tuple(basedirs), True, self.lines.line("components", name)
        )

    def order(self, components: Mapping[str, Component]) -> list[str]:
        """Claim order: extends first, ties in TheRock's chain order; cycles are findings."""
        done: list[str] = []
        pending = list(COMPONENTS)
        while pending:
            ready = [c for c in pending if all(p in done for p in components[c].extends)]
            if not ready:
                cycle = ", ".join(f"{c} -> {'|'.join(components[c].extends)}" for c in pending)
                self.add(
                    "descriptor-extends",
                    f"circular extends: {cycle}",
                    "components",
                    pending[0],
                    "extends",
                )
                return done + pending
            done.append(ready[0])
            pending.remove(ready[0])
        return done


def parse_descriptor(
    text: str, path: str, artifact: str, system: str = ""
) -> tuple[Descriptor, list[Finding]]:
    """Parse descriptor ``text`` for artifact ``artifact`` on ``system`` (``platform.system()``).

    Returns the descriptor and every finding (empty when valid).
    """
    parser = _Parser(path, text, artifact, system)
    if parser.malformed:
        return Descriptor(path, artifact, MappingProxyType({})), parser.findings
    data = parser.data
    parser.keys(data, ("components", "options"))
    raw_components = data.get("components", {})
    if not isinstance(raw_components, dict):
        parser.add("descriptor-type", "'components' must be a table", "components")
        raw_components = {}
    components: dict[str, Component] = {}
    for name, body in raw_components.items():
        if name not in COMPONENTS:
            parser.unknown(
                "descriptor-component",
                "component",
                name,
                COMPONENTS,
                "components",
                name,
                listing="components",
            )
        elif not isinstance(body, dict):
            parser.add(
                "descriptor-type", f"'components.{name}' must be a table", "components", name
            )
        else:
            components[name] = parser.component(name, body)
    for name in COMPONENTS:
        components.setdefault(name, Component(name, DEFAULT_EXTENDS[name]))
    # TheRock: 'dbg' scans every stage dir any component names, so debug files are never lost.
    dbg = components["dbg"]
    have = {b.path for b in dbg.basedirs}
    extra: dict[str, Basedir] = {}
    for component in components.values():
        for b in component.basedirs:
            if b.path not in have:
                prior = extra.get(b.path)
                optional = b.optional if prior is None else prior.optional or b.optional
                predicate = Predicate(
                    DEFAULT_INCLUDES["dbg"],
                    (),
                    (f".kpack/{artifact}_dbg.kpm", f".kpack/{artifact}_dbg_*.kpack"),
                )
                extra[b.path] = Basedir(b.path, predicate, optional, b.line, declared=False)
    components["dbg"] = Component(
        "dbg",
        dbg.extends,
        dbg.basedirs + tuple(extra[k] for k in sorted(extra)),
        dbg.declared,
        dbg.line,
    )
    options = data.get("options", {})
    unmatched = Predicate()
    if not isinstance(options, dict):
        parser.add("descriptor-type", "'options' must be a table", "options")
    else:
        parser.keys(options, OPTION_KEYS, "options")
        unmatched = Predicate(
            tuple(parser.patterns(options, "unmatched_include", "options")),
            tuple(parser.patterns(options, "unmatched_exclude", "options")),
        )
    order = parser.order(components)
    ordered = MappingProxyType({name: components[name] for name in order})
    descriptor = Descriptor(path, artifact, ordered, unmatched, parser.lines.line("options"))
    return descriptor, parser.findings


def load_descriptor(path: Path, artifact: str, system: str = "") -> Descriptor:
    """Read and parse a descriptor file; raises FindingsError (or InputError when unreadable)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(
            f"cannot read descriptor {path}: {getattr(exc, 'strerror', None) or exc}"
        ) from None
    descriptor, findings = parse_descriptor(text, str(path), artifact, system)
    if findings:
        raise FindingsError(findings)
    return descriptor
