"""Writing generated files safely, and checking that a committed one is current."""

from __future__ import annotations

import contextlib
import difflib
import os
import tempfile
from pathlib import Path

from action_lib.errors import InputError


def stale_diff(path: Path, expected: str, label: str | None = None) -> str:
    """A unified diff from the file at ``path`` to ``expected``; "" when they are equal.

    A missing file counts as empty.
    """
    try:
        current = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        current = ""
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read: {exc}") from None
    if current == expected:
        return ""
    name = label or path.as_posix()
    return "".join(
        difflib.unified_diff(
            current.splitlines(keepends=True),
            expected.splitlines(keepends=True),
            fromfile=f"{name} (on disk)",
            tofile=f"{name} (generated)",
        )
    )


def write_atomic(path: Path, text: str) -> bool:
    """Write ``text`` (UTF-8, ``\\n`` line ends) through a temporary file and a rename.

    Returns False, without touching the file, when it already holds exactly ``text``.
    An unwritable destination is an InputError; no partial file is ever left behind.
    """
    data = text.encode("utf-8")
    with contextlib.suppress(OSError):
        if path.read_bytes() == data:
            return False
    directory = path.parent
    temp: str | None = None
    try:
        mode = path.stat().st_mode & 0o777 if path.is_file() else 0o644
        directory.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
        Path(temp).chmod(mode)  # mkstemp makes 0600; keep the file readable like any other
        Path(temp).replace(path)
        temp = None
    except OSError as exc:
        raise InputError(f"{path}: cannot write: {exc.strerror or exc}") from None
    finally:
        if temp is not None:
            with contextlib.suppress(OSError):
                Path(temp).unlink()
    return True
