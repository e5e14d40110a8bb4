"""What an S3 failure is: transient (and of which kind, for its retry budget) or a refusal.

Refusals of the store itself (missing bucket, access denied, expired or absent credentials,
wrong region, unreachable endpoint) become one line naming the store and what to do.
"""

from __future__ import annotations

import socket

import botocore.exceptions as bex
from urllib3.exceptions import ProtocolError

from action_lib.edges.retry import Budget, RetriesExhaustedError, RetryPolicy, Transient
from action_lib.errors import OperationError

# Throttling is waited out for minutes; a refused connection or an unknown host is not.
S3_RETRY = RetryPolicy(
    {
        "throttled": Budget(attempts=40, seconds=300.0),
        "server": Budget(attempts=20, seconds=300.0),
        "connection": Budget(attempts=12, seconds=120.0),
        "refused": Budget(attempts=3, seconds=10.0),
        "dns": Budget(attempts=2, seconds=5.0),
    },
    base=0.25,
    cap=20.0,
)
_THROTTLE_CODES = {
    "SlowDown",
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "TooManyRequests",
}
_SERVER_CODES = {"InternalError", "ServiceUnavailable", "ServerError"}
_BODY_CODES = {"RequestTimeout", "BadDigest", "IncompleteBody", "XAmzContentSHA256Mismatch"}
_CONNECTION_ERRORS = (
    bex.ConnectionError,
    bex.HTTPClientError,
    bex.IncompleteReadError,
    bex.ResponseStreamingError,
    ProtocolError,
    ConnectionError,
    TimeoutError,
)
_CREDENTIAL_CODES = {
    "ExpiredToken",
    "ExpiredTokenException",
    "TokenRefreshRequired",
    "RequestExpired",
}
_INVALID_KEY_CODES = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken"}
_REGION_CODES = {"PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraint"}


class ShortBodyError(ConnectionError):
    """A response body ended before its announced length."""


def error_code(exc: bex.ClientError) -> str:
    """The S3 error code of a ClientError ("" when none)."""
    return str(exc.response.get("Error", {}).get("Code", ""))


def http_status(exc: bex.ClientError) -> int:
    """The HTTP status of a ClientError (0 when unknown)."""
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo:
        item = todo.pop()
        if item is None or any(item is s for s in seen) or len(seen) > 20:
            continue
        seen.append(item)
        todo += [item.__cause__, item.__context__]
        inner = getattr(item, "kwargs", {}).get("error") if hasattr(item, "kwargs") else None
        if isinstance(inner, BaseException):
            todo.append(inner)
        reason = getattr(item, "reason", None)
        if isinstance(reason, BaseException):
            todo.append(reason)
    return seen


def classify(exc: BaseException) -> Transient | None:
    """The retry kind of an S3 failure: throttled, server, connection, refused or dns; None
    for a permanent one (missing key, access denied, precondition failed, ...)."""
    if isinstance(exc, bex.ClientError):
        code, status = error_code(exc), http_status(exc)
        if code in _THROTTLE_CODES or status in (429, 503):
            return Transient("throttled", detail=f"{code or status}")
        if code in _SERVER_CODES or status in (500, 502, 504):
            return Transient("server", detail=f"{code or 'HTTP'} {status}")
        if code in _BODY_CODES:
            return Transient("connection", detail=code)
        return None
    chain = _chain(exc)
    if isinstance(exc, bex.EndpointConnectionError) or any(
        isinstance(e, (ConnectionRefusedError, socket.gaierror)) for e in chain
    ):
        if any(isinstance(e, socket.gaierror) for e in chain) or "NameResolution" in "".join(
            type(e).__name__ for e in chain
        ):
            return Transient("dns", detail="unknown host")
        if any(isinstance(e, ConnectionRefusedError) for e in chain):
            return Transient("refused", detail="connection refused")
        return Transient("connection")
    if any(isinstance(e, _CONNECTION_ERRORS) for e in chain):
        return Transient("connection")
    return None


def explain(exc: BaseException, what: str, url: str, endpoint: str | None, signed: bool) -> str:
    """One line for a failure that is final: the store, what failed, what to do."""
    where = endpoint or "AWS"
    bucket = url[len("s3://") :].split("/")[0]
    if isinstance(exc, RetriesExhaustedError):
        if exc.kind == "refused":
            return (
                f"{url}: cannot connect to {where} (connection refused, gave up after "
                f"{exc.attempts} attempts): check --endpoint-url or AWS_ENDPOINT_URL, and that "
                "the server is up"
            )
        if exc.kind == "dns":
            return (
                f"{url}: unknown host in endpoint {where} (gave up after {exc.attempts} "
                "attempts): check --endpoint-url or AWS_ENDPOINT_URL"
            )
        return f"{url}: {exc}"
    if isinstance(exc, bex.NoCredentialsError):
        return (
            f"{url}: {what}: no AWS credentials: set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY (or a profile or role), or use a local store"
        )
    if isinstance(exc, bex.ClientError):
        code, status = error_code(exc), http_status(exc)
        if code == "NoSuchBucket":
            return (
                f"{url}: bucket '{bucket}' does not exist at {where}: check --store, "
                "and --endpoint-url or AWS_ENDPOINT_URL"
            )
        if code in _CREDENTIAL_CODES:
            return (
                f"{url}: {what}: the AWS credentials have expired: refresh them (re-run the "
                "credentials step, or `aws sso login`)"
            )
        if code in _INVALID_KEY_CODES:
            return (
                f"{url}: {what}: the AWS credentials are not valid at {where} ({code}): check "
                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or the endpoint"
            )
        if code in _REGION_CODES or status == 301:
            headers = exc.response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
            region = headers.get("x-amz-bucket-region", "")
            hint = f"AWS_REGION={region}" if region else "AWS_REGION to the bucket's region"
            return f"{url}: {what}: bucket '{bucket}' is in another region: set {hint}"
        if code in ("AccessDenied", "AllAccessDisabled", "Forbidden") or status == 403:
            if not signed:
                return (
                    f"{url}: {what}: access denied to anonymous requests (no AWS credentials "
                    "found): set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a role"
                )
            return (
                f"{url}: {what}: access denied: the credentials in use lack permission on "
                f"bucket '{bucket}' (s3:ListBucket, s3:GetObject, s3:PutObject, "
                "s3:DeleteObject, s3:AbortMultipartUpload)"
            )
        message = str(exc.response.get("Error", {}).get("Message", "")) or str(exc)
        return f"{url}: {what}: {code or status}: {message}"
    if isinstance(exc, (bex.BotoCoreError, OperationError)):
        return f"{url}: {what}: {exc}"
    return f"{url}: {what}: {type(exc).__name__}: {exc}"
