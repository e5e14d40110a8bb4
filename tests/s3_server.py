"""A real S3 server on loopback for the store tests: ``moto_server`` on a free port.

Registered from tests/conftest.py (``pytest_plugins``). Fixtures:

- ``moto_endpoint`` (session): starts ``moto_server`` on 127.0.0.1, yields its URL, stops it;
- ``s3_credentials``: fake credentials in the environment (moto accepts any);
- ``s3_bucket``: a fresh bucket, as ``s3://bucket/prefix``;
- ``store_kind`` / ``make_store``: the same tests against LocalStore and S3Store.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from action_lib.stores.base import Store
from action_lib.stores.local import LocalStore
from action_lib.stores.s3 import S3Store

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _moto_command() -> list[str]:
    exe = Path(sys.executable).with_name("moto_server")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("moto_server")
    if found:
        return [found]
    return [sys.executable, "-m", "moto.server"]


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a moto S3 server on loopback, for the whole session."""
    pytest.importorskip("moto.server", reason="moto[server] is not installed")
    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    env = {**os.environ, **FAKE_CREDENTIALS}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*_moto_command(), "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(url + "/moto-api/", timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"moto_server did not start: {log.read_text()[-2000:]}"
                    ) from None
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def s3_credentials(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Fake credentials (moto accepts any), with the shared config files out of the way."""
    for key, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    return dict(FAKE_CREDENTIALS)


@pytest.fixture
def s3_bucket(moto_endpoint: str, s3_credentials: dict[str, str]) -> str:
    """A fresh bucket; returns ``s3://bucket/ci``."""
    import boto3

    name = f"rockshard-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1").create_bucket(
        Bucket=name
    )
    return f"s3://{name}/ci"


@pytest.fixture(params=["local", "s3"], ids=["local", "s3"])
def store_kind(request: pytest.FixtureRequest) -> str:
    """Runs a test once with LocalStore and once with S3Store."""
    if request.param == "s3":
        request.applymarker(pytest.mark.integration)
    return str(request.param)


@pytest.fixture
def store_url(store_kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A ``--store`` value: a local directory, or an ``s3://`` URL on the moto server."""
    if store_kind == "s3":
        return str(request.getfixturevalue("s3_bucket"))
    return str(tmp_path / "store")


@pytest.fixture
def endpoint(store_kind: str, request: pytest.FixtureRequest) -> str | None:
    """The S3 endpoint for S3 tests, None for local ones."""
    return str(request.getfixturevalue("moto_endpoint")) if store_kind == "s3" else None


@pytest.fixture
def make_store(store_url: str, endpoint: str | None) -> Callable[..., Store]:
    """A factory of the store under test (S3 options can be passed through)."""

    def make(**options: object) -> Store:
        if store_url.startswith("s3://"):
            return S3Store(store_url, endpoint_url=endpoint, **options)  # type: ignore[arg-type]
        return LocalStore(Path(store_url))

    return make
