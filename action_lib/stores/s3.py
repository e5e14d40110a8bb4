"""S3Store (boto3): ``s3://bucket/prefix``, any S3-compatible endpoint.

Credentials come from the standard chain; without any, reads are unsigned (public buckets).
Uploads and copies are multipart with part sizes fitted to the object (server-side multipart
copy handles objects over 5 GB). Throttling, 5xx and connection errors are retried with
exponential backoff and full jitter, bounded in total time; downloads resume where they broke.
"""

from __future__ import annotations

import math
import os
import random
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TypeVar

import boto3
import boto3.exceptions
import botocore.exceptions as bex
from boto3.s3.transfer import TransferConfig
from botocore import UNSIGNED
from botocore.config import Config

from action_lib.errors import InputError, OperationError
from action_lib.stores.base import OnBytes, Sink

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

T = TypeVar("T")
MB = 1 << 20
MAX_PARTS = 9000  # S3 allows 10000; keep a margin
MIN_PART = 8 * MB
MAX_COPY_PART = 5 * 1024 * MB
_RETRY_CODES = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "SlowDown",
    "RequestTimeout",
    "RequestTimeTooSkewed",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "InternalError",
    "ServiceUnavailable",
    "BadDigest",
}
_CONNECTION_ERRORS = (
    bex.ConnectionError,
    bex.IncompleteReadError,
    bex.ResponseStreamingError,
    ConnectionError,
    TimeoutError,
)


def parse_s3_url(url: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` -> (bucket, "some/prefix"); InputError when malformed."""
    if not url.startswith("s3://"):
        raise InputError(f"'{url}' is not an s3:// URL")
    bucket, _, prefix = url[len("s3://") :].partition("/")
    if not bucket or "/" in bucket:
        raise InputError(f"'{url}' has no bucket name (s3://BUCKET/PREFIX)")
    return bucket, prefix.strip("/")


def retryable(exc: BaseException) -> bool:
    """True for throttling, 5xx and connection errors."""
    if isinstance(exc, _CONNECTION_ERRORS):
        return True
    if isinstance(exc, bex.ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        return code in _RETRY_CODES or status == 429 or status >= 500
    cause = exc.__cause__ or exc.__context__
    return cause is not None and cause is not exc and retryable(cause)


def with_retries(
    op: Callable[[], T],
    what: str,
    *,
    budget: float,
    base: float = 0.25,
    cap: float = 20.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """Run ``op``; retry transient failures with exponential backoff and full jitter until
    ``budget`` seconds have passed, then raise OperationError naming ``what``."""
    start = clock()
    attempt = 0
    while True:
        try:
            return op()
        except Exception as exc:
            if not retryable(exc):
                raise
            delay = random.uniform(0, min(cap, base * 2**attempt))
            attempt += 1
            if clock() - start + delay > budget:
                raise OperationError(
                    f"{what}: still failing after {attempt} attempt(s) in {budget:g} s: {exc}"
                ) from None
            sleep(delay)


def part_size(size: int, minimum: int = MIN_PART, maximum: int = MAX_COPY_PART) -> int:
    """A part size that keeps ``size`` under S3's part-count limit, rounded to whole MiB."""
    wanted = max(minimum, math.ceil(size / MAX_PARTS))
    return min(maximum, math.ceil(wanted / MB) * MB)


def _code(exc: bex.ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class _S3Upload:
    def __init__(self, store: S3Store, key: str) -> None:
        self.store = store
        self.key = key
        fd, temp = tempfile.mkstemp(prefix=".rockshard-upload-", dir=store.spool_dir)
        self.temp = Path(temp)
        self.file: BinaryIO = os.fdopen(fd, "w+b")

    def commit(self, progress: OnBytes | None = None) -> None:
        self.file.close()
        try:
            self.store.upload_file(self.temp, self.key, progress)
        finally:
            self.temp.unlink(missing_ok=True)

    def abort(self) -> None:
        self.file.close()
        self.temp.unlink(missing_ok=True)


class S3Store:
    """Files under ``s3://{bucket}/{prefix}/{run}/{name}``."""

    def __init__(
        self,
        url: str,
        *,
        endpoint_url: str | None = None,
        jobs: int = 4,
        retry_budget: float | None = None,
        multipart_threshold: int = 64 * MB,
        min_part: int = MIN_PART,
        spool_dir: Path | None = None,
    ) -> None:
        self.bucket, self.prefix = parse_s3_url(url)
        self.url = f"s3://{self.bucket}" + (f"/{self.prefix}" if self.prefix else "")
        self.endpoint_url = endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None
        env_budget = os.environ.get("ROCKSHARD_S3_RETRY_SECONDS")
        self.budget = retry_budget if retry_budget is not None else float(env_budget or 300)
        self.jobs = max(1, jobs)
        self.threshold = multipart_threshold
        self.min_part = min_part
        self.spool_dir = str(spool_dir) if spool_dir else None
        session = boto3.session.Session()
        self.signed = session.get_credentials() is not None
        options: dict[str, Any] = {
            "retries": {"max_attempts": 2, "mode": "standard"},
            "max_pool_connections": max(10, 4 * self.jobs),
            "connect_timeout": 10,
            "read_timeout": 60,
        }
        if not self.signed:
            options["signature_version"] = UNSIGNED
        self.client: S3Client = session.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=session.region_name or "us-east-1",
            config=Config(**options),
        )

    def _key(self, run: str, name: str = "") -> str:
        parts = [p for p in (self.prefix, run, name) if p]
        return "/".join(parts) + ("" if name else "/")

    def _retry(self, op: Callable[[], T], what: str) -> T:
        try:
            return with_retries(op, what, budget=self.budget)
        except bex.NoCredentialsError:
            raise OperationError(
                f"{what}: no AWS credentials (needed to write to {self.url})"
            ) from None
        except bex.ClientError as exc:
            raise OperationError(f"{what}: {_code(exc) or 'error'}: {exc}") from None
        except (bex.BotoCoreError, boto3.exceptions.Boto3Error) as exc:
            raise OperationError(f"{what}: {exc}") from None

    def _transfer(self, size: int, copy: bool = False) -> TransferConfig:
        chunk = part_size(size, self.min_part, MAX_COPY_PART if copy else 512 * MB)
        return TransferConfig(
            multipart_threshold=self.threshold,
            multipart_chunksize=chunk,
            max_concurrency=max(4, 2 * self.jobs),
            io_chunksize=MB,
            use_threads=True,
            preferred_transfer_client="classic",
        )

    def location(self, run: str) -> str:
        return f"s3://{self.bucket}/{self._key(run)}"

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
            return sorted(found)

        return self._retry(op, f"listing {self.url}")

    def read_text(self, run: str, name: str) -> str | None:
        key = self._key(run, name)

        def op() -> str | None:
            try:
                body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
                return body.read().decode("utf-8")
            except bex.ClientError as exc:
                if _code(exc) in ("NoSuchKey", "404", "NotFound"):
                    return None
                raise

        return self._retry(op, f"reading s3://{self.bucket}/{key}")

    def read_tail(self, run: str, name: str, size: int, n: int) -> bytes:
        key = self._key(run, name)
        start = max(0, size - n)

        def op() -> bytes:
            got = self.client.get_object(
                Bucket=self.bucket, Key=key, Range=f"bytes={start}-{size - 1}"
            )
            return got["Body"].read()

        return self._retry(op, f"reading s3://{self.bucket}/{key}")

    def local_path(self, run: str, name: str) -> Path | None:
        return None

    def download(self, run: str, name: str, out: Sink, progress: OnBytes | None = None) -> None:
        key = self._key(run, name)
        done = 0
        etag = ""

        def op() -> None:
            nonlocal done, etag
            extra: dict[str, Any] = {}
            if done:
                extra = {"Range": f"bytes={done}-", "IfMatch": etag}
            got = self.client.get_object(Bucket=self.bucket, Key=key, **extra)
            etag = etag or str(got.get("ETag", ""))
            body = got["Body"]
            try:
                for chunk in body.iter_chunks(MB):
                    out.write(chunk)
                    done += len(chunk)
                    if progress is not None:
                        progress(len(chunk))
            finally:
                body.close()

        self._retry(op, f"downloading s3://{self.bucket}/{key}")

    def begin_upload(self, run: str, name: str) -> _S3Upload:
        return _S3Upload(self, self._key(run, name))

    def upload_file(self, path: Path, key: str, progress: OnBytes | None = None) -> None:
        """Upload a local file (multipart above the threshold); retried as a whole."""
        config = self._transfer(path.stat().st_size)

        def op() -> None:
            self.client.upload_file(str(path), self.bucket, key, Config=config, Callback=progress)

        self._retry(op, f"uploading s3://{self.bucket}/{key}")

    def write_text(self, run: str, name: str, text: str) -> None:
        key = self._key(run, name)
        data = text.encode("utf-8")
        self._retry(
            lambda: self.client.put_object(Bucket=self.bucket, Key=key, Body=data),
            f"writing s3://{self.bucket}/{key}",
        )

    def delete(self, run: str, name: str) -> None:
        key = self._key(run, name)
        self._retry(
            lambda: self.client.delete_object(Bucket=self.bucket, Key=key),
            f"deleting s3://{self.bucket}/{key}",
        )

    def copy(self, src_run: str, name: str, dst_run: str) -> None:
        source = self._key(src_run, name)
        key = self._key(dst_run, name)
        size = int(
            self._retry(
                lambda: self.client.head_object(Bucket=self.bucket, Key=source),
                f"reading s3://{self.bucket}/{source}",
            )["ContentLength"]
        )
        config = self._transfer(size, copy=True)
        self._retry(
            lambda: self.client.copy(
                {"Bucket": self.bucket, "Key": source}, self.bucket, key, Config=config
            ),
            f"copying s3://{self.bucket}/{source}",
        )
