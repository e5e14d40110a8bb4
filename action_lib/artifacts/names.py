"""Artifact names: ``{name}_{component}_{target}.tar.{zst,xz}`` and their ``.sha256sum`` sidecars."""

from __future__ import annotations

import re
from dataclasses import dataclass

from action_lib.errors import InputError, OperationError

COMPONENTS = ("lib", "run", "dbg", "dev", "doc", "test")
COMPRESSIONS = {"zstd": "zst", "xz": "xz"}
EXTENSIONS = {"zst": "zstd", "xz": "xz"}
SIDECAR_SUFFIX = ".sha256sum"
MANIFEST = "artifact_manifest.txt"
GENERIC = "generic"

_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+-]*$")
_ARCHIVE = re.compile(r"^(?P<stem>[^/\\]+)\.tar\.(?P<ext>zst|xz)$")
_HEX = re.compile(r"^[0-9a-f]{64}$")


def check_part(kind: str, value: str) -> str:
    """Validate one part of a name: no ``_``, no path separator, no ``..``; return it.

    Raises InputError naming what is wrong.
    """
    if not value:
        raise InputError(f"empty artifact {kind}")
    if "_" in value:
        raise InputError(f"artifact {kind} '{value}' contains '_' (the separator of the parts)")
    if "/" in value or "\\" in value or ".." in value:
        raise InputError(f"artifact {kind} '{value}' contains a path separator or '..'")
    if not _PART.match(value):
        raise InputError(
            f"artifact {kind} '{value}' has characters outside letters, digits, '.', '+', '-'"
        )
    return value


@dataclass(frozen=True, order=True)
class ArtifactName:
    """One artifact component for one target, e.g. ``blas_lib_gfx94X-dcgpu``."""

    name: str
    component: str
    target: str

    def __post_init__(self) -> None:
        check_part("name", self.name)
        check_part("component", self.component)
        check_part("target", self.target)

    @property
    def stem(self) -> str:
        """``{name}_{component}_{target}``: also the artifact directory's name."""
        return f"{self.name}_{self.component}_{self.target}"

    def archive(self, compression: str = "zstd") -> str:
        """The archive file name for ``compression`` (zstd or xz)."""
        return f"{self.stem}.tar.{COMPRESSIONS[compression]}"

    @property
    def is_generic(self) -> bool:
        """True for the target-neutral half."""
        return self.target == GENERIC


def parse_stem(stem: str) -> ArtifactName:
    """Parse ``{name}_{component}_{target}``; InputError when malformed."""
    parts = stem.split("_")
    if len(parts) != 3:
        raise InputError(f"'{stem}' is not an artifact name of the form NAME_COMPONENT_TARGET")
    return ArtifactName(*parts)


def parse_archive(filename: str) -> tuple[ArtifactName, str]:
    """Parse an archive file name into its artifact name and compression (zstd or xz)."""
    match = _ARCHIVE.match(filename)
    if not match:
        raise InputError(
            f"'{filename}' is not an artifact archive name (NAME_COMPONENT_TARGET.tar.zst|xz)"
        )
    return parse_stem(match.group("stem")), EXTENSIONS[match.group("ext")]


def try_parse_archive(filename: str) -> tuple[ArtifactName, str] | None:
    """Like parse_archive, but None for anything that is not an artifact archive."""
    try:
        return parse_archive(filename)
    except InputError:
        return None


def try_parse_stem(stem: str) -> ArtifactName | None:
    """Like parse_stem, but None for anything that is not an artifact name."""
    try:
        return parse_stem(stem)
    except InputError:
        return None


def sidecar(archive: str) -> str:
    """The digest sidecar's name of ``archive``."""
    return archive + SIDECAR_SUFFIX


def format_digest(digest: str) -> str:
    """Sidecar content: the hex digest and a newline."""
    return digest + "\n"


def parse_digest(text: str, where: str) -> str:
    """The hex digest in sidecar ``text`` (``sha256sum`` output is accepted too).

    Raises OperationError: a malformed sidecar is a damaged store, not bad user input.
    """
    fields = text.strip().split()
    digest = fields[0].lower() if fields else ""
    if not _HEX.match(digest):
        raise OperationError(f"{where}: not a sha256 digest: {text.strip()[:80]!r}")
    return digest
