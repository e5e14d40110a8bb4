"""What is wrong with a path-, name- or URL-like value read from outside. Pure.

Each function returns every problem it finds (short phrases such as ``"is absolute"``), so a
caller can turn them into located findings, all in one pass; ``[]`` means the value is fine.
The rules hold on Linux and Windows alike: a topology read on one must be safe on the other.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from action_lib.inputs.untrusted import UNSAFE_CHARS, escape

__all__ = [
    "ORIGIN_SCHEMES",
    "commit_problems",
    "component_problems",
    "label_problems",
    "origin_problems",
    "relative_path_problems",
    "run_folder_problems",
    "url_problems",
]

MAX_PATH = 1024  # characters of a repository-relative path in a topology or descriptor
MAX_COMPONENT = 255  # characters of one file name (most file systems' limit)
ORIGIN_SCHEMES = ("https", "http", "ssh", "git", "file")  # git transports an origin may use
_UNSAFE = re.compile(f"[{UNSAFE_CHARS}]")
_WINDOWS_CHARS = re.compile(r'[<>:"|?*]')
_DRIVE = re.compile(r"^[A-Za-z]:")
_RESERVED = re.compile(r"^(CON|PRN|AUX|NUL|COM[0-9¹²³]|LPT[0-9¹²³])(\..*)?$", re.IGNORECASE)
_SCHEME = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://")
_TRANSPORT = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*::")
_SCP = re.compile(r"^[^/\\:]+:")
_HEX = re.compile(r"^[0-9a-fA-F]{7,64}$")
_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_RUN_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")


def _shown(value: str) -> str:
    return escape(value, limit=60)


def _common(value: str, max_length: int) -> list[str]:
    problems: list[str] = []
    if _UNSAFE.search(value):
        problems.append("holds a control or invisible character")
    if value != value.strip():
        problems.append("starts or ends with whitespace")
    if value.startswith("-"):
        problems.append("starts with '-' (a command would read it as an option)")
    if len(value) > max_length:
        problems.append(f"is longer than {max_length} characters")
    return problems


def _windows_part_problems(part: str, glob: bool = False) -> list[str]:
    problems = []
    reserved = _RESERVED.match(part)
    if reserved:
        problems.append(f"holds the reserved Windows name '{_shown(reserved.group(1))}'")
    bad = sorted(set(_WINDOWS_CHARS.findall(part)) - ({"*", "?"} if glob else set()))
    if bad:
        problems.append(f"holds {' '.join(bad)}, which Windows refuses in file names")
    return problems


def relative_path_problems(
    value: str, *, max_length: int = MAX_PATH, glob: bool = False
) -> list[str]:
    """Problems of a path that must stay inside a root (a checkout, a build dir): not empty,
    relative (no ``/x``, ``C:``, ``\\\\server``), no ``..`` or ``.git`` component, no control
    characters, no leading ``-``, nothing Windows refuses (``CON``, ``a:b``, ``*``; with
    ``glob``, a pattern, ``*`` and ``?`` are wildcards)."""
    if not value:
        return ["is empty"]
    problems = _common(value, max_length)
    rest = value
    if value.startswith(("/", "\\")):
        problems.append("is absolute")
    elif _DRIVE.match(value):
        problems.append("names a Windows drive")
        rest = value[2:]
    parts = [p for p in re.split(r"[/\\]", rest) if p]
    if ".." in parts:
        problems.append("leaves its root ('..')")
    if any(p.lower() == ".git" for p in parts):
        problems.append("reaches into a .git folder")
    for part in parts:
        problems += [p for p in _windows_part_problems(part, glob) if p not in problems]
    return problems


def component_problems(value: str, *, max_length: int = MAX_COMPONENT) -> list[str]:
    """Problems of a name that becomes one file name (a store key, an archive name): one
    component (no ``/`` or ``\\``), not ``.`` or ``..``, no control characters."""
    if not value:
        return ["is empty"]
    problems = _common(value, max_length)
    if "/" in value or "\\" in value:
        problems.append("holds a path separator")
    if value in (".", ".."):
        problems.append(f"is '{value}'")
    return problems + _windows_part_problems(value)


def run_folder_problems(value: str) -> list[str]:
    """Problems of a store run folder (``<run id>-<platform>``, maybe under ``<owner>-<repo>/``,
    maybe with a sub-folder such as ``product``): one to four ``/``-separated parts of
    letters, digits, ``.``, ``_``, ``+`` and ``-``."""
    if not value:
        return ["is empty"]
    problems = _common(value, 200)
    parts = value.split("/")
    if len(parts) > 4:
        problems.append("has more than four parts")
    if any(p in (".", "..") for p in parts):
        problems.append("leaves its root ('..')")
    elif not all(_RUN_PART.match(p) for p in parts):
        problems.append("holds characters other than letters, digits, '.', '_', '+' and '-'")
    return problems


def commit_problems(value: str) -> list[str]:
    """Problems of a pinned commit: 7 to 64 hexadecimal digits."""
    if _HEX.match(value):
        return []
    return ["is not a commit id (7 to 64 hexadecimal digits)"]


def _absolute_local(value: str) -> bool:
    return value.startswith("/") or bool(re.match(r"^([A-Za-z]:[/\\]|\\\\)", value))


def origin_problems(value: str, schemes: tuple[str, ...] = ORIGIN_SCHEMES) -> list[str]:
    """Problems of a git origin: a URL with one of ``schemes`` and a host (``file://`` with an
    absolute path), or an absolute local path; never an option (``--upload-pack=...``), a
    ``transport::`` address (``ext::sh -c ...``) or scp-like ``host:path``."""
    if not value:
        return ["is empty"]
    problems = _common(value, 2048)
    if value.startswith("-"):
        return problems
    scheme = _SCHEME.match(value)
    if scheme:
        if any(c.isspace() for c in value.strip()):
            problems.append("holds whitespace")
        name = scheme.group("scheme").lower()
        if name not in schemes:
            problems.append(f"uses the scheme '{_shown(name)}' (allowed: {', '.join(schemes)})")
            return problems
        parts = urlsplit(value)
        if name == "file":
            if not parts.path.startswith("/"):
                problems.append("is a file:// URL without an absolute path")
        elif not parts.hostname:
            problems.append("has no host")
        elif parts.hostname.startswith("-") or parts.netloc.startswith("-"):
            problems.append("has a host starting with '-'")
        return problems
    if _TRANSPORT.match(value):
        problems.append("uses git's '<transport>::' syntax (only URLs and absolute paths)")
    elif _absolute_local(value):
        pass
    elif _SCP.match(value):
        problems.append("is scp-like 'host:path' (write ssh://host/path)")
    else:
        problems.append("is neither a URL nor an absolute local path")
    return problems


def url_problems(value: str, schemes: tuple[str, ...]) -> list[str]:
    """Problems of a service URL (a store, an S3 endpoint): one of ``schemes``, a host (or a
    bucket), no whitespace, control characters or ``..`` segments."""
    if not value:
        return ["is empty"]
    problems = _common(value, 2048)
    if any(c.isspace() for c in value.strip()):
        problems.append("holds whitespace")
    scheme = _SCHEME.match(value)
    if scheme is None or scheme.group("scheme").lower() not in schemes:
        problems.append(f"is not a URL with scheme {' or '.join(s + '://' for s in schemes)}")
        return problems
    parts = urlsplit(value)
    if not parts.netloc or parts.netloc.startswith("-"):
        problems.append("has no host" if not parts.netloc else "has a host starting with '-'")
    if ".." in parts.path.split("/"):
        problems.append("has a '..' segment")
    return problems


def label_problems(value: str) -> list[str]:
    """Problems of a runner label: letters, digits, ``.``, ``_`` and ``-``, at most 100."""
    if not value:
        return ["is empty"]
    problems = _common(value, 100)
    if "${{" in value:
        problems.append("holds an expression")
    elif not _LABEL.match(value):
        problems.append("holds characters other than letters, digits, '.', '_' and '-'")
    return problems
