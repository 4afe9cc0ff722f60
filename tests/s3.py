"""An S3-compatible object store on this machine for tests: moto in server mode on 127.0.0.1, one bucket per
test, and the media storage pointed at it (the settings MEDIA_STORAGE=s3 produces)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

MOTO_SERVER = Path(sys.executable).with_name("moto_server")
KEYS = {"access_key": "testing-key", "secret_key": "testing-secret"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def moto_endpoint():
    """moto_server on a free loopback port for the session; its URL."""
    port = _free_port()
    process = subprocess.Popen(
        [str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=1).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError("moto_server did not start") from None
            time.sleep(0.2)
    yield url
    process.terminate()
    process.wait(timeout=10)


def s3_storage_options(endpoint: str, bucket: str, *, expire: int = 300) -> dict:
    """The OPTIONS config/settings/base.py builds for MEDIA_STORAGE=s3, against `endpoint`."""
    return {
        "bucket_name": bucket,
        "endpoint_url": endpoint,
        "region_name": "us-east-1",
        **KEYS,
        "location": "",
        "addressing_style": "path",
        "signature_version": "s3v4",
        "default_acl": None,
        "querystring_auth": True,
        "querystring_expire": expire,
        "file_overwrite": True,
    }


@pytest.fixture
def s3_media(settings, moto_endpoint):
    """Media in a fresh bucket of the moto server; returns (endpoint, bucket, boto3 client)."""
    import boto3

    bucket = f"media-{uuid.uuid4().hex[:12]}"
    client = boto3.client(
        "s3",
        endpoint_url=moto_endpoint,
        region_name="us-east-1",
        aws_access_key_id=KEYS["access_key"],
        aws_secret_access_key=KEYS["secret_key"],
    )
    client.create_bucket(Bucket=bucket)
    settings.MEDIA_STORAGE = "s3"
    settings.MEDIA_SIGNED_URL_SECONDS = 120
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": s3_storage_options(moto_endpoint, bucket, expire=120),
        },
    }
    return moto_endpoint, bucket, client
