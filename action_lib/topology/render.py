"""Rendering graphs as text, DOT and Mermaid. Pure string building."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def _quoted(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(title: str, edges: Mapping[str, Sequence[str]]) -> str:
    """A DOT digraph; an edge ``a -> b`` reads "a needs b"."""
    lines = [f"digraph {_quoted(title)} {{", "  rankdir=LR;"]
    for node in sorted(edges):
        lines.append(f"  {_quoted(node)};")
    for node in sorted(edges):
        for dep in sorted(edges[node]):
            lines.append(f"  {_quoted(node)} -> {_quoted(dep)};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _mermaid_id(name: str) -> str:
    return "n_" + "".join(c if c.isalnum() else "_" for c in name)


def to_mermaid(edges: Mapping[str, Sequence[str]]) -> str:
    """A Mermaid flowchart; an arrow ``a --> b`` reads "a needs b"."""
    lines = ["flowchart LR"]
    for node in sorted(edges):
        lines.append(f'  {_mermaid_id(node)}["{node}"]')
    for node in sorted(edges):
        for dep in sorted(edges[node]):
            lines.append(f"  {_mermaid_id(node)} --> {_mermaid_id(dep)}")
    return "\n".join(lines) + "\n"


def to_text(edges: Mapping[str, Sequence[str]]) -> str:
    """One line per node: ``node: dep, dep``."""
    return "".join(f"{node}: {', '.join(sorted(edges[node])) or '-'}\n" for node in sorted(edges))
