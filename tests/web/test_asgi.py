"""web.asgi with a real Starlette application mounted under /api of a router, over a real endpoint.

Routes and params, JSON, the scope's root_path/path/client/query, a request
body in pieces, a streaming response that arrives as it is produced, the
lifespan's startup before the endpoint serves and its shutdown when it
stops (and its state in each request), an exception (500, a crash report,
the endpoint unharmed), a client gone in the middle of a stream (no crash
report), and applications with no lifespan or a failing one.
"""

from contextlib import asynccontextmanager

import orjson
import pytest
import trio
from _clients import HTTPClient, open_stream, raw_exchange
from starlette.applications import Starlette
from starlette.responses import JSONResponse, PlainTextResponse, StreamingResponse
from starlette.routing import Route

import otp
from otp import StartError
from otp.testing import assert_down, capture_crash_reports, wait_all_tasks_blocked
from web import Endpoint
from web.asgi import ASGIApp
from web.router import Router, text


class Shop:
    """A Starlette application and what it saw: lifespan events, request body pieces; ``go`` releases the stream."""

    def __init__(self):
        self.events = []
        self.pieces = []
        self.go = trio.Event()
        self.app = Starlette(routes=[
            Route("/items/{id:int}", self.item),
            Route("/echo", self.echo, methods=["POST"]),
            Route("/stream", self.stream),
            Route("/endless", self.endless),
            Route("/boom", self.boom),
        ], lifespan=self.lifespan)

    @asynccontextmanager
    async def lifespan(self, app):
        self.events.append("startup")
        yield {"db": "connected"}
        self.events.append("shutdown")

    async def item(self, request):
        return JSONResponse({
            "id": request.path_params["id"],
            "path": request.scope["path"],
            "root_path": request.scope["root_path"],
            "url_path": request.url.path,
            "query": dict(request.query_params),
            "client": request.client.host,
            "db": request.state.db,
            "header": request.headers.get("x-test"),
        })

    async def echo(self, request):
        async for piece in request.stream():
            if piece:
                self.pieces.append(len(piece))
        return PlainTextResponse(f"{sum(self.pieces)} bytes")

    async def stream(self, request):
        async def pieces():
            yield b"first,"
            await self.go.wait()
            yield b"second"

        return StreamingResponse(pieces(), media_type="text/plain")

    async def endless(self, request):
        async def pieces():
            yield b"x" * 1000
            await self.go.wait()
            while True:
                yield b"y" * 65536

        return StreamingResponse(pieces())

    async def boom(self, request):
        raise RuntimeError("the app broke")


async def start(shop, **options):
    router = Router()
    router.get("/", lambda request: _home())
    router.mount("/api", shop.app, **options)
    endpoint = await Endpoint.start_link(router.http())
    return endpoint, Endpoint.address(endpoint)[1]


async def _home():
    return text("the router's own page")


async def test_routes_params_json_and_the_scope_reach_the_starlette_app_under_its_prefix():
    shop = Shop()
    endpoint, port = await start(shop)
    client = await HTTPClient.open(port)
    response = await client.request("GET", "/api/items/42?colour=red", headers=[("x-test", "yes")])
    assert (response.status, response.headers["content-type"]) == (200, "application/json")
    assert orjson.loads(response.body) == {
        "id": 42, "path": "/api/items/42", "root_path": "/api", "url_path": "/api/items/42",
        "query": {"colour": "red"}, "client": "127.0.0.1", "db": "connected", "header": "yes",
    }
    missing = await client.request("GET", "/api/nothing")
    assert (missing.status, missing.body) == (404, b"Not Found")  # Starlette's own 404
    wrong = await client.request("POST", "/api/items/1")
    assert wrong.status == 405
    home = await client.request("GET", "/")  # the router's routes beside the mount
    assert home.body == b"the router's own page"


async def test_the_lifespan_starts_before_the_endpoint_serves_and_shuts_down_when_it_stops():
    shop = Shop()
    endpoint, _ = await start(shop)
    assert shop.events == ["startup"]
    await Endpoint.stop(endpoint)
    assert shop.events == ["startup", "shutdown"]


async def test_a_request_body_reaches_the_app_in_pieces_within_the_endpoints_limit():
    shop = Shop()
    endpoint, port = await start(shop)
    client = await HTTPClient.open(port)
    body = bytes(200_000)
    response = await client.request("POST", "/api/echo", body=body)
    assert (response.status, response.body) == (200, b"200000 bytes")
    assert shop.pieces == [65536, 65536, 65536, 3392]
    too_big = await raw_exchange(port, b"POST /api/echo HTTP/1.1\r\nhost: x\r\ncontent-length: 2000000\r\n\r\n")
    assert too_big.startswith(b"HTTP/1.1 413 ")  # the endpoint's max_body_size (1 MiB), before the app


async def test_a_streaming_response_arrives_piece_by_piece():
    shop = Shop()
    endpoint, port = await start(shop)
    stream = await open_stream(port)
    await stream.send_all(b"GET /api/stream HTTP/1.1\r\nhost: x\r\n\r\n")
    received = b""
    while b"first," not in received:
        received += await stream.receive_some(65536)
    assert b"second" not in received  # the app has not produced it yet
    assert b"transfer-encoding: chunked" in received.lower()
    shop.go.set()
    while not received.endswith(b"0\r\n\r\n"):
        received += await stream.receive_some(65536)
    assert received.split(b"\r\n\r\n", 1)[1] == b"6\r\nfirst,\r\n6\r\nsecond\r\n0\r\n\r\n"
    await stream.aclose()


async def test_an_exception_in_the_app_is_a_500_and_a_crash_report_and_the_endpoint_serves_on():
    shop = Shop()
    endpoint, port = await start(shop)
    with capture_crash_reports() as reports:
        answer = await raw_exchange(port, b"GET /api/boom HTTP/1.1\r\nhost: x\r\n\r\n")
        await wait_all_tasks_blocked()
    assert answer.startswith(b"HTTP/1.1 500 Internal Server Error\r\n")
    assert answer.endswith(b"\r\n\r\nInternal Server Error")  # Starlette's page
    [report] = [record for record in reports if record.name == "web.http"]
    assert (report.exc_info[0], report.otp_url) == (RuntimeError, "/api/boom")
    client = await HTTPClient.open(port)
    assert (await client.request("GET", "/api/items/1")).status == 200


async def test_a_client_gone_in_the_middle_of_a_stream_ends_the_connection_quietly():
    shop = Shop()
    endpoint, port = await start(shop)
    stream = await open_stream(port)
    await stream.send_all(b"GET /api/endless HTTP/1.1\r\nhost: x\r\n\r\n")
    received = b""
    while b"x" * 1000 not in received:
        received += await stream.receive_some(65536)
    [connection] = await otp.DynamicSupervisor.which_children(Endpoint.connection_supervisor(endpoint))
    ref = otp.monitor(connection.pid)
    with capture_crash_reports() as reports:
        stream.setsockopt(trio.socket.SOL_SOCKET, trio.socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        stream.socket.close()  # a reset, as a client that drops
        shop.go.set()
        await assert_down(ref, otp.NORMAL, timeout=5)
    assert reports == []


async def test_a_path_that_is_not_utf8_is_a_400_before_the_app_runs():
    shop = Shop()
    endpoint, port = await start(shop)
    client = await HTTPClient.open(port)
    response = await client.request("GET", "/api/items/%ff")
    assert response.status == 400
    assert response.body == b"400 the path segment '%ff' is not UTF-8 once percent-decoded; the ASGI application at /api was not called\n"


async def test_a_failing_lifespan_startup_fails_the_endpoints_start_with_the_apps_message():
    @asynccontextmanager
    async def broken(app):
        raise ConnectionError("the database is down")
        yield

    router = Router()
    router.mount("/api", Starlette(lifespan=broken))
    with pytest.raises(StartError) as failed:
        await Endpoint.start_link(router.http())
    assert "the lifespan startup of the ASGI application" in str(failed.value)
    assert "the database is down" in str(failed.value)


async def plain_app(scope, receive, send):
    """An ASGI application that knows only HTTP (no lifespan)."""
    if scope["type"] != "http":
        raise ValueError(f"unsupported scope {scope['type']}")
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"plain " + scope["path"].encode()})


async def test_an_app_without_lifespan_is_served_all_the_same_unless_lifespan_is_required():
    router = Router()
    router.mount("/plain", plain_app)
    endpoint = await Endpoint.start_link(router.http())
    client = await HTTPClient.open(Endpoint.address(endpoint)[1])
    response = await client.request("GET", "/plain/x")
    assert (response.status, response.headers["content-length"], response.body) == (200, "14", b"plain /plain/x")

    strict = Router()
    strict.mount("/plain", plain_app, lifespan=True)
    with pytest.raises(StartError, match="does not speak the lifespan protocol"):
        await Endpoint.start_link(strict.http())


async def test_an_app_that_returns_without_a_response_is_a_500_naming_it():
    async def silent(scope, receive, send):
        if scope["type"] == "lifespan":
            raise ValueError("no lifespan")

    router = Router()
    router.mount("/", silent)
    endpoint = await Endpoint.start_link(router.http())
    with capture_crash_reports() as reports:
        answer = await raw_exchange(Endpoint.address(endpoint)[1], b"GET /x HTTP/1.1\r\nhost: x\r\n\r\n")
        await wait_all_tasks_blocked()
    assert answer.startswith(b"HTTP/1.1 500 ")
    [report] = [record for record in reports if record.name == "web.http"]
    assert "returned without sending a response" in str(report.exc_info[1])


def test_asgi_app_refuses_what_is_not_an_application():
    with pytest.raises(TypeError, match="an ASGI application is a callable"):
        ASGIApp("not an app")
    with pytest.raises(ValueError, match='lifespan is True, False or "auto"'):
        ASGIApp(plain_app, lifespan="yes")


async def test_a_fastapi_app_validates_and_answers_under_its_prefix():
    from fastapi import FastAPI
    from pydantic import BaseModel

    class Item(BaseModel):
        name: str
        price: float

    api = FastAPI()

    @api.post("/items/{shop}")
    async def create(shop: str, item: Item):
        return {"shop": shop, "name": item.name, "total": item.price * 2}

    router = Router()
    router.mount("/v2", api)
    endpoint = await Endpoint.start_link(router.http())
    client = await HTTPClient.open(Endpoint.address(endpoint)[1])
    json_body = [("content-type", "application/json")]
    created = await client.request("POST", "/v2/items/north", headers=json_body, body=b'{"name": "pen", "price": 1.5}')
    assert (created.status, orjson.loads(created.body)) == (200, {"shop": "north", "name": "pen", "total": 3.0})
    invalid = await client.request("POST", "/v2/items/north", headers=json_body, body=b'{"name": "pen"}')
    assert invalid.status == 422
    assert [error["loc"] for error in orjson.loads(invalid.body)["detail"]] == [["body", "price"]]
