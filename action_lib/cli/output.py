"""Printing helpers shared by the commands: aligned tables and stable JSON."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO


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
    """Print JSON with sorted keys and a trailing newline (stable for scripts)."""
    stream = out or sys.stdout
    stream.write(json.dumps(data, indent=2, sort_keys=True) + "\n")
