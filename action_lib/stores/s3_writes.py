"""The S3 store's multipart uploads and its probe of conditional writes (a part of S3Store).

A part that fails is sent again alone; a part the server lost (CompleteMultipartUpload says
InvalidPart) is found with ListParts and sent again; an upload that cannot complete is aborted
(else ``rockshard artifacts gc`` aborts it later).
"""

from __future__ import annotations

import contextlib
import math
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import botocore.exceptions as bex

from action_lib.errors import OperationError
from action_lib.stores.base import AlreadyExistsError, OnBytes
from action_lib.stores.s3_errors import error_code, explain

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

T = TypeVar("T")
MB = 1 << 20
MAX_PARTS = 9000  # S3 allows 10000; keep a margin
MIN_PART = 8 * MB
MAX_COPY_PART = 5 * 1024 * MB
DIGEST_KEY = "sha256"  # object metadata: x-amz-meta-sha256
PRECONDITION = ("PreconditionFailed", "412", "ConditionalRequestConflict")
_UNSUPPORTED = ("NotImplemented", "InvalidArgument", "InvalidRequest")


def part_size(size: int, minimum: int = MIN_PART, maximum: int = MAX_COPY_PART) -> int:
    """A part size that keeps ``size`` under S3's part-count limit, rounded to whole MiB."""
    wanted = max(minimum, math.ceil(size / MAX_PARTS))
    return min(maximum, math.ceil(wanted / MB) * MB)


def is_code(exc: BaseException, codes: tuple[str, ...]) -> bool:
    """True when ``exc`` is an S3 error with one of ``codes``."""
    return isinstance(exc, bex.ClientError) and error_code(exc) in codes


class _Writes:
    """Multipart uploads and the conditional-write probe; mixed into S3Store."""

    client: S3Client
    bucket: str
    url: str
    endpoint_url: str | None
    signed: bool
    jobs: int
    min_part: int

    def _key(self, run: str, name: str = "") -> str:
        raise NotImplementedError

    def _where(self, key: str) -> str:
        raise NotImplementedError

    def _retry(self, op: Callable[[], T], what: str, passes: tuple[str, ...] = ()) -> T:
        raise NotImplementedError

    def _notice(self, text: str) -> None:
        raise NotImplementedError

    def _probe(self) -> bool:
        key = self._key("", f".rockshard-probe-{uuid.uuid4().hex[:12]}")
        put = self.client.put_object
        try:
            self._retry(lambda: put(Bucket=self.bucket, Key=key, Body=b"1"), "probing")
            verdict = ""
            try:
                self._retry(
                    lambda: put(Bucket=self.bucket, Key=key, Body=b"2", IfNoneMatch="*"),
                    "probing conditional writes",
                    passes=(*PRECONDITION, *_UNSUPPORTED),
                )
                verdict = "ignores"
            except bex.ClientError as exc:
                verdict = "" if is_code(exc, PRECONDITION) else "refuses"
            if not verdict:
                verdict = self._probe_multipart(key)
        finally:
            self._retry(lambda: self.client.delete_object(Bucket=self.bucket, Key=key), "probing")
        if verdict:
            self._notice(
                f"{self.url}: the endpoint {verdict} conditional writes (If-None-Match: *); "
                "two pushes of one name are told apart by comparing after writing instead"
            )
        return not verdict

    def _probe_multipart(self, key: str) -> str:
        upload_id = self._retry(
            lambda: self.client.create_multipart_upload(Bucket=self.bucket, Key=key)["UploadId"],
            "probing",
        )
        try:
            etag = self._retry(
                lambda: self.client.upload_part(
                    Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=1, Body=b"3"
                )["ETag"],
                "probing",
            )
            self._retry(
                lambda: self.client.complete_multipart_upload(
                    Bucket=self.bucket,
                    Key=key,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": [{"ETag": etag, "PartNumber": 1}]},
                    IfNoneMatch="*",
                ),
                "probing conditional writes",
                passes=(*PRECONDITION, *_UNSUPPORTED),
            )
            return "ignores"
        except bex.ClientError as exc:
            return "" if is_code(exc, PRECONDITION) else "refuses"
        finally:
            self._abort(key, upload_id)

    def _multipart(
        self,
        path: Path,
        key: str,
        size: int,
        meta: dict[str, str],
        cond: dict[str, Any],
        progress: OnBytes | None,
    ) -> str:
        what = f"uploading {self._where(key)}"
        chunk = part_size(size, self.min_part, 512 * MB)
        ranges = [
            (n + 1, off, min(chunk, size - off)) for n, off in enumerate(range(0, size, chunk))
        ]
        upload_id = self._retry(
            lambda: self.client.create_multipart_upload(Bucket=self.bucket, Key=key, Metadata=meta)[
                "UploadId"
            ],
            what,
        )
        etags: dict[int, str] = {}

        def send(number: int, offset: int, length: int) -> None:
            def op() -> str:
                with path.open("rb") as f:
                    f.seek(offset)
                    data = f.read(length)
                got = self.client.upload_part(
                    Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=data
                )
                return str(got["ETag"])

            etags[number] = self._retry(op, f"{what} (part {number} of {len(ranges)})")
            if progress is not None:
                progress(length)

        completed = False
        try:
            todo = ranges
            for _ in range(3):
                with ThreadPoolExecutor(max(1, min(self.jobs, len(todo)))) as pool:
                    for future in [pool.submit(send, *r) for r in todo]:
                        future.result()
                try:
                    etag = self._complete(key, upload_id, etags, cond, what)
                    completed = True
                    return etag
                except bex.ClientError as exc:
                    if is_code(exc, PRECONDITION):
                        raise AlreadyExistsError(f"{self._where(key)} exists") from None
                    if not is_code(exc, ("InvalidPart", "InvalidPartOrder")):
                        raise OperationError(
                            explain(exc, what, self.url, self.endpoint_url, self.signed)
                        ) from None
                    todo = self._lost_parts(key, upload_id, ranges, etags, what)
            raise OperationError(f"{self.url}: {what}: the server kept losing parts")
        finally:
            if not completed:
                self._abort(key, upload_id)

    def _complete(
        self, key: str, upload_id: str, etags: dict[int, str], cond: dict[str, Any], what: str
    ) -> str:
        parts = [{"ETag": etags[n], "PartNumber": n} for n in sorted(etags)]
        state = {"tried": False}

        def op() -> str:
            try:
                state["tried"] = True
                got = self.client.complete_multipart_upload(
                    Bucket=self.bucket,
                    Key=key,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": parts},  # type: ignore[typeddict-item]
                    **cond,
                )
                return str(got.get("ETag", ""))
            except bex.ClientError as exc:
                # A retried completion whose first attempt went through: the upload is gone.
                if is_code(exc, ("NoSuchUpload",)) and state["tried"]:
                    head = self.client.head_object(Bucket=self.bucket, Key=key)
                    return str(head.get("ETag", ""))
                raise

        return self._retry(
            op, what, passes=(*PRECONDITION, "InvalidPart", "InvalidPartOrder", "NoSuchUpload")
        )

    def _lost_parts(
        self,
        key: str,
        upload_id: str,
        ranges: list[tuple[int, int, int]],
        etags: dict[int, str],
        what: str,
    ) -> list[tuple[int, int, int]]:
        def op() -> dict[int, str]:
            have: dict[int, str] = {}
            paginator = self.client.get_paginator("list_parts")
            for page in paginator.paginate(Bucket=self.bucket, Key=key, UploadId=upload_id):
                for part in page.get("Parts", []):
                    have[int(part["PartNumber"])] = str(part["ETag"])
            return have

        have = self._retry(op, what)
        return [r for r in ranges if have.get(r[0]) != etags.get(r[0])]

    def _abort(self, key: str, upload_id: str) -> None:
        with contextlib.suppress(OperationError):  # else left for `rockshard artifacts gc`
            self._retry(
                lambda: self.client.abort_multipart_upload(
                    Bucket=self.bucket, Key=key, UploadId=upload_id
                ),
                f"aborting the upload of {self._where(key)}",
            )
