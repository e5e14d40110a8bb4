"""Why a key differs from a record's: the named inputs that changed, in words. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from action_lib.cache.keys import INBOUND, UPSTREAM
from action_lib.inputs.untrusted import escape

SHORT = 12


@dataclass(frozen=True)
class InputChange:
    """One input whose value differs (``old`` or ``new`` is None when absent)."""

    name: str
    old: str | None
    new: str | None


def diff_inputs(old: Mapping[str, str], new: Mapping[str, str]) -> list[InputChange]:
    """The inputs that differ between ``old`` and ``new``: upstream keys last, else sorted."""
    names = sorted(set(old) | set(new), key=lambda n: (n.startswith(UPSTREAM), n))
    return [InputChange(n, old.get(n), new.get(n)) for n in names if old.get(n) != new.get(n)]


def _short(value: str | None) -> str:
    if value is None:
        return "(absent)"
    head, sep, rest = value.partition("+")
    if len(head) >= 40 and all(c in "0123456789abcdef" for c in head):
        return head[:SHORT] + (sep + rest[:SHORT] if sep else "")
    return repr(value) if value != value.strip() or not value else value


def describe(change: InputChange, kinds: Mapping[str, str] | None = None) -> str:
    """One line: ``submodule rocm-libraries 1a2b3c -> 4d5e6f``, ``cmake/: tree 9f01 -> 7e22``,
    ``inbound blas_lib_gfx94X-dcgpu.tar.zst: digest ... -> ...``. Input names are paths and
    values of the checkout (a pull request's): escaped, so no line can start a workflow command."""
    return escape(_describe(change, kinds))


def _describe(change: InputChange, kinds: Mapping[str, str] | None) -> str:
    old, new = _short(change.old), _short(change.new)
    kind, _, what = change.name.partition(":")
    how = (kinds or {}).get(change.name, "")
    if change.old is None:
        return f"{change.name}: new input ({new})"
    if change.new is None:
        return f"{change.name}: no longer an input (was {old})"
    if kind in ("submodule", "external"):
        return f"{kind} {what} {old} -> {new}"
    if kind in ("input", "source", "unclaimed"):
        label = {"tree": "tree", "blob": "blob", "commit": "commit"}.get(how, "content")
        note = " (a path no [inputs] entry or source set claims)" if kind == "unclaimed" else ""
        return f"{what}: {label} {old} -> {new}{note}"
    if change.name.startswith(INBOUND):
        return f"inbound {what}: digest {old} -> {new}"
    if change.name.startswith(UPSTREAM):
        return f"upstream {what}: key {old} -> {new}"
    if kind == "env":
        return f"environment {what}: {old} -> {new}"
    if kind == "toolchain":
        return f"toolchain {what}: {old} -> {new}"
    if change.name == "topology":
        return f"topology: the stage's part of BUILD_TOPOLOGY.toml changed ({old} -> {new})"
    return f"{change.name}: {old} -> {new}"


def explain_lines(
    old: Mapping[str, str],
    new: Mapping[str, str],
    kinds: Mapping[str, str] | None = None,
    limit: int = 0,
) -> list[str]:
    """``describe`` for every differing input (the first ``limit`` ones, and how many more)."""
    changes = diff_inputs(old, new)
    shown: Sequence[InputChange] = changes[:limit] if limit else changes
    lines = [describe(c, kinds) for c in shown]
    if limit and len(changes) > limit:
        lines.append(f"and {len(changes) - limit} more")
    return lines
