"""A real S3-compatible server for the external-upload tests: moto's, in server mode, on a free port.

``s3_server()`` starts it (in a thread of its own: it is a Werkzeug server),
creates an empty bucket, and yields an :class:`S3` that presigns with
:func:`web.live.presigned_put_url` and reads objects back with boto3. In CI
a missing moto or boto3 (``pip install -e '.[dev]'`` installs both) fails
the test; elsewhere it skips.
"""

from __future__ import annotations

import contextlib
import os
import secrets

import pytest

from web.live import presigned_put_url

ACCESS_KEY, SECRET_KEY, REGION = "test-access-key", "test-secret-key", "eu-west-3"


class S3:
    """The running server: its endpoint, a bucket, and boto3 to read what was stored."""

    def __init__(self, endpoint: str, bucket: str, client) -> None:
        self.endpoint, self.bucket, self.client = endpoint, bucket, client

    def presign(self, key: str) -> str:
        return presigned_put_url(
            self.bucket, key, access_key=ACCESS_KEY, secret_key=SECRET_KEY, region=REGION, endpoint=self.endpoint, expires=300
        )

    def object(self, key: str) -> tuple[bytes, str]:
        """``(body, content type)`` of a stored object."""
        stored = self.client.get_object(Bucket=self.bucket, Key=key)
        return stored["Body"].read(), stored["ContentType"]

    def keys(self) -> list[str]:
        return [item["Key"] for item in self.client.list_objects_v2(Bucket=self.bucket).get("Contents", [])]


@contextlib.contextmanager
def s3_server():
    try:
        import boto3
        from moto.server import ThreadedMotoServer
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("CI needs moto[server] and boto3 (pip install -e '.[dev]')")
        pytest.skip("needs moto[server] and boto3 (the dev extra)")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        client = boto3.client(
            "s3", endpoint_url=endpoint, region_name=REGION, aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY
        )
        bucket = f"uploads-{secrets.token_hex(4)}"
        client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        yield S3(endpoint, bucket, client)
    finally:
        server.stop()
