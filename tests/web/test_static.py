"""web.static: files with their types, ETags and dates; 304s; precompressed variants; paths that stay inside.

Real files in a temporary directory; the plug sits in a router whose only
route answers ``next`` for what the plug passes on.
"""

import doctest
import email.utils
import gzip
import os

import pytest
from _clients import HTTPClient, raw_exchange

import web.static
from otp.testing import capture_crash_reports
from web import Endpoint, Request
from web.router import Router, text
from web.static import IMMUTABLE, Static


GZIPPED = gzip.compress(b"console.log('hi')", mtime=0)  # (no time in it: the same bytes whenever made)


@pytest.fixture
def site(tmp_path):
    root = tmp_path / "static"
    (root / "css").mkdir(parents=True)
    (root / "css" / "app.css").write_text("body { color: red }")
    (root / "app.js").write_text("console.log('hi')")
    (root / "app.js.gz").write_bytes(GZIPPED)
    (root / "app.js.br").write_bytes(b"brotli bytes")
    (root / "logo.svg").write_text("<svg/>")
    (root / "a b.txt").write_text("spaced")
    (tmp_path / "secret.txt").write_text("outside the root")
    os.symlink(tmp_path / "secret.txt", root / "escape.txt")
    os.symlink(root / "css" / "app.css", root / "inside.css")
    os.utime(root / "css" / "app.css", (1_700_000_000, 1_700_000_000))
    return root


def router_for(root, **options):
    router = Router(plugs=[Static(root, at="/assets", **options)])
    router.match("*", "/*rest", lambda request: _passed(request))
    return router


async def _passed(request):
    return text(f"next: {request.method} {request.path}", status=404)


def get(path, headers=None, method="GET"):
    target, _, query = path.partition("?")
    return Request(method, target, dict(p.split("=", 1) for p in query.split("&") if p), headers or {}, ("127.0.0.1", 1), b"", query)


def test_the_module_doctests_pass():
    assert doctest.testmod(web.static).failed == 0


async def test_a_file_is_served_with_its_type_etag_date_and_caching_headers(site):
    response = await router_for(site)(get("/assets/css/app.css"))
    info = os.stat(site / "css" / "app.css")
    assert (response.status, response.body) == (200, b"body { color: red }")
    assert response.headers == {
        "content-type": "text/css; charset=utf-8",
        "etag": f'"{info.st_size:x}-{info.st_mtime_ns:x}"',
        "last-modified": "Tue, 14 Nov 2023 22:13:20 GMT",
        "cache-control": "public",
        "vary": "accept-encoding",
    }


@pytest.mark.parametrize(
    ("name", "content_type"),
    [("logo.svg", "image/svg+xml; charset=utf-8"), ("app.js", "text/javascript; charset=utf-8"), ("a%20b.txt", "text/plain; charset=utf-8")],
)
async def test_content_types_come_from_the_extension(site, name, content_type):
    response = await router_for(site)(get(f"/assets/{name}"))
    assert (response.status, response.headers["content-type"]) == (200, content_type)


async def test_a_vsn_parameter_makes_the_answer_immutable_and_options_add_headers_and_types(site):
    (site / "data.dat").write_text("x")
    router = router_for(site, headers={"X-Served-By": "static"}, content_types={".dat": "application/x-dat"})
    response = await router(get("/assets/data.dat?vsn=abc123"))
    assert (response.headers["cache-control"], response.headers["x-served-by"]) == (IMMUTABLE, "static")
    assert response.headers["content-type"] == "application/x-dat"


async def test_if_none_match_with_its_etag_or_star_is_304_without_a_body(site):
    router = router_for(site)
    etag = (await router(get("/assets/css/app.css"))).headers["etag"]
    for offered in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        response = await router(get("/assets/css/app.css", {"if-none-match": offered}))
        assert (response.status, response.body, response.headers["etag"]) == (304, b"", etag), offered
        assert "content-type" not in response.headers
    changed = await router(get("/assets/css/app.css", {"if-none-match": '"an older version"'}))
    assert changed.status == 200


async def test_if_modified_since_is_304_when_the_file_is_not_newer_and_a_bad_date_is_ignored(site):
    router = router_for(site)
    same = await router(get("/assets/css/app.css", {"if-modified-since": "Tue, 14 Nov 2023 22:13:20 GMT"}))
    older = await router(get("/assets/css/app.css", {"if-modified-since": "Mon, 13 Nov 2023 00:00:00 GMT"}))
    garbage = await router(get("/assets/css/app.css", {"if-modified-since": "yesterday-ish"}))
    assert [same.status, older.status, garbage.status] == [304, 200, 200]
    etag_wins = await router(get("/assets/css/app.css", {"if-none-match": '"no"', "if-modified-since": email.utils.formatdate(2e9, usegmt=True)}))
    assert etag_wins.status == 200  # If-None-Match decides when both are given


@pytest.mark.parametrize(
    ("accept_encoding", "body", "encoding"),
    [
        ("gzip, deflate, br", b"brotli bytes", "br"),
        ("gzip", GZIPPED, "gzip"),
        ("br;q=0, gzip;q=0.8", GZIPPED, "gzip"),
        ("identity", b"console.log('hi')", None),
        ("", b"console.log('hi')", None),
    ],
)
async def test_a_precompressed_variant_is_served_to_a_client_that_accepts_it(site, accept_encoding, body, encoding):
    response = await router_for(site)(get("/assets/app.js", {"accept-encoding": accept_encoding}))
    assert (response.body, response.headers.get("content-encoding")) == (body, encoding)
    assert (response.headers["content-type"], response.headers["vary"]) == ("text/javascript; charset=utf-8", "accept-encoding")


async def test_each_variant_has_its_own_etag_and_variants_can_be_turned_off(site):
    router = router_for(site)
    tags = {(await router(get("/assets/app.js", {"accept-encoding": each}))).headers["etag"] for each in ("br", "gzip", "")}
    assert len(tags) == 3
    plain = await router_for(site, gzip=False, brotli=False)(get("/assets/app.js", {"accept-encoding": "br, gzip"}))
    assert (plain.body, "vary" in plain.headers, "content-encoding" in plain.headers) == (b"console.log('hi')", False, False)


@pytest.mark.parametrize(
    "path",
    ["/assets/../secret.txt", "/assets/css/%2E%2E/%2E%2E/secret.txt", "/assets/%2e%2e%2fsecret.txt", "/assets/..%5Csecret.txt",
     "/assets/app.js%00.css", "/assets/%ff.js", "/assets/./app.js"],
)
async def test_a_path_that_could_step_out_of_the_root_is_a_400_and_no_crash(site, path):
    with capture_crash_reports() as reports:
        response = await router_for(site)(get(path))
    assert response.status == 400
    assert response.body.startswith(b"400 invalid static file path: ")
    assert reports == []


async def test_a_symlink_out_of_the_root_is_not_served_but_one_inside_is(site):
    router = router_for(site)
    escaped = await router(get("/assets/escape.txt"))
    assert (escaped.status, escaped.body) == (404, b"next: GET /assets/escape.txt")
    assert (await router(get("/assets/inside.css"))).body == b"body { color: red }"


async def test_what_the_plug_does_not_serve_goes_on_to_the_next_plug(site):
    router = router_for(site)
    for method, path in [("GET", "/assets/missing.css"), ("GET", "/assets/css"), ("GET", "/assets"), ("POST", "/assets/app.js"), ("GET", "/elsewhere/app.js")]:
        response = await router(get(path, method=method))
        assert response.body == f"next: {method} {path}".encode(), path


def test_the_root_must_be_a_directory(tmp_path):
    with pytest.raises(ValueError, match="Static serves a directory; .* is not one"):
        Static(tmp_path / "nothing")


async def test_over_http_head_has_the_length_and_no_body_and_a_big_file_streams_whole(site):
    big = os.urandom(300_000)
    (site / "big.bin").write_bytes(big)
    endpoint = await Endpoint.start_link(router_for(site).http())
    client = await HTTPClient.open(Endpoint.address(endpoint)[1])
    head = await client.request("HEAD", "/assets/big.bin")
    assert (head.status, head.headers["content-length"], head.body) == (200, "300000", b"")
    got = await client.request("GET", "/assets/big.bin")
    assert (got.status, got.headers["content-length"], got.headers["content-type"]) == (200, "300000", "application/octet-stream")
    assert got.body == big
    small = await client.request("GET", "/assets/css/app.css")
    assert (small.status, small.body) == (200, b"body { color: red }")


async def test_over_http_a_304_carries_no_body(site):
    router = router_for(site)
    etag = (await router(get("/assets/css/app.css"))).headers["etag"]
    endpoint = await Endpoint.start_link(router.http())
    answer = await raw_exchange(
        Endpoint.address(endpoint)[1],
        f"GET /assets/css/app.css HTTP/1.1\r\nhost: x\r\nif-none-match: {etag}\r\nconnection: close\r\n\r\n".encode(),
    )
    assert answer.startswith(b"HTTP/1.1 304 Not Modified\r\n")
    assert answer.endswith(b"\r\n\r\n")
