"""A presigned S3 ``PUT`` URL, for external uploads, in a few lines of the standard library.

An external upload (``allow_upload(..., external=...)``) needs a URL the
browser may send one file to. S3 and the services that speak its API
(MinIO, Ceph, R2, ...) accept a *presigned* URL: the request's parameters
signed with the account's secret key (AWS Signature Version 4, in the query
string), valid for ``expires`` seconds::

    def presign(entry, socket):
        key = f"uploads/{entry.ref}/{entry.client_name}"
        url = presigned_put_url("my-bucket", key, region="eu-west-3",
                                access_key=KEY_ID, secret_key=SECRET_KEY)
        return {"uploader": "S3", "key": key, "url": url}

The URL is path-style (``<endpoint>/<bucket>/<key>``) and signs only the
``host`` header, so the browser may send any ``content-type``. The
signature is the one AWS's own SDK computes (the tests compare them).
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
from urllib.parse import quote, urlsplit

__all__ = ["presigned_put_url"]

_ALGORITHM = "AWS4-HMAC-SHA256"


def presigned_put_url(
    bucket: str,
    key: str,
    *,
    access_key: str,
    secret_key: str,
    region: str = "us-east-1",
    endpoint: str | None = None,
    expires: int = 3600,
    now: datetime.datetime | None = None,
) -> str:
    """A URL that lets its holder ``PUT`` one object, ``key`` in ``bucket``, for ``expires`` seconds.

    Args:
        bucket, key: where the object goes (the key may hold ``/``).
        access_key, secret_key: the credentials that sign (the secret never leaves the server).
        region: the bucket's region.
        endpoint: the service's base URL; by default AWS's, ``https://s3.<region>.amazonaws.com``.
        expires: seconds the URL is valid, 1 to 604800 (7 days).
        now: the signing time (UTC), for tests; by default the current time.

    Raises:
        ValueError: ``expires`` out of range, or an endpoint that is not an http(s) URL.
    """
    if not 1 <= expires <= 604800:
        raise ValueError(f"expires must be 1 to 604800 seconds (S3's limit); got {expires}")
    base = (endpoint or f"https://s3.{region}.amazonaws.com").rstrip("/")
    host = urlsplit(base).netloc
    if not host or urlsplit(base).scheme not in ("http", "https"):
        raise ValueError(f"endpoint must be an http(s) URL such as https://s3.eu-west-3.amazonaws.com; got {endpoint!r}")
    moment = (now or datetime.datetime.now(datetime.UTC)).strftime("%Y%m%dT%H%M%SZ")
    scope = f"{moment[:8]}/{region}/s3/aws4_request"
    path = quote(f"{urlsplit(base).path}/{bucket}/{key}", safe="/-_.~")
    query = _query({
        "X-Amz-Algorithm": _ALGORITHM,
        "X-Amz-Credential": f"{access_key}/{scope}",
        "X-Amz-Date": moment,
        "X-Amz-Expires": str(expires),
        "X-Amz-SignedHeaders": "host",
    })
    canonical = "\n".join(["PUT", path, query, f"host:{host}", "", "host", "UNSIGNED-PAYLOAD"])
    to_sign = "\n".join([_ALGORITHM, moment, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    signature = hmac.new(_signing_key(secret_key, scope), to_sign.encode(), hashlib.sha256).hexdigest()
    return f"{base.removesuffix(urlsplit(base).path)}{path}?{query}&X-Amz-Signature={signature}"


def _query(params: dict[str, str]) -> str:
    """The canonical query string: sorted, every byte but ``A-Za-z0-9-_.~`` percent-encoded."""
    return "&".join(f"{quote(name, safe='-_.~')}={quote(value, safe='-_.~')}" for name, value in sorted(params.items()))


def _signing_key(secret_key: str, scope: str) -> bytes:
    """The key SigV4 derives for one day, region and service: HMACs chained from the secret."""
    key = ("AWS4" + secret_key).encode()
    for part in scope.split("/"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key
