"""S3Store (boto3): ``s3://bucket/prefix``, any S3-compatible endpoint.

Credentials come from the standard chain; without any, reads are unsigned (public buckets).
Every request goes through :func:`action_lib.edges.retry.retry` with budgets per kind of
failure (``stores.s3_errors.S3_RETRY``); each retry is reported through ``on_retry``.
Uploads above the threshold are multipart, part by part: a failed part is sent again alone,
and a part the server lost is found with ListParts and sent again before completing.
Downloads resume with a ranged GET where they broke. Create-if-absent publishing uses
``If-None-Match: *`` on PutObject and CompleteMultipartUpload; whether the endpoint honours it
is probed once, and where it does not, the store says so and compare-after-write is used.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TypeVar

import boto3
import botocore.exceptions as bex
from botocore import UNSIGNED
from botocore.config import Config

from action_lib.edges.retry import Reporter, RetriesExhaustedError, RetryPolicy, retry
from action_lib.errors import InputError, OperationError
from action_lib.stores.base import (
    AlreadyExistsError,
    FileStat,
    Notice,
    OnBytes,
    Sink,
    is_safe_run,
    safe_name,
    safe_run,
)
from action_lib.stores.s3_errors import S3_RETRY, ShortBodyError, classify, error_code, explain
from action_lib.stores.s3_writes import (
    DIGEST_KEY,
    MAX_COPY_PART,
    MB,
    MIN_PART,
    PRECONDITION,
    _Writes,
    is_code,
    part_size,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

T = TypeVar("T")
__all__ = ["MB", "MIN_PART", "S3Store", "parse_s3_url", "part_size"]
_ABSENT = ("NoSuchKey", "404", "NotFound")


def parse_s3_url(url: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` -> (bucket, "some/prefix"); InputError when malformed."""
    if not url.startswith("s3://"):
        raise InputError(f"'{url}' is not an s3:// URL")
    bucket, _, prefix = url[len("s3://") :].partition("/")
    if not bucket or "/" in bucket:
        raise InputError(f"'{url}' has no bucket name (s3://BUCKET/PREFIX)")
    return bucket, prefix.strip("/")


class _S3Upload:
    def __init__(self, store: S3Store, key: str) -> None:
        self.store = store
        self.key = key
        fd, temp = tempfile.mkstemp(prefix=".rockshard-upload-", dir=store.spool_dir)
        self.temp = Path(temp)
        self.file: BinaryIO = os.fdopen(fd, "w+b")
        self.identity = ""

    def commit(
        self, progress: OnBytes | None = None, *, digest: str = "", if_absent: bool = False
    ) -> None:
        self.file.close()
        self.identity = self.store.upload_file(self.temp, self.key, progress, digest, if_absent)
        self.temp.unlink(missing_ok=True)

    def abort(self) -> None:
        self.file.close()
        self.temp.unlink(missing_ok=True)


class S3Store(_Writes):
    """Files under ``s3://{bucket}/{prefix}/{run}/{name}``.

    ``retry_budget`` (seconds) caps every kind's retry time and raises the longest to it;
    ``conditional_writes`` is ``auto`` (probe the endpoint once), ``on`` or ``off``.
    """

    def __init__(
        self,
        url: str,
        *,
        endpoint_url: str | None = None,
        jobs: int = 4,
        retry_budget: float | None = None,
        retry_policy: RetryPolicy = S3_RETRY,
        on_retry: Reporter | None = None,
        on_notice: Notice | None = None,
        multipart_threshold: int = 64 * MB,
        min_part: int = MIN_PART,
        spool_dir: Path | None = None,
        conditional_writes: str = "auto",
        connect_timeout: float = 10.0,
        read_timeout: float = 60.0,
    ) -> None:
        self.bucket, self.prefix = parse_s3_url(url)
        self.url = f"s3://{self.bucket}" + (f"/{self.prefix}" if self.prefix else "")
        self.endpoint_url = endpoint_url or None
        self.policy = retry_policy if retry_budget is None else retry_policy.scaled(retry_budget)
        self.on_retry = on_retry
        self.on_notice = on_notice
        self.jobs = max(1, jobs)
        self.threshold = multipart_threshold
        self.min_part = min_part
        self.spool_dir = str(spool_dir) if spool_dir else None
        if conditional_writes not in ("auto", "on", "off"):
            raise InputError(f"conditional_writes '{conditional_writes}' (auto, on or off)")
        self._conditional = conditional_writes
        self._probe_lock = threading.Lock()
        session = boto3.session.Session()
        self.signed = session.get_credentials() is not None
        options: dict[str, Any] = {
            "retries": {"total_max_attempts": 1},  # retried here, with budgets and reports
            "max_pool_connections": max(10, 4 * self.jobs),
            "connect_timeout": connect_timeout,
            "read_timeout": read_timeout,
        }
        if not self.signed:
            options["signature_version"] = UNSIGNED
        self.client: S3Client = session.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=session.region_name or "us-east-1",
            config=Config(**options),
        )

    # -- plumbing -------------------------------------------------------------------------
    def _key(self, run: str, name: str = "") -> str:
        parts = [p for p in (self.prefix, run and safe_run(run), name and safe_name(name)) if p]
        return "/".join(parts) + ("" if name else "/")

    def _where(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def _retry(self, op: Callable[[], T], what: str, passes: tuple[str, ...] = ()) -> T:
        """Run ``op`` with retries; errors whose code is in ``passes`` propagate unchanged,
        any other final failure becomes one OperationError line."""
        try:
            return retry(op, what, classify=classify, policy=self.policy, on_retry=self.on_retry)
        except bex.ClientError as exc:
            if error_code(exc) in passes:
                raise
            raise OperationError(
                explain(exc, what, self.url, self.endpoint_url, self.signed)
            ) from None
        except (bex.BotoCoreError, RetriesExhaustedError) as exc:
            raise OperationError(
                explain(exc, what, self.url, self.endpoint_url, self.signed)
            ) from None

    def _notice(self, text: str) -> None:
        if self.on_notice is not None:
            self.on_notice(text)

    # -- conditional writes ---------------------------------------------------------------
    @property
    def conditional_writes(self) -> bool:
        """True when the endpoint enforces ``If-None-Match: *`` (probed once when ``auto``)."""
        with self._probe_lock:
            if self._conditional == "auto":
                self._conditional = "on" if self._probe() else "off"
            return self._conditional == "on"

    # -- reads ----------------------------------------------------------------------------
    def location(self, run: str) -> str:
        return self._where(self._key(run))

    def listing(self, run: str) -> Mapping[str, int]:
        prefix = self._key(run)

        def op() -> dict[str, int]:
            out: dict[str, int] = {}
            paginator = self.client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix, Delimiter="/"):
                for obj in page.get("Contents", []):
                    out[obj["Key"][len(prefix) :]] = int(obj["Size"])
            return dict(sorted(out.items()))

        return self._retry(op, f"listing {self.location(run)}")

    def runs(self) -> list[str]:
        base = self._key("")
        base = "" if base == "/" else base

        def op() -> list[str]:
            found: list[str] = []
            paginator = self.client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=base, Delimiter="/"):
                found.extend(
                    p["Prefix"][len(base) :].rstrip("/") for p in page.get("CommonPrefixes", [])
                )
            return sorted(r for r in found if is_safe_run(r))

        return self._retry(op, f"listing {self.url}")

    def read_text(self, run: str, name: str) -> str | None:
        key = self._key(run, name)

        def op() -> str | None:
            try:
                got = self.client.get_object(Bucket=self.bucket, Key=key)
            except bex.ClientError as exc:
                if is_code(exc, _ABSENT):
                    return None
                raise
            return self._read_body(got).decode("utf-8", "replace")  # store data: never fatal

        return self._retry(op, f"reading {self._where(key)}")

    def _read_body(self, got: Mapping[str, Any]) -> bytes:
        data: bytes = got["Body"].read()
        if len(data) != int(got.get("ContentLength", len(data))):
            raise ShortBodyError(f"body of {len(data)} of {got['ContentLength']} bytes")
        return data

    def read_tail(self, run: str, name: str, size: int, n: int) -> bytes:
        key = self._key(run, name)
        start = max(0, size - n)

        def op() -> bytes:
            got = self.client.get_object(
                Bucket=self.bucket, Key=key, Range=f"bytes={start}-{size - 1}"
            )
            return self._read_body(got)

        return self._retry(op, f"reading {self._where(key)}")

    def local_path(self, run: str, name: str) -> Path | None:
        return None

    def stat(self, run: str, name: str) -> FileStat | None:
        key = self._key(run, name)

        def op() -> FileStat | None:
            try:
                head = self.client.head_object(Bucket=self.bucket, Key=key)
            except bex.ClientError as exc:
                if is_code(exc, _ABSENT):
                    return None
                raise
            meta = {k.lower(): v for k, v in head.get("Metadata", {}).items()}
            return FileStat(
                int(head["ContentLength"]),
                head["LastModified"].timestamp(),
                meta.get(DIGEST_KEY) or None,
                str(head.get("ETag", "")) + str(head.get("VersionId", "")),
            )

        return self._retry(op, f"reading {self._where(key)}")

    def download(self, run: str, name: str, out: Sink, progress: OnBytes | None = None) -> None:
        key = self._key(run, name)
        done = 0
        total = -1
        etag = ""

        def op() -> None:
            nonlocal done, total, etag
            extra: dict[str, Any] = {}
            if done:
                extra = {"Range": f"bytes={done}-", "IfMatch": etag}
            try:
                got = self.client.get_object(Bucket=self.bucket, Key=key, **extra)
            except bex.ClientError as exc:
                if is_code(exc, _ABSENT):
                    raise OperationError(f"{self._where(key)} is absent") from None
                if is_code(exc, PRECONDITION):
                    raise OperationError(
                        f"{self._where(key)} changed in the store during the download"
                    ) from None
                raise
            etag = etag or str(got.get("ETag", ""))
            if total < 0:
                total = int(got.get("ContentLength", 0))
            body = got["Body"]
            try:
                for chunk in body.iter_chunks(MB):
                    out.write(chunk)
                    done += len(chunk)
                    if progress is not None:
                        progress(len(chunk))
            finally:
                body.close()
            if done != total:
                raise ShortBodyError(f"got {done} of {total} bytes")

        self._retry(op, f"downloading {self._where(key)}")

    # -- writes ---------------------------------------------------------------------------
    def begin_upload(self, run: str, name: str) -> _S3Upload:
        return _S3Upload(self, self._key(run, name))

    def upload_file(
        self,
        path: Path,
        key: str,
        progress: OnBytes | None = None,
        digest: str = "",
        if_absent: bool = False,
    ) -> str:
        """Upload a local file (multipart above the threshold); its ETag. With ``if_absent``,
        AlreadyExistsError when the key exists (enforced by the server, or checked before and
        compared after writing where the server does not enforce it)."""
        size = path.stat().st_size
        meta = {DIGEST_KEY: digest} if digest else {}
        what = f"uploading {self._where(key)}"
        conditional = if_absent and self.conditional_writes
        if if_absent and not conditional:
            self._check_absent(key)
        cond: dict[str, Any] = {"IfNoneMatch": "*"} if conditional else {}
        if size <= self.threshold:

            def op() -> str:
                with path.open("rb") as f:
                    got = self.client.put_object(
                        Bucket=self.bucket, Key=key, Body=f, Metadata=meta, **cond
                    )
                return str(got.get("ETag", ""))

            try:
                etag = self._retry(op, what, passes=PRECONDITION)
            except bex.ClientError:
                raise AlreadyExistsError(f"{self._where(key)} exists") from None
            if progress is not None:
                progress(size)
        else:
            etag = self._multipart(path, key, size, meta, cond, progress)
        if if_absent and not conditional:
            self._check_ours(key, etag)
        return etag

    def _check_absent(self, key: str) -> None:
        def op() -> bool:
            try:
                self.client.head_object(Bucket=self.bucket, Key=key)
                return True
            except bex.ClientError as exc:
                if is_code(exc, _ABSENT):
                    return False
                raise

        if self._retry(op, f"reading {self._where(key)}"):
            raise AlreadyExistsError(f"{self._where(key)} exists")

    def _check_ours(self, key: str, etag: str) -> None:
        head = self._retry(
            lambda: self.client.head_object(Bucket=self.bucket, Key=key),
            f"reading {self._where(key)}",
        )
        if str(head.get("ETag", "")) != etag:
            raise AlreadyExistsError(f"{self._where(key)} was written by another push at once")

    def write_text(self, run: str, name: str, text: str, *, if_absent: bool = False) -> None:
        key = self._key(run, name)
        data = text.encode("utf-8")
        conditional = if_absent and self.conditional_writes
        if if_absent and not conditional:
            self._check_absent(key)
        cond: dict[str, Any] = {"IfNoneMatch": "*"} if conditional else {}
        try:
            got = self._retry(
                lambda: self.client.put_object(Bucket=self.bucket, Key=key, Body=data, **cond),
                f"writing {self._where(key)}",
                passes=PRECONDITION,
            )
        except bex.ClientError:
            raise AlreadyExistsError(f"{self._where(key)} exists") from None
        if if_absent and not conditional:
            self._check_ours(key, str(got.get("ETag", "")))

    def delete(self, run: str, name: str) -> None:
        key = self._key(run, name)
        self._retry(
            lambda: self.client.delete_object(Bucket=self.bucket, Key=key),
            f"deleting {self._where(key)}",
        )

    def copy(self, src_run: str, name: str, dst_run: str) -> None:
        from boto3.s3.transfer import TransferConfig

        source = self._key(src_run, name)
        key = self._key(dst_run, name)
        size = int(
            self._retry(
                lambda: self.client.head_object(Bucket=self.bucket, Key=source),
                f"reading {self._where(source)}",
            )["ContentLength"]
        )
        config = TransferConfig(
            multipart_threshold=self.threshold,
            multipart_chunksize=part_size(size, self.min_part, MAX_COPY_PART),
            max_concurrency=max(4, 2 * self.jobs),
            use_threads=True,
            preferred_transfer_client="classic",
        )
        self._retry(
            lambda: self.client.copy(
                {"Bucket": self.bucket, "Key": source}, self.bucket, key, Config=config
            ),
            f"copying {self._where(source)}",
        )

    def gc(self, run: str | None, older_than: float, *, dry_run: bool = False) -> list[str]:
        prefix = self._key(run) if run is not None else self._key("")
        prefix = "" if prefix == "/" else prefix
        now = time.time()

        def op() -> list[tuple[str, str, float]]:
            found: list[tuple[str, str, float]] = []
            paginator = self.client.get_paginator("list_multipart_uploads")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                for up in page.get("Uploads", []):
                    found.append((up["Key"], up["UploadId"], up["Initiated"].timestamp()))
            return sorted(found)

        removed: list[str] = []
        for key, upload_id, started in self._retry(op, f"listing uploads under {self.url}"):
            if now - started >= older_than:
                if not dry_run:
                    self._retry(
                        lambda k=key, u=upload_id: self.client.abort_multipart_upload(  # type: ignore[misc]
                            Bucket=self.bucket, Key=k, UploadId=u
                        ),
                        f"aborting the upload of {self._where(key)}",
                    )
                age = now - started
                removed.append(f"incomplete upload of {self._where(key)} ({age:.0f} s old)")
        return removed
