"""Cache records in a store: find and verify one, reuse its archives, write, list, prune.

Reading a record verifies every archive it names: present in its run folder with its sidecar,
the recorded size and digest, and the recorded fingerprint (the object's identity, its ETag and
version, on S3; the file's sha256 in a local store). Anything less is a miss, never a broken build. Reuse copies
the archives into the current run server-side (S3 CopyObject; a hard link or copy locally),
archive first and sidecar last, so that every run's folder stays complete.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from action_lib.artifacts.archive import HashingWriter
from action_lib.artifacts.fetch import hash_file
from action_lib.artifacts.names import format_digest, parse_digest, sidecar
from action_lib.artifacts.push import Moved
from action_lib.cache.records import (
    CACHE_ROOT,
    LATEST,
    CacheRecord,
    parse_record,
    parse_record_name,
    record_name,
)
from action_lib.errors import OperationError, RockshardError
from action_lib.stores.base import Store


@dataclass(frozen=True)
class Lookup:
    """What looking a key up found: a usable record, or why there is none."""

    record: CacheRecord | None
    reason: str = ""  # why the key missed ("" on a hit)

    @property
    def hit(self) -> bool:
        """True when a verified record was found."""
        return self.record is not None


def _read(store: Store, name: str) -> tuple[CacheRecord | None, str]:
    try:
        text = store.read_text(CACHE_ROOT, name)
    except RockshardError as exc:
        return None, f"the record could not be read ({exc})"
    if text is None:
        return None, ""
    try:
        return parse_record(text), ""
    except ValueError as exc:
        return None, f"the record {CACHE_ROOT}/{name} is malformed ({exc})"


def verify(store: Store, record: CacheRecord) -> str:
    """ "" when every archive of ``record`` is in its run with its digest; else why not."""
    try:
        listing = store.listing(record.run)
        for name, ref in sorted(record.archives.items()):
            where = f"{name} in run {record.run}"
            if name not in listing:
                return f"{where} is gone"
            if sidecar(name) not in listing:
                return f"{where} has no sidecar"
            if listing[name] != ref.size:
                return f"{where} has {listing[name]} bytes, the record says {ref.size}"
            text = store.read_text(record.run, sidecar(name)) or ""
            digest = parse_digest(text, f"{store.location(record.run)}/{sidecar(name)}")
            if digest != ref.digest:
                return f"{where}: its sidecar says {digest[:12]}, the record {ref.digest[:12]}"
            if ref.fingerprint and fingerprint(store, record.run, name) != ref.fingerprint:
                return f"{where} changed since the record was written (its bytes differ)"
    except RockshardError as exc:
        return f"the archives could not be checked ({exc})"
    return ""


def lookup(store: Store, stage: str, family: str, key: str) -> Lookup:
    """The verified record of ``key`` for a job, or why there is none."""
    record, problem = _read(store, record_name(stage, family, key))
    if record is None:
        return Lookup(None, problem or "no record of this key")
    if key not in (record.key, record.content_key) or (record.stage, record.family) != (
        stage,
        family,
    ):
        return Lookup(None, f"the record {record_name(stage, family, key)} is for another key")
    problem = verify(store, record)
    if problem:
        return Lookup(None, f"the record of run {record.run} is unusable: {problem}")
    return Lookup(record)


def latest(store: Store, stage: str, family: str) -> CacheRecord | None:
    """The last record written for a job (what a miss is compared with), or None."""
    record, _ = _read(store, record_name(stage, family, LATEST))
    return record


class ReuseConflictError(OperationError):
    """The run already holds different content under an archive's name."""


def _transfer(source: Store, store: Store, src_run: str, name: str, run: str, digest: str) -> None:
    """Copy one archive between two stores through this machine, checking its digest."""
    upload = store.begin_upload(run, name)
    try:
        hashing = HashingWriter(upload.file)
        source.download(src_run, name, hashing)
        got = hashing.sha.hexdigest()
        if got != digest:
            raise OperationError(
                f"{name} from {source.location(src_run)}: sha256 {got[:12]}, "
                f"the record says {digest[:12]}"
            )
        upload.commit(digest=digest)
    except BaseException:
        upload.abort()
        raise


def reuse(
    store: Store, record: CacheRecord, run: str, *, source: Store | None = None
) -> list[Moved]:
    """Copy the archives of ``record`` into ``run`` of ``store``: server-side when the record
    is in the same store (S3 CopyObject, a local hard link), else through this machine from
    ``source`` (a pull request reading the trusted store, writing its own), the digest
    checked. Identical content already there is a no-op. ReuseConflictError, before copying
    anything, when ``run`` holds other content under one of the names."""
    origin = source if source is not None and source.url != store.url else None
    have: dict[str, str] = {}
    listing = store.listing(run)
    for name, ref in sorted(record.archives.items()):
        if sidecar(name) in listing:
            text = store.read_text(run, sidecar(name)) or ""
            have[name] = parse_digest(text, f"{store.location(run)}/{sidecar(name)}")
            if have[name] != ref.digest:
                raise ReuseConflictError(
                    f"{name}: {store.location(run)} already holds sha256 {have[name][:12]}, "
                    f"the record of run {record.run} {ref.digest[:12]}"
                )
    moved: list[Moved] = []
    for name, ref in sorted(record.archives.items()):
        if have.get(name) == ref.digest:
            moved.append(Moved(name, ref.size, ref.digest, "unchanged"))
            continue
        if origin is None:
            store.copy(record.run, name, run)
        else:
            _transfer(origin, store, record.run, name, run, ref.digest)
        store.write_text(run, sidecar(name), format_digest(ref.digest))
        moved.append(Moved(name, ref.size, ref.digest, "copied"))
    return moved


def fingerprint(store: Store, run: str, name: str) -> str | None:
    """A text that changes whenever the stored file's bytes change, or None when it is
    absent: the sha256 of a local store's file (read in full), else the store's identity of
    the object (its ETag and version on S3)."""
    local = store.local_path(run, name)
    if local is not None:
        try:
            return f"sha256:{hash_file(local)}"
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise OperationError(f"cannot read {local}: {exc.strerror or exc}") from None
    found = store.stat(run, name)
    return None if found is None else f"id:{found.identity}"


def fingerprint_for(store: Store, run: str, name: str, digest: str) -> str:
    """The fingerprint to record for an archive just pushed: its sha256 in a local store
    (known), the store's identity of the object elsewhere."""
    if store.local_path(run, name) is not None:
        return f"sha256:{digest}"
    return fingerprint(store, run, name) or ""


def write_record(store: Store, record: CacheRecord) -> None:
    """Write ``record`` under its static key, its content key and as the job's latest: each
    file atomically, after every archive it names is complete (the caller pushed them)."""
    text = record.text()
    for key in dict.fromkeys((record.key, record.content_key, LATEST)):
        store.write_text(CACHE_ROOT, record_name(record.stage, record.family, key), text)


@dataclass(frozen=True)
class Listed:
    """One record file of the store."""

    name: str
    stage: str
    family: str
    key: str  # or "latest"
    size: int


def list_records(store: Store, stage: str = "", family: str | None = None) -> list[Listed]:
    """Every record file in ``cache/`` (of one stage, and family, when given), sorted."""
    out: list[Listed] = []
    for name, size in store.listing(CACHE_ROOT).items():
        parsed = parse_record_name(name)
        if parsed is None:
            continue
        if (stage and parsed[0] != stage) or (family is not None and parsed[1] != family):
            continue
        out.append(Listed(name, *parsed, size))
    return sorted(out, key=lambda r: (r.stage, r.family, r.key))


def read_records(store: Store, listed: Sequence[Listed]) -> list[tuple[Listed, CacheRecord | None]]:
    """The records of ``listed`` (None for one that is malformed or gone)."""
    return [(item, _read(store, item.name)[0]) for item in listed]


def _created(record: CacheRecord) -> datetime | None:
    try:
        moment = datetime.fromisoformat(record.created.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def prune(
    store: Store, older_than_days: float, *, now: datetime, dry_run: bool = False
) -> list[tuple[Listed, str]]:
    """Remove record files written more than ``older_than_days`` ago (and malformed ones);
    returns each with why. Archives stay in their run folders."""
    limit = now - timedelta(days=older_than_days)
    removed: list[tuple[Listed, str]] = []
    for item, record in read_records(store, list_records(store)):
        created = _created(record) if record is not None else None
        if record is None or created is None:
            why = "malformed"
        elif created < limit:
            why = f"written {record.created}"
        else:
            continue
        if not dry_run:
            store.delete(CACHE_ROOT, item.name)
        removed.append((item, why))
    return removed
