"""Printing helpers shared by the commands: aligned tables and stable JSON."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from action_lib.edges.outputfiles import stale_diff, write_atomic
from action_lib.errors import EXIT_OK, InputError, StaleError


def table(
    headers: Sequence[str], rows: Sequence[Sequence[object]], out: TextIO | None = None
) -> None:
    """Print an aligned text table for people."""
    stream = out or sys.stdout
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    for n, row in enumerate(cells):
        stream.write(
            "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)).rstrip() + "\n"
        )
        if n == 0:
            stream.write("  ".join("-" * w for w in widths) + "\n")


def emit_json(data: Any, out: TextIO | None = None) -> None:
    """Print JSON with sorted keys and a trailing newline (stable for scripts).

    ``##[`` (a workflow command anywhere in a line) can only be inside a string: it is
    written ``#\\u0023[``, the same string to a JSON reader, nothing to a runner.
    """
    stream = out or sys.stdout
    text = json.dumps(data, indent=2, sort_keys=True)
    stream.write(text.replace("##[", "#\\u0023[") + "\n")


def emit_generated(
    text: str, output: Path | None, *, check: bool, regenerate: str, detail: str = ""
) -> int:
    """Print ``text``, write it atomically to ``output``, or with ``check`` compare it: exit 0
    when current; a unified diff on stdout and StaleError (exit 1) when not."""
    if check:
        if output is None:
            raise InputError("--check needs --output FILE (the file to compare)")
        diff = stale_diff(output, text)
        if diff:
            sys.stdout.write(diff)
            raise StaleError(f"{output.as_posix()} is stale; regenerate it with: {regenerate}")
        sys.stdout.write(f"{output.as_posix()}: up to date\n")
        return EXIT_OK
    if output is None:
        sys.stdout.write(text)
        return EXIT_OK
    state = "written" if write_atomic(output, text) else "unchanged"
    sys.stdout.write(f"{output.as_posix()}: {state}" + (f" ({detail})" if detail else "") + "\n")
    return EXIT_OK
