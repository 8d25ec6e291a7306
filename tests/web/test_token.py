"""web.token: Phoenix.Token's semantics (salt, max_age) on itsdangerous."""

import time

import pytest

from web.token import InvalidToken, sign, verify

SECRET = "a long secret for the tests"


def test_a_token_verifies_to_its_data():
    token = sign(SECRET, "user socket", {"user_id": 42})
    assert isinstance(token, str) and "." in token
    assert verify(SECRET, "user socket", token) == {"user_id": 42}


@pytest.mark.parametrize(
    "secret, salt, tamper",
    [("another secret entirely", "user socket", False), (SECRET, "other salt", False), (SECRET, "user socket", True)],
    ids=["wrong secret", "wrong salt", "tampered"],
)
def test_a_token_for_anything_else_is_invalid(secret, salt, tamper):
    token = sign(SECRET, "user socket", {"user_id": 42})
    if tamper:
        token = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    with pytest.raises(InvalidToken) as raised:
        verify(secret, salt, token)
    assert raised.value.reason == "invalid"


@pytest.mark.parametrize("token", [None, ""])
def test_a_missing_token_is_missing(token):
    with pytest.raises(InvalidToken) as raised:
        verify(SECRET, "user socket", token)
    assert raised.value.reason == "missing"


def test_an_old_token_is_expired(monkeypatch):
    token = sign(SECRET, "user socket", "data")
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 120)
    with pytest.raises(InvalidToken) as raised:
        verify(SECRET, "user socket", token, max_age=60)
    assert raised.value.reason == "expired"
    assert verify(SECRET, "user socket", token, max_age=600) == "data"


def test_an_empty_secret_is_refused():
    with pytest.raises(ValueError, match="must not be empty"):
        sign("", "s", 1)
