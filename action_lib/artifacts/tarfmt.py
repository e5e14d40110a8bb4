"""The tar format, byte for byte: ustar headers with PAX extended headers when needed.

Written here rather than through ``tarfile`` so that archives are byte-identical across Python
versions, and so that reading is strict: only files, directories, symlinks and hard links pass.
:class:`TarReader` reads a decompressed stream through one buffer, with no copy in between.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

from action_lib.errors import OperationError

BLOCK = 512
RECORD = 20 * BLOCK
ZERO_BLOCK = bytes(BLOCK)
REGULAR, HARDLINK, SYMLINK, DIRECTORY = "f", "h", "l", "d"
_TYPEFLAGS = {REGULAR: b"0", HARDLINK: b"1", SYMLINK: b"2", DIRECTORY: b"5"}
_KINDS = {
    b"0": REGULAR,
    b"\0": REGULAR,
    b"7": REGULAR,
    b"1": HARDLINK,
    b"2": SYMLINK,
    b"5": DIRECTORY,
}
_SPECIAL = {b"3": "character device", b"4": "block device", b"6": "fifo"}
OWNER = "root"
READ_CHUNK = 1 << 20


class TarFormatError(OperationError):
    """An archive is not a tar archive this tool accepts."""


@dataclass(frozen=True)
class Member:
    """One archive member: path without a trailing '/', kind f|d|l|h, size, mode, link target."""

    path: str
    kind: str
    size: int = 0
    mode: int = 0o644
    link: str = ""


def _octal(value: int, width: int) -> bytes:
    return b"%0*o\0" % (width - 1, value)


def _pax_record(key: str, value: str) -> bytes:
    body = f" {key}={value}\n".encode()
    length = len(body) + 1
    while len(str(length).encode()) + len(body) != length:
        length += 1
    return str(length).encode() + body


def _ustar(name: bytes, kind: bytes, size: int, mode: int, link: bytes) -> bytes:
    header = bytearray(BLOCK)
    header[0:100] = name[:100].ljust(100, b"\0")
    header[100:108] = _octal(mode & 0o7777, 8)
    header[108:116] = _octal(0, 8)
    header[116:124] = _octal(0, 8)
    header[124:136] = _octal(size, 12)
    header[136:148] = _octal(0, 12)
    header[148:156] = b" " * 8
    header[156:157] = kind
    header[157:257] = link[:100].ljust(100, b"\0")
    header[257:265] = b"ustar\x0000"
    header[265:297] = OWNER.encode().ljust(32, b"\0")
    header[297:329] = OWNER.encode().ljust(32, b"\0")
    header[329:337] = _octal(0, 8)
    header[337:345] = _octal(0, 8)
    header[148:156] = b"%06o\0 " % sum(header)
    return bytes(header)


def encode_header(member: Member) -> bytes:
    """The header block(s) of ``member``: mtime, uid, gid and owner names are normalised."""
    name = member.path + ("/" if member.kind == DIRECTORY else "")
    raw_name = name.encode("utf-8", "surrogateescape")
    raw_link = member.link.encode("utf-8", "surrogateescape")
    records = b""
    if len(raw_name) > 100 or not name.isascii():
        records += _pax_record("path", name)
    if len(raw_link) > 100 or not member.link.isascii():
        records += _pax_record("linkpath", member.link)
    size = member.size if member.kind == REGULAR else 0
    if size >= 8**11:
        records += _pax_record("size", str(size))
    out = b""
    if records:
        out += _ustar(b"././@PaxHeader", b"x", len(records), 0o644, b"")
        out += records + bytes(-len(records) % BLOCK)
    ascii_name = name.encode("ascii", "replace")
    ascii_link = member.link.encode("ascii", "replace")
    return out + _ustar(
        ascii_name, _TYPEFLAGS[member.kind], size if size < 8**11 else 0, member.mode, ascii_link
    )


def end_of_archive(written: int) -> bytes:
    """Two zero blocks, then padding to a whole record (as tar and ``tarfile`` write)."""
    total = written + 2 * BLOCK
    return bytes(2 * BLOCK + (-total % RECORD))


def _number(field: bytes) -> int:
    if field[:1] and field[0] & 0x80:  # GNU base-256
        value = int.from_bytes(field[1:], "big")
        return -value if field[0] & 0x40 else value
    text = field.split(b"\0", 1)[0].strip(b" \0")
    try:
        return int(text, 8) if text else 0
    except ValueError:
        raise TarFormatError(f"bad number field {field!r} in a tar header") from None


def _text(field: bytes) -> str:
    return field.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def _parse_pax(data: bytes) -> dict[str, str]:
    out: dict[str, str] = {}
    pos = 0
    while pos < len(data) and data[pos : pos + 1] != b"\0":
        space = data.find(b" ", pos)
        if space < 0:
            raise TarFormatError("malformed PAX header")
        try:
            length = int(data[pos:space])
        except ValueError:
            raise TarFormatError("malformed PAX header length") from None
        record = data[space + 1 : pos + length]
        if length <= 0 or not record.endswith(b"\n") or b"=" not in record:
            raise TarFormatError("malformed PAX record")
        key, value = record[:-1].split(b"=", 1)
        out[key.decode("utf-8", "surrogateescape")] = value.decode("utf-8", "surrogateescape")
        pos += length
    return out


def read_member(read: Callable[[int], bytes], where: str) -> Member | None:
    """Read the next member's header(s) with ``read(n)`` (exact reads); None at the end.

    Raises TarFormatError for damaged headers, special files (devices, fifos) and
    unsupported kinds (sparse files, volumes).
    """
    pax: dict[str, str] = {}
    long_name = long_link = None
    while True:
        block = read(BLOCK)
        if len(block) < BLOCK:
            raise TarFormatError(f"{where}: truncated tar archive (no end-of-archive marker)")
        if block == ZERO_BLOCK:
            return None
        stored = _number(block[148:156])
        unsigned = sum(block[:148]) + 256 + sum(block[156:])
        if stored != unsigned:
            raise TarFormatError(f"{where}: damaged tar header (checksum mismatch)")
        flag = block[156:157]
        size = _number(block[124:136])
        if flag in (b"x", b"g", b"L", b"K"):
            data = read(size + (-size % BLOCK))[:size]
            if len(data) < size:
                raise TarFormatError(f"{where}: truncated tar archive")
            if flag == b"x":
                pax.update(_parse_pax(data))
            elif flag == b"L":
                long_name = data.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
            elif flag == b"K":
                long_link = data.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
            continue  # global PAX headers carry nothing this format uses
        name = _text(block[0:100])
        if block[257:263] == b"ustar\0" and block[345]:
            name = _text(block[345:500]) + "/" + name
        name = pax.get("path", long_name or name)
        link = pax.get("linkpath", long_link or _text(block[157:257]))
        if "size" in pax:
            size = int(pax["size"])
        if any(k.startswith("GNU.sparse") for k in pax):
            raise TarFormatError(f"{where}: '{name}' is a sparse file (unsupported)")
        if flag in _SPECIAL:
            raise TarFormatError(
                f"{where}: '{name}' is a {_SPECIAL[flag]}: special files are refused"
            )
        kind = _KINDS.get(flag)
        if kind is None:
            raise TarFormatError(f"{where}: '{name}' has unsupported tar type {flag!r}")
        if kind == DIRECTORY or name.endswith("/"):
            kind, size = DIRECTORY, 0
        elif kind != REGULAR:
            size = 0
        return Member(name.rstrip("/"), kind, size, _number(block[100:108]) & 0o7777, link)


class TarReader:
    """Exact reads, skips and copies over a decompressed tar stream (anything with
    ``readinto``), through one buffer: file contents go from the decompressor's output to
    ``os.write`` without another copy."""

    def __init__(self, stream: BinaryIO, archive: str) -> None:
        self.stream = stream
        self.archive = archive
        self.buf = bytearray(READ_CHUNK)
        self.view = memoryview(self.buf)
        self.pos = 0
        self.end = 0

    def _fill(self) -> bool:
        """Refill the buffer (keeping unread bytes); False at the end of the stream."""
        if self.pos:
            rest = self.end - self.pos
            self.buf[:rest] = self.view[self.pos : self.end]
            self.pos, self.end = 0, rest
        n = self.stream.readinto(self.view[self.end :])  # type: ignore[attr-defined]
        if not n:
            return False
        self.end += n
        return True

    def read(self, n: int) -> bytes:
        """``n`` bytes (fewer only at the end of the stream)."""
        while self.end - self.pos < n:
            if not self._fill():
                break
        data = bytes(self.view[self.pos : min(self.end, self.pos + n)])
        self.pos += len(data)
        return data

    def skip(self, size: int) -> None:
        """Skip a member's ``size`` bytes of content and its padding."""
        remaining = size + (-size % BLOCK)
        while remaining > 0:
            if self.pos == self.end and not self._fill():
                raise TarFormatError(f"{self.archive}: truncated tar archive")
            k = min(remaining, self.end - self.pos)
            self.pos += k
            remaining -= k

    def copy(self, fd: int, size: int) -> None:
        """Write a member's ``size`` bytes of content to ``fd``, then skip its padding."""
        remaining = size
        view = self.view
        while remaining > 0:
            if self.pos == self.end and not self._fill():
                raise TarFormatError(f"{self.archive}: truncated tar archive")
            k = min(remaining, self.end - self.pos)
            chunk = view[self.pos : self.pos + k]
            while chunk:
                chunk = chunk[os.write(fd, chunk) :]
            self.pos += k
            remaining -= k
        if size % BLOCK:
            self.skip_padding(-size % BLOCK)

    def skip_padding(self, pad: int) -> None:
        """Skip ``pad`` bytes of block padding."""
        while self.end - self.pos < pad:
            if not self._fill():
                raise TarFormatError(f"{self.archive}: truncated tar archive")
        self.pos += pad
