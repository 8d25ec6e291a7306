"""web.session and web.plugs: signed-cookie sessions, CSRF, browser security headers, per-key rate limits.

The router is called as the endpoint calls it; cookies go back and forth
as a browser sends them (the ``set-cookie`` value up to its first ``;``).
"""

import secrets
import time

import itsdangerous
import orjson
import pytest
import trio

from otp.testing import capture_crash_reports
from web import Request
from web.plugs import RateLimit, SecureBrowserHeaders
from web.router import Router, json, text
from web.session import CookieSession, CookieTooLarge, CSRFProtection, csrf_token

SECRET = "a session secret of at least thirty-two characters"
OLD_SECRET = "the secret this site used before, also 32+ chars"


def request(method, path, *, cookie=None, headers=None, body=b"", peer="10.0.0.1"):
    all_headers = dict(headers or {})
    if cookie:
        all_headers["cookie"] = cookie
    return Request(method, path, {}, all_headers, (peer, 5000), body, "")


def cookie_of(response, name="_session"):
    """The ``name=value`` a browser sends back from the response's ``set-cookie``."""
    for line in response.headers.get("set-cookie", "").split("\n"):
        if line.startswith(name + "="):
            return line.split(";")[0]
    return None


def app(store=None, *, csrf=None):
    """A router with a session (and CSRF) pipeline: /show reads, /put writes, /clear empties, /token gives a token."""
    store = store or CookieSession(SECRET)
    pipeline = [store] + ([csrf] if csrf is not None else [])
    site = Router().scope("/", pipe_through=pipeline)

    @site.get("/show")
    async def show(request):
        return json(dict(request.session))

    @site.match(["GET", "POST"], "/put")
    async def put(request):
        request.session["user"] = "ann"
        return text("put")

    @site.get("/clear")
    async def clear(request):
        request.session.clear()
        return text("cleared")

    @site.get("/token")
    async def token(request):
        return text(csrf_token(request))

    @site.match(["POST", "PUT", "PATCH", "DELETE"], "/change")
    async def change(request):
        return text("changed")

    return site.router


def signed_at(secret, data, seconds_ago, salt="cookie session"):
    """A session cookie value as one signed ``seconds_ago`` would be."""

    class Earlier(itsdangerous.TimestampSigner):
        def get_timestamp(self):
            return int(time.time()) - seconds_ago

    return itsdangerous.URLSafeTimedSerializer(secret, salt=salt, signer=Earlier).dumps(data)


# ---------------------------------------------------------------- the session


async def test_a_changed_session_comes_back_as_a_signed_httponly_lax_cookie_and_is_read_on_the_next_request():
    router = app()
    put = await router(request("GET", "/put"))
    [header] = put.headers["set-cookie"].split("\n")
    assert header.endswith("; Path=/; Max-Age=1209600; HttpOnly; SameSite=Lax")
    shown = await router(request("GET", "/show", cookie=cookie_of(put)))
    assert orjson.loads(shown.body) == {"user": "ann"}
    assert "set-cookie" not in shown.headers  # unchanged: nothing sent back


async def test_a_request_without_a_change_gets_no_cookie():
    response = await app()(request("GET", "/show"))
    assert (orjson.loads(response.body), "set-cookie" in response.headers) == ({}, False)


async def test_the_cookie_options_are_its_attributes():
    store = CookieSession(SECRET, key="app", max_age=None, secure=True, same_site="Strict", path="/app", domain="example.com")
    put = await app(store)(request("GET", "/put"))
    assert put.headers["set-cookie"].split("; ", 1)[1] == "Path=/app; Domain=example.com; Secure; HttpOnly; SameSite=Strict"
    assert cookie_of(put, "app") is not None


@pytest.mark.parametrize(
    "cookie",
    [
        pytest.param("_session=garbage", id="not a token"),
        pytest.param("_session=" + signed_at("another secret, also 32 characters long", {"user": "mallory"}, 0), id="other secret"),
        pytest.param("_session=" + signed_at(SECRET, {"user": "ann"}, 15 * 86400), id="expired"),
        pytest.param("_session=" + signed_at(SECRET, ["not", "a", "dict"], 0), id="not a dict"),
        pytest.param("_session=" + signed_at(SECRET, {"user": "ann"}, 0, salt="other salt"), id="other salt"),
    ],
)
async def test_a_cookie_that_is_not_a_valid_session_of_ours_gives_an_empty_session_and_no_log(cookie):
    with capture_crash_reports() as reports:
        response = await app()(request("GET", "/show", cookie=cookie))
    assert (response.status, orjson.loads(response.body)) == (200, {})
    assert reports == []


async def test_a_cookie_signed_with_an_old_secret_is_read_and_sent_back_signed_with_the_new_one():
    store = CookieSession(SECRET, old_secrets=[OLD_SECRET])
    old_cookie = "_session=" + signed_at(OLD_SECRET, {"user": "ann"}, 0)
    response = await app(store)(request("GET", "/show", cookie=old_cookie))
    assert orjson.loads(response.body) == {"user": "ann"}
    renewed = cookie_of(response)
    assert CookieSession(SECRET).read(renewed.split("=", 1)[1]) == {"user": "ann"}  # the new secret alone reads it
    assert CookieSession(OLD_SECRET).read(renewed.split("=", 1)[1]) is None


async def test_a_session_past_half_its_age_is_sent_again_so_an_active_user_stays_logged_in():
    router = app()
    young = await router(request("GET", "/show", cookie="_session=" + signed_at(SECRET, {"user": "ann"}, 86400)))
    older = await router(request("GET", "/show", cookie="_session=" + signed_at(SECRET, {"user": "ann"}, 8 * 86400)))
    assert cookie_of(young) is None
    assert CookieSession(SECRET).read(cookie_of(older).split("=", 1)[1]) == {"user": "ann"}


async def test_clearing_the_session_deletes_the_cookie():
    router = app()
    put = await router(request("GET", "/put"))
    cleared = await router(request("GET", "/clear", cookie=cookie_of(put)))
    assert cleared.headers["set-cookie"] == "_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"


async def test_a_session_too_big_for_a_cookie_raises_cookie_too_large_naming_its_keys():
    site = Router().scope("/", pipe_through=[CookieSession(SECRET)])

    @site.get("/big")
    async def big(request):
        # Random text: the signer compresses what it can, and repeated text would fit.
        request.session["records"] = [{"n": n, "text": secrets.token_hex(16)} for n in range(200)]
        return text("ok")

    with pytest.raises(CookieTooLarge, match=r"over the 4096 browsers keep: store ids in it, not records \(keys: \['records'\]\)"):
        await site.router(request("GET", "/big"))


def test_the_session_refuses_a_short_secret_and_an_unsecured_samesite_none():
    with pytest.raises(ValueError, match="at least 32 characters"):
        CookieSession("short")
    with pytest.raises(ValueError, match="SameSite=None cookie must be secure=True"):
        CookieSession(SECRET, same_site="None")
    with pytest.raises(ValueError, match="max_age is a whole number of seconds"):
        CookieSession(SECRET, max_age=0)


# ---------------------------------------------------------------- CSRF


FORM = {"content-type": "application/x-www-form-urlencoded"}


async def session_and_token(router):
    """A browser's first visit: the session cookie and a CSRF token of that session."""
    page = await router(request("GET", "/token"))
    return cookie_of(page), page.body.decode()


async def test_a_form_post_with_its_sessions_token_passes_and_without_it_is_refused_403():
    router = app(csrf=CSRFProtection())
    cookie, token = await session_and_token(router)
    passed = await router(request("POST", "/change", cookie=cookie, headers=FORM, body=f"_csrf_token={token}&x=1".encode()))
    assert (passed.status, passed.body) == (200, b"changed")
    refused = await router(request("POST", "/change", cookie=cookie, headers=FORM, body=b"x=1"))
    assert refused.status == 403
    assert refused.body == (
        b"403 Forbidden: invalid CSRF token: a POST needs the page's token in the '_csrf_token' field "
        b"or the 'x-csrf-token' header\n"
    )


async def test_every_unsafe_method_is_checked_and_the_header_carries_the_token_too():
    router = app(csrf=CSRFProtection())
    cookie, token = await session_and_token(router)
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        assert (await router(request(method, "/change", cookie=cookie))).status == 403
        passed = await router(request(method, "/change", cookie=cookie, headers={"x-csrf-token": token}))
        assert passed.status == 200


async def test_a_token_is_worth_nothing_with_another_session_or_secret_and_garbage_is_refused_quietly():
    router = app(csrf=CSRFProtection())
    _, token = await session_and_token(router)
    other_cookie, _ = await session_and_token(router)
    foreign = CookieSession("yet another secret, thirty-two chars or more")
    _, foreign_token = await session_and_token(app(foreign))
    with capture_crash_reports() as reports:
        for offered in (token, foreign_token, "garbage", "", "%ff"):
            answer = await router(request("POST", "/change", cookie=other_cookie, headers=FORM, body=f"_csrf_token={offered}".encode()))
            assert answer.status == 403, offered
        bad_form = await router(request("POST", "/change", cookie=other_cookie, headers=FORM, body=b"_csrf_token=%ff%fe"))
    assert bad_form.status == 403
    assert reports == []


async def test_a_multipart_form_carries_its_token_in_a_field():
    router = app(csrf=CSRFProtection())
    cookie, token = await session_and_token(router)
    body = f'--B\r\ncontent-disposition: form-data; name="_csrf_token"\r\n\r\n{token}\r\n--B--\r\n'.encode()
    passed = await router(request("POST", "/change", cookie=cookie, headers={"content-type": "multipart/form-data; boundary=B"}, body=body))
    assert passed.status == 200


async def test_forms_only_lets_json_through_but_checks_what_a_cross_site_page_can_send_unpreflighted():
    router = app(csrf=CSRFProtection(forms_only=True))
    cookie, _ = await session_and_token(router)
    json_post = await router(request("POST", "/change", cookie=cookie, headers={"content-type": "application/json"}, body=b"{}"))
    assert json_post.status == 200
    for content_type in ("application/x-www-form-urlencoded", "multipart/form-data; boundary=B", "text/plain", None):
        headers = {"content-type": content_type} if content_type else {}
        assert (await router(request("POST", "/change", cookie=cookie, headers=headers))).status == 403, content_type


async def test_safe_methods_are_not_checked():
    router = app(csrf=CSRFProtection())
    assert (await router(request("GET", "/show"))).status == 200


async def test_csrf_protection_without_a_session_plug_says_which_plug_is_missing():
    site = Router().scope("/", pipe_through=[CSRFProtection()])
    site.post("/x", lambda request: None)
    with pytest.raises(LookupError, match=r"put web.session.CookieSession\(secret=...\) in the pipeline"):
        await site.router(request("POST", "/x"))


# ---------------------------------------------------------------- secure browser headers


async def test_secure_browser_headers_are_added_and_a_handlers_own_are_kept():
    site = Router().scope("/", pipe_through=[SecureBrowserHeaders(hsts=31536000)])

    @site.get("/")
    async def home(request):
        return text("hi", headers={"x-frame-options": "DENY"})

    response = await site.router(request("GET", "/"))
    assert response.headers == {
        "content-type": "text/plain; charset=utf-8",
        "x-frame-options": "DENY",
        "x-content-type-options": "nosniff",
        "referrer-policy": "strict-origin-when-cross-origin",
        "x-permitted-cross-domain-policies": "none",
        "content-security-policy": "base-uri 'self'; frame-ancestors 'self';",
        "strict-transport-security": "max-age=31536000; includeSubDomains",
    }


async def test_the_content_security_policy_is_an_option_and_none_leaves_it_out():
    strict = Router(plugs=[SecureBrowserHeaders(content_security_policy="default-src 'self'")])
    strict.get("/", lambda request: _ok())
    none = Router(plugs=[SecureBrowserHeaders(content_security_policy=None)])
    none.get("/", lambda request: _ok())
    assert (await strict(request("GET", "/"))).headers["content-security-policy"] == "default-src 'self'"
    assert "content-security-policy" not in (await none(request("GET", "/"))).headers


async def _ok():
    return text("ok")


# ---------------------------------------------------------------- rate limits


async def test_a_client_over_its_rate_gets_429_with_retry_after_and_others_are_unaffected(autojump_clock):
    router = Router(plugs=[RateLimit(1, burst=2)])
    router.get("/", lambda request: _ok())
    assert [(await router(request("GET", "/"))).status for _ in range(2)] == [200, 200]
    limited = await router(request("GET", "/"))
    assert (limited.status, limited.headers["retry-after"]) == (429, "1")
    assert limited.body == b"429 Too Many Requests: at most 1 a second; try again in 1 s\n"
    assert (await router(request("GET", "/", peer="10.0.0.2"))).status == 200  # another address, another bucket
    await trio.sleep(1.0)
    assert (await router(request("GET", "/"))).status == 200
    assert (await router(request("GET", "/"))).status == 429


async def test_the_rate_limit_key_is_any_function_of_the_request_and_none_exempts(autojump_clock):
    by_user = RateLimit(0.5, burst=1, key=lambda request: request.headers.get("x-user"))
    router = Router(plugs=[by_user])
    router.get("/", lambda request: _ok())
    ann = {"x-user": "ann"}
    assert (await router(request("GET", "/", headers=ann))).status == 200
    refused = await router(request("GET", "/", headers=ann, peer="10.9.9.9"))
    assert (refused.status, refused.headers["retry-after"]) == (429, "2")
    assert [(await router(request("GET", "/"))).status for _ in range(5)] == [200] * 5  # no x-user: exempt


def test_a_rate_limit_refuses_a_rate_that_is_not_positive():
    with pytest.raises(ValueError, match="RateLimit's rate must be a number > 0; got 0"):
        RateLimit(0)
    with pytest.raises(ValueError, match="burst must be at least 1"):
        RateLimit(5, burst=0.5)
