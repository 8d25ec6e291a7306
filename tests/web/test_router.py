"""web.router: routes with params and methods, scopes, pipelines of plugs, 404/405/HEAD, errors, responses.

Most tests call the router as the endpoint does (``await router(request)``);
the ones about what goes on the wire (HEAD, a handler's crash, streaming)
run a real endpoint over loopback.
"""

import doctest

import orjson
import pytest
import trio
from _clients import HTTPClient, raw_exchange

import web._request
import web._responses
import web._routes
from otp.testing import capture_crash_reports, wait_all_tasks_blocked
from web import Endpoint, Request, Response, StreamingResponse
from web.live import HTTPError
from web.router import BadRequest, RoutedRequest, Router, UploadedFile, json, redirect, text


def request(method: str, target: str, *, headers: dict | None = None, body: bytes = b"") -> Request:
    path, _, query = target.partition("?")
    from urllib.parse import parse_qsl

    return Request(method, path, dict(parse_qsl(query)), headers or {}, ("10.0.0.1", 5000), body, query)


async def ok(request):
    return text(f"{request.method} {request.path} {dict(request.path_params)}")


def test_the_pure_modules_doctests_pass():
    for module in (web._routes, web._request, web._responses):
        assert doctest.testmod(module).failed == 0


# ---------------------------------------------------------------- routes


async def test_a_route_matches_its_method_and_path_and_gets_its_params_decoded():
    router = Router()
    router.get("/users/:id", ok)
    router.get("/files/*rest", ok)
    router.post("/users", ok)

    response = await router(request("GET", "/users/a%20b"))
    assert (response.status, response.body) == (200, b"GET /users/a%20b {'id': 'a b'}")
    response = await router(request("GET", "/files/x/y%2Fz.txt"))
    assert response.body == b"GET /files/x/y%2Fz.txt {'rest': 'x/y/z.txt'}"
    assert (await router(request("POST", "/users/"))).body == b"POST /users/ {}"


async def test_no_matching_path_is_404_and_a_wrong_method_is_405_with_allow():
    router = Router()
    router.get("/items/:id", ok)
    router.delete("/items/:id", ok)
    router.match(["PUT", "PATCH"], "/items/:id", ok)

    missing = await router(request("GET", "/nothing"))
    assert (missing.status, missing.body) == (404, b"404 not found\n")
    wrong = await router(request("POST", "/items/1"))
    assert (wrong.status, wrong.headers["allow"], wrong.body) == (
        405, "DELETE, GET, HEAD, PATCH, PUT", b"405 method not allowed\n"
    )


async def test_head_is_served_by_the_get_route_and_any_method_by_a_star_route():
    router = Router()
    router.get("/page", ok)
    router.match("*", "/anything", ok)
    assert (await router(request("HEAD", "/page"))).body == b"HEAD /page {}"
    assert (await router(request("PROPFIND", "/anything"))).body == b"PROPFIND /anything {}"


async def test_routes_are_tried_in_the_order_declared():
    router = Router()
    router.get("/users/new", lambda r: _text("the form"))
    router.get("/users/:id", ok)
    assert (await router(request("GET", "/users/new"))).body == b"the form"
    assert (await router(request("GET", "/users/7"))).body == b"GET /users/7 {'id': '7'}"


async def _text(body):
    return text(body)


async def test_route_methods_are_also_decorators_that_return_the_handler():
    router = Router()

    @router.get("/health")
    async def health(request):
        return json({"ok": True})

    assert health.__name__ == "health"
    response = await router(request("GET", "/health"))
    assert (response.status, response.headers["content-type"], response.body) == (200, "application/json", b'{"ok":true}')


def test_a_malformed_route_is_refused_when_declared():
    router = Router()
    with pytest.raises(ValueError, match=r"a \*glob segment must be the last one"):
        router.get("/a/*rest/b", ok)
    with pytest.raises(ValueError, match="names a param twice"):
        router.get("/a/:id/:id", ok)
    with pytest.raises(ValueError, match="is not a param name"):
        router.get("/a/:1x", ok)
    with pytest.raises(ValueError, match="HTTP method names"):
        router.match([], "/a", ok)


async def test_a_path_param_that_is_not_utf8_is_a_400_naming_the_segment():
    router = Router()
    router.get("/users/:id", ok)
    response = await router(request("GET", "/users/%C3%28"))
    assert (response.status, response.body) == (
        400, b"400 the path segment '%C3%28' is not UTF-8 once percent-decoded\n"
    )


# ---------------------------------------------------------------- scopes and pipelines


def tagging(tag: str, log: list):
    async def plug(request, next):
        log.append(f"{tag} in")
        response = await next(request.assign(tags=[*request.assigns.get("tags", []), tag]))
        log.append(f"{tag} out")
        return Response(response.status, {**response.headers, f"x-{tag}": "1"}, response.body)

    return plug


async def test_scopes_prefix_their_routes_and_run_their_pipelines_in_order_around_the_handler():
    log = []
    router = Router(plugs=[tagging("everyone", log)])
    admin = router.scope("/admin", pipe_through=[[tagging("browser", log)], tagging("auth", log)])
    reports = admin.scope("/reports", pipe_through=[tagging("reports", log)])

    @reports.get("/:year")
    async def show(request):
        log.append("handler")
        return text(f"{request.assigns['tags']} {request.path_params['year']}")

    response = await router(request("GET", "/admin/reports/2026"))
    assert response.body == b"['everyone', 'browser', 'auth', 'reports'] 2026"
    assert log == [
        "everyone in", "browser in", "auth in", "reports in", "handler",
        "reports out", "auth out", "browser out", "everyone out",
    ]
    assert {"x-everyone", "x-browser", "x-auth", "x-reports"} <= set(response.headers)


async def test_pipelines_run_only_for_a_matched_route_but_router_plugs_run_for_every_request():
    log = []
    router = Router(plugs=[tagging("everyone", log)])
    router.scope("/", pipe_through=[tagging("browser", log)]).get("/page", ok)
    response = await router(request("GET", "/missing"))
    assert response.status == 404
    assert log == ["everyone in", "everyone out"]


async def test_a_plug_halts_by_answering_without_calling_next():
    async def require_user(request, next):
        if "user" not in request.query:
            return redirect("/login")
        return await next(request.assign(user=request.query["user"]))

    router = Router()
    private = router.scope("/", pipe_through=[require_user])

    @private.get("/me")
    async def me(request):
        return text(request.assigns["user"])

    halted = await router(request("GET", "/me"))
    assert (halted.status, halted.headers["location"], halted.body) == (302, "/login", b"")
    assert (await router(request("GET", "/me?user=ann"))).body == b"ann"


def test_pipe_through_refuses_what_is_not_a_plug():
    with pytest.raises(TypeError, match="pipe_through takes plugs"):
        Router().scope("/", pipe_through=["browser"])


# ---------------------------------------------------------------- errors


async def test_an_exception_with_a_4xx_status_code_is_answered_with_it_and_no_crash_report():
    router = Router()

    @router.get("/items/:id")
    async def item(request):
        raise HTTPError(404, f"no item {request.path_params['id']}")

    @router.post("/items")
    async def create(request):
        return json(request.json(), status=201)

    with capture_crash_reports() as reports:
        missing = await router(request("GET", "/items/9"))
        bad = await router(request("POST", "/items", body=b"{oops"))
    assert (missing.status, missing.body) == (404, b"404 no item 9\n")
    assert bad.status == 400
    assert bad.body.startswith(b"400 the request body is not JSON: ")
    assert reports == []


async def test_a_handler_that_returns_no_response_raises_a_type_error_naming_it():
    router = Router()

    async def forgetful(request):
        return {"not": "a response"}

    router.get("/x", forgetful)
    with pytest.raises(TypeError, match=r"the route handler .*forgetful.* for GET /x must return a web.Response"):
        await router(request("GET", "/x"))


async def test_over_http_a_crashing_handler_is_a_500_and_a_crash_report_and_the_next_connection_is_served():
    router = Router()

    @router.get("/boom")
    async def boom(request):
        raise RuntimeError("the handler broke")

    router.get("/fine", ok)
    endpoint = await Endpoint.start_link(router.http())
    _, port = Endpoint.address(endpoint)
    with capture_crash_reports() as reports:
        answer = await raw_exchange(port, b"GET /boom HTTP/1.1\r\nhost: x\r\n\r\n")
        await wait_all_tasks_blocked()  # (the connection's process ends, and is reported, after the close)
    assert answer.startswith(b"HTTP/1.1 500 Internal Server Error\r\n")
    assert [(report.name, report.otp_url) for report in reports if report.name == "web.http"] == [("web.http", "/boom")]
    assert reports[0].exc_info[0] is RuntimeError
    client = await HTTPClient.open(port)
    response = await client.request("GET", "/fine")
    assert (response.status, response.body) == (200, b"GET /fine {}")
    assert Endpoint.statistics(endpoint).handler_errors == 1


# ---------------------------------------------------------------- over the wire


async def test_over_http_head_sends_the_get_routes_headers_and_no_body_and_json_is_json():
    router = Router()

    @router.get("/users/:id")
    async def user(request):
        return json({"id": int(request.path_params["id"]), "name": "ann"})

    endpoint = await Endpoint.start_link(router.http())
    client = await HTTPClient.open(Endpoint.address(endpoint)[1])
    got = await client.request("GET", "/users/7")
    assert (got.status, got.headers["content-type"], orjson.loads(got.body)) == (200, "application/json", {"id": 7, "name": "ann"})
    head = await client.request("HEAD", "/users/7")
    assert (head.status, head.headers["content-length"], head.body) == (200, str(len(got.body)), b"")
    wrong = await client.request("DELETE", "/users/7")
    assert (wrong.status, wrong.headers["allow"]) == (405, "GET, HEAD")


async def test_over_http_a_streaming_response_arrives_piece_by_piece_chunked():
    go = trio.Event()

    async def pieces():
        yield "first,"
        await go.wait()  # the second piece only once the client has read the first
        yield b"second"

    router = Router()
    router.get("/stream", lambda request: _streaming(pieces()))
    endpoint = await Endpoint.start_link(router.http())
    from _clients import open_stream

    stream = await open_stream(Endpoint.address(endpoint)[1])
    await stream.send_all(b"GET /stream HTTP/1.1\r\nhost: x\r\n\r\n")
    received = b""
    while b"first," not in received:
        received += await stream.receive_some(65536)
    assert b"transfer-encoding: chunked" in received.lower()
    assert b"second" not in received
    go.set()
    while not received.endswith(b"0\r\n\r\n"):
        received += await stream.receive_some(65536)
    assert received.split(b"\r\n\r\n", 1)[1] == b"6\r\nfirst,\r\n6\r\nsecond\r\n0\r\n\r\n"
    await stream.aclose()


async def _streaming(body):
    return StreamingResponse(200, {"content-type": "text/plain"}, body)


async def test_over_http_two_cookies_in_one_response_are_two_set_cookie_headers():
    from web.router import put_cookie

    router = Router()
    router.get("/", lambda request: _two_cookies(put_cookie))
    endpoint = await Endpoint.start_link(router.http())
    answer = await raw_exchange(Endpoint.address(endpoint)[1], b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
    lines = answer.split(b"\r\n\r\n")[0].split(b"\r\n")
    assert [line for line in lines if line.lower().startswith(b"set-cookie")] == [
        b"set-cookie: a=1; Path=/; HttpOnly; SameSite=Lax",
        b"set-cookie: b=2; Path=/; Max-Age=60; HttpOnly; SameSite=Lax",
    ]


async def _two_cookies(put_cookie):
    return put_cookie(put_cookie(text("hi"), "a", "1"), "b", "2", max_age=60)


# ---------------------------------------------------------------- request readers and responses


def test_form_nests_names_as_plug_does_and_reads_multipart_fields_and_files():
    urlencoded = request("POST", "/", headers={"content-type": "application/x-www-form-urlencoded"},
                         body=b"user[email]=a%40b.c&tags[]=x&tags[]=y")
    assert RoutedRequest.of(urlencoded).form() == {"user": {"email": "a@b.c"}, "tags": ["x", "y"]}
    body = (
        b"--XX\r\ncontent-disposition: form-data; name=\"user[name]\"\r\n\r\nann\r\n"
        b"--XX\r\ncontent-disposition: form-data; name=\"avatar\"; filename=\"a.png\"\r\n"
        b"content-type: image/png\r\n\r\n\x89PNG\r\n--XX--\r\n"
    )
    multipart = request("POST", "/", headers={"content-type": "multipart/form-data; boundary=XX"}, body=body)
    assert RoutedRequest.of(multipart).form() == {
        "user": {"name": "ann"}, "avatar": UploadedFile("a.png", "image/png", b"\x89PNG")
    }


@pytest.mark.parametrize(
    ("content_type", "body", "message"),
    [
        ("application/x-www-form-urlencoded", b"name=%ff", "the form body is not UTF-8"),
        ("application/x-www-form-urlencoded", b"a" + b"[b]" * 70 + b"=1", "form field name nested deeper than 64 levels"),
        ("multipart/form-data", b"--XX--", "a multipart/form-data body needs a boundary"),
        ("multipart/form-data; boundary=XX", b"--XX\r\n\r\nno disposition\r\n--XX--\r\n", "has no field name"),
    ],
)
def test_a_form_that_cannot_be_read_is_a_bad_request_saying_why(content_type, body, message):
    bad = RoutedRequest.of(request("POST", "/", headers={"content-type": content_type}, body=body))
    with pytest.raises(BadRequest, match=message):
        bad.form()


def test_a_redirect_stays_on_the_site_unless_told_external():
    assert redirect(external="https://example.com/x").headers["location"] == "https://example.com/x"
    assert redirect("/done", status=303).status == 303
    for bad in ("https://evil.example", "//evil.example", "/\\evil.example", "relative"):
        with pytest.raises(ValueError, match="takes a path of this site"):
            redirect(bad)
    with pytest.raises(ValueError, match="one of to= .* or external="):
        redirect()
    with pytest.raises(ValueError, match="a redirect's status is one of"):
        redirect("/", status=200)


def test_the_session_of_a_request_without_a_session_plug_says_how_to_add_one():
    bare = RoutedRequest.of(request("GET", "/"))
    with pytest.raises(LookupError, match=r"put web.session.CookieSession\(secret=...\) in the pipeline"):
        _ = bare.session
