"""S3Store specifics: URLs, part sizes, multipart copy, unsigned reads, bounded retries."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import boto3
import botocore.exceptions as bex
import pytest

from action_lib.errors import InputError, OperationError
from action_lib.stores.s3 import MB, S3Store, parse_s3_url, part_size, retryable, with_retries
from tests.s3_server import free_port


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("s3://bucket/a/b/", ("bucket", "a/b")),
        ("s3://bucket", ("bucket", "")),
        ("s3://b-1/p", ("b-1", "p")),
    ],
    ids=["prefix", "no-prefix", "short"],
)
def test_parse_s3_url(url: str, expected: tuple[str, str]) -> None:
    assert parse_s3_url(url) == expected


@pytest.mark.parametrize(
    "url", ["s3:///prefix", "http://x/y", "s3://"], ids=["no-bucket", "http", "empty"]
)
def test_bad_s3_urls(url: str) -> None:
    with pytest.raises(InputError):
        parse_s3_url(url)


def test_part_size_stays_under_the_part_limit() -> None:
    assert part_size(10 * MB) == 8 * MB
    huge = 600 * 1024 * MB  # 600 GB
    assert huge / part_size(huge) <= 10_000
    assert part_size(50 * 1024**4) == 5 * 1024 * MB  # capped at S3's largest part


def _client_error(code: str, status: int) -> bex.ClientError:
    response: Any = {"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return bex.ClientError(response, "GetObject")


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (_client_error("SlowDown", 503), True),
        (_client_error("InternalError", 500), True),
        (_client_error("Whatever", 502), True),
        (_client_error("TooManyRequests", 429), True),
        (bex.EndpointConnectionError(endpoint_url="http://x"), True),
        (_client_error("NoSuchKey", 404), False),
        (_client_error("AccessDenied", 403), False),
        (ValueError("x"), False),
    ],
    ids=["throttle", "500", "502", "429", "connection", "404", "403", "other"],
)
def test_retryable(exc: BaseException, expected: bool) -> None:
    assert retryable(exc) is expected


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def __call__(self) -> float:
        return self.now


def test_retries_back_off_then_succeed() -> None:
    clock = FakeClock()
    failures = [_client_error("SlowDown", 503)] * 4

    def op() -> str:
        if failures:
            raise failures.pop()
        return "ok"

    assert with_retries(op, "op", budget=100, base=1, sleep=clock.sleep, clock=clock) == "ok"
    assert len(clock.sleeps) == 4
    assert all(0 <= s <= 2**i for i, s in enumerate(clock.sleeps))  # full jitter under 2^n


def test_retries_are_bounded_in_total_time() -> None:
    clock = FakeClock()

    def op() -> None:
        raise bex.ConnectTimeoutError(endpoint_url="http://x")

    with pytest.raises(OperationError, match=r"op: still failing after \d+ attempt\(s\) in 30 s"):
        with_retries(op, "op", budget=30, base=1, sleep=clock.sleep, clock=clock)
    assert clock.now <= 30


def test_permanent_errors_are_not_retried() -> None:
    clock = FakeClock()
    calls = []

    def op() -> None:
        calls.append(1)
        raise _client_error("AccessDenied", 403)

    with pytest.raises(bex.ClientError):
        with_retries(op, "op", budget=30, sleep=clock.sleep, clock=clock)
    assert calls == [1]


@pytest.mark.integration
def test_unreachable_endpoint_fails_within_budget(s3_credentials: dict[str, str]) -> None:
    store = S3Store(
        "s3://bucket/p", endpoint_url=f"http://127.0.0.1:{free_port()}", retry_budget=1.0
    )
    with pytest.raises(OperationError, match="listing s3://bucket/p/1-linux/"):
        store.listing("1-linux")


@pytest.mark.integration
def test_server_side_multipart_copy(s3_bucket: str, moto_endpoint: str, tmp_path: Path) -> None:
    store = S3Store(
        s3_bucket, endpoint_url=moto_endpoint, multipart_threshold=5 * MB, min_part=5 * MB
    )
    data = os.urandom(12 * MB + 123)
    upload = store.begin_upload("1-linux", "big")
    upload.file.write(data)
    upload.commit()
    store.copy("1-linux", "big", "2-linux")
    bucket, prefix = parse_s3_url(s3_bucket)
    client = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")
    for run in ("1-linux", "2-linux"):
        head = client.head_object(Bucket=bucket, Key=f"{prefix}/{run}/big")
        assert head["ContentLength"] == len(data)
        assert head["ETag"].strip('"').endswith("-3")  # three parts: multipart upload and copy
    out = tmp_path / "copy"
    with out.open("wb") as f:
        store.download("2-linux", "big", f)
    assert out.read_bytes() == data


@pytest.mark.integration
def test_unsigned_reads_without_credentials(
    s3_bucket: str, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = S3Store(s3_bucket, endpoint_url=moto_endpoint)
    assert writer.signed
    writer.write_text("1-linux", "x_lib_generic.tar.zst.sha256sum", "a" * 64 + "\n")
    bucket, _ = parse_s3_url(s3_bucket)
    public = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/*",
            },
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:ListBucket",
                "Resource": f"arn:aws:s3:::{bucket}",
            },
        ],
    }
    writer.client.put_bucket_policy(Bucket=bucket, Policy=json.dumps(public))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    reader = S3Store(s3_bucket, endpoint_url=moto_endpoint)
    assert not reader.signed
    assert reader.read_text("1-linux", "x_lib_generic.tar.zst.sha256sum") == "a" * 64 + "\n"
    assert "x_lib_generic.tar.zst.sha256sum" in reader.listing("1-linux")


@pytest.mark.integration
def test_endpoint_from_environment(
    s3_bucket: str, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    store = S3Store(s3_bucket)
    assert store.endpoint_url == moto_endpoint
    assert store.listing("1-linux") == {}
