"""Parse a ``.gitmodules`` file (git-config syntax) into submodule records. Pure."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from action_lib.errors import Finding, FindingsError
from action_lib.inputs.paths import relative_path_problems
from action_lib.inputs.untrusted import UNSAFE_CHARS

_SECTION = re.compile(r'^\[\s*submodule\s+"((?:[^"\\]|\\.)*)"\s*\]\s*(?:[#;].*)?$')
_OTHER_SECTION = re.compile(r"^\[[^\]]*\]\s*(?:[#;].*)?$")
_KEY = re.compile(r"^([A-Za-z][A-Za-z0-9-]*)\s*(?:=\s*(.*?))?\s*$")
_UNSAFE = re.compile(f"[{UNSAFE_CHARS}]")


def _unsafe(file: str, line: int, name: str, path: str, url: str) -> list[Finding]:
    """Findings for a name or path that would leave the checkout (or pass for an option), and
    a URL git would read as an option; .gitmodules comes with the change, so it is untrusted."""
    out = [
        Finding(file, line, "unsafe-name", f"submodule name '{name}' {problem}")
        for problem in relative_path_problems(name)
    ]
    out += [
        Finding(file, line, "unsafe-path", f"submodule '{name}' path '{path}' {problem}")
        for problem in relative_path_problems(path)
    ]
    if url.startswith("-") or _UNSAFE.search(url):
        out.append(
            Finding(file, line, "unsafe-url", f"submodule '{name}' url '{url}' is not a URL")
        )
    return out


@dataclass(frozen=True)
class GitSubmodule:
    """One ``[submodule "name"]`` entry: its name, path in the superproject, URL and branch."""

    name: str
    path: str
    url: str = ""
    branch: str = ""
    line: int = 0


def _value(raw: str) -> str:
    """A git-config value: strip a trailing comment outside quotes, then the quotes."""
    out: list[str] = []
    quoted = False
    i = 0
    while i < len(raw):
        c = raw[i]
        if c == "\\" and i + 1 < len(raw):
            out.append({"n": "\n", "t": "\t"}.get(raw[i + 1], raw[i + 1]))
            i += 2
            continue
        if c == '"':
            quoted = not quoted
        elif c in "#;" and not quoted:
            break
        else:
            out.append(c)
        i += 1
    return "".join(out).strip()


def parse_gitmodules(text: str, file: str = ".gitmodules") -> tuple[GitSubmodule, ...]:
    """The submodules declared in ``text``, sorted by name.

    Raises FindingsError (located at the line) for a malformed line, an entry without
    ``path``, or a name or path declared twice.
    """
    findings: list[Finding] = []
    entries: dict[str, dict[str, str]] = {}
    lines: dict[str, int] = {}
    current: str | None = None
    for number, raw_line in enumerate(text.splitlines(), start=1):
        line = raw_line.strip()
        if not line or line[0] in "#;":
            continue
        section = _SECTION.match(line)
        if section:
            current = section.group(1).replace('\\"', '"').replace("\\\\", "\\")
            if current in entries:
                findings.append(
                    Finding(file, number, "duplicate", f"submodule '{current}' is declared twice")
                )
            entries.setdefault(current, {})
            lines.setdefault(current, number)
            continue
        if _OTHER_SECTION.match(line):
            current = None
            continue
        key = _KEY.match(line)
        if key is None:
            findings.append(
                Finding(
                    file, number, "syntax", f"cannot parse line: {line}", "expected key = value"
                )
            )
            continue
        if current is not None:
            entries[current][key.group(1).lower()] = _value(key.group(2) or "")
    out: list[GitSubmodule] = []
    paths: dict[str, str] = {}
    for name, body in entries.items():
        path = body.get("path", "").strip().rstrip("/")
        if not path:
            findings.append(
                Finding(file, lines[name], "missing-key", f"submodule '{name}' has no path")
            )
            continue
        if path in paths:
            findings.append(
                Finding(
                    file,
                    lines[name],
                    "duplicate",
                    f"submodules '{paths[path]}' and '{name}' share the path '{path}'",
                )
            )
        paths.setdefault(path, name)
        unsafe = _unsafe(file, lines[name], name, path, body.get("url", ""))
        if unsafe:
            findings += unsafe
            continue
        out.append(
            GitSubmodule(name, path, body.get("url", ""), body.get("branch", ""), lines[name])
        )
    if findings:
        raise FindingsError(findings)
    return tuple(sorted(out, key=lambda s: s.name))


def by_name(submodules: Iterable[GitSubmodule]) -> Mapping[str, GitSubmodule]:
    """Submodule name to record."""
    return {s.name: s for s in submodules}


def by_path(submodules: Iterable[GitSubmodule]) -> Mapping[str, GitSubmodule]:
    """Submodule path (no trailing slash) to record."""
    return {s.path: s for s in submodules}


def render_gitmodules(submodules: Iterable[GitSubmodule]) -> str:
    """A ``.gitmodules`` text declaring ``submodules`` (sorted by name)."""
    parts: list[str] = []
    for sub in sorted(submodules, key=lambda s: s.name):
        parts.append(f'[submodule "{sub.name}"]\n\tpath = {sub.path}\n\turl = {sub.url}\n')
        if sub.branch:
            parts.append(f"\tbranch = {sub.branch}\n")
    return "".join(parts)
