"""S3Store specifics: URLs, part sizes, multipart copy, unsigned reads, bounded retries."""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path
from typing import Any

import boto3
import botocore.exceptions as bex
import pytest

from action_lib.cli.common import open_run
from action_lib.edges.retry import RetryEvent
from action_lib.errors import InputError, OperationError
from action_lib.settings.layers import Layers
from action_lib.settings.store import store_settings
from action_lib.stores.base import AlreadyExistsError
from action_lib.stores.s3 import MB, S3Store, parse_s3_url, part_size
from action_lib.stores.s3_errors import classify, explain
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


def _refused() -> bex.EndpointConnectionError:
    try:
        try:
            raise ConnectionRefusedError(111, "Connection refused")
        except ConnectionRefusedError as inner:
            raise bex.EndpointConnectionError(endpoint_url="http://x", error=inner) from inner
    except bex.EndpointConnectionError as exc:
        return exc


def _unknown_host() -> bex.EndpointConnectionError:
    try:
        try:
            raise socket.gaierror(-2, "Name or service not known")
        except socket.gaierror as inner:
            raise bex.EndpointConnectionError(endpoint_url="http://x", error=inner) from inner
    except bex.EndpointConnectionError as exc:
        return exc


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (_client_error("SlowDown", 503), "throttled"),
        (_client_error("InternalError", 500), "server"),
        (_client_error("Whatever", 502), "server"),
        (_client_error("TooManyRequests", 429), "throttled"),
        (_client_error("RequestTimeout", 400), "connection"),
        (bex.ReadTimeoutError(endpoint_url="http://x"), "connection"),
        (bex.ConnectionClosedError(endpoint_url="http://x"), "connection"),
        (_refused(), "refused"),
        (_unknown_host(), "dns"),
        (_client_error("NoSuchKey", 404), None),
        (_client_error("AccessDenied", 403), None),
        (_client_error("PreconditionFailed", 412), None),
        (ValueError("x"), None),
    ],
    ids=[
        "throttle",
        "500",
        "502",
        "429",
        "request-timeout",
        "read-timeout",
        "reset",
        "refused",
        "dns",
        "404",
        "403",
        "412",
        "other",
    ],
)
def test_classify(exc: BaseException, expected: str | None) -> None:
    got = classify(exc)
    assert (got.kind if got else None) == expected


@pytest.mark.parametrize(
    ("exc", "signed", "expected"),
    [
        (_client_error("NoSuchBucket", 404), True, "bucket 'b' does not exist at http://e"),
        (_client_error("AccessDenied", 403), True, "access denied: the credentials in use"),
        (_client_error("AccessDenied", 403), False, "anonymous requests (no AWS credentials"),
        (_client_error("ExpiredToken", 400), True, "credentials have expired: refresh them"),
        (_client_error("InvalidAccessKeyId", 403), True, "credentials are not valid"),
        (_client_error("PermanentRedirect", 301), True, "is in another region"),
        (bex.NoCredentialsError(), False, "no AWS credentials: set AWS_ACCESS_KEY_ID"),
    ],
    ids=["no-bucket", "denied", "anonymous", "expired", "bad-key", "region", "no-credentials"],
)
def test_refusals_are_one_line_naming_the_store(
    exc: BaseException, signed: bool, expected: str
) -> None:
    line = explain(exc, "listing", "s3://b/p", "http://e", signed)
    assert line.startswith("s3://b/p: ")
    assert expected in line
    assert "\n" not in line


@pytest.mark.integration
def test_unreachable_endpoint_fails_within_budget(s3_credentials: dict[str, str]) -> None:
    retries: list[RetryEvent] = []
    store = S3Store(
        "s3://bucket/p", endpoint_url=f"http://127.0.0.1:{free_port()}", on_retry=retries.append
    )
    start = time.monotonic()
    with pytest.raises(
        OperationError,
        match=r"s3://bucket/p: cannot connect to http://127\.0\.0\.1:\d+ \(connection refused",
    ):
        store.listing("1-linux")
    assert time.monotonic() - start < 15  # the refused budget, not the throttling one
    assert [r.kind for r in retries] == ["refused", "refused"]
    assert "listing s3://bucket/p/1-linux/" in retries[0].format()


@pytest.mark.integration
def test_unknown_host_gives_up_at_once(s3_credentials: dict[str, str]) -> None:
    store = S3Store("s3://bucket/p", endpoint_url="http://no-such-host.invalid:9")
    with pytest.raises(OperationError, match="unknown host in endpoint http://no-such-host"):
        store.listing("1-linux")


@pytest.mark.integration
def test_missing_bucket_is_one_line(moto_endpoint: str, s3_credentials: dict[str, str]) -> None:
    store = S3Store("s3://no-such-bucket-here/p", endpoint_url=moto_endpoint)
    with pytest.raises(OperationError, match="bucket 'no-such-bucket-here' does not exist"):
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
def test_endpoint_and_retry_budget_from_the_environment(
    s3_bucket: str, moto_endpoint: str, tmp_path: Path
) -> None:
    """The settings layer reads AWS_ENDPOINT_URL and ROCKSHARD_S3_RETRY_SECONDS; the store
    reads no environment."""
    environ = {"AWS_ENDPOINT_URL": moto_endpoint, "ROCKSHARD_S3_RETRY_SECONDS": "30"}
    settings = store_settings(Layers(flags={"store": s3_bucket}, environ=environ))
    store = open_run(settings).store
    assert isinstance(store, S3Store)
    assert store.endpoint_url == moto_endpoint
    assert store.policy.budget("throttled").seconds == 30.0  # the patient kinds: 300 -> 30
    assert store.policy.budget("refused").seconds == 10.0  # the quick ones stay quick
    assert store.listing("1-linux") == {}


@pytest.mark.integration
def test_conditional_writes_are_probed_and_enforced(s3_bucket: str, moto_endpoint: str) -> None:
    store = S3Store(
        s3_bucket, endpoint_url=moto_endpoint, multipart_threshold=5 * MB, min_part=5 * MB
    )
    assert store.conditional_writes  # this moto honours If-None-Match: * on both writes
    store.write_text("1-linux", "x", "1", if_absent=True)
    with pytest.raises(AlreadyExistsError):
        store.write_text("1-linux", "x", "2", if_absent=True)
    for size in (1000, 11 * MB):
        name = f"blob-{size}"
        first = store.begin_upload("1-linux", name)
        first.file.write(b"a" * size)
        first.commit(digest="d" * 64, if_absent=True)
        second = store.begin_upload("1-linux", name)
        second.file.write(b"b" * size)
        with pytest.raises(AlreadyExistsError):
            second.commit(digest="e" * 64, if_absent=True)
        second.abort()
        info = store.stat("1-linux", name)
        assert info is not None and info.digest == "d" * 64 and info.size == size
    assert store.read_text("1-linux", "x") == "1"
    assert not store.client.list_multipart_uploads(Bucket=store.bucket).get("Uploads")
