"""Form params decoded like Plug's (web/live/_forms.py), as LiveView form events carry them."""

import doctest

import pytest

import web.live._forms
from web.live._forms import decode_form, split_name


def test_doctests():
    assert doctest.testmod(web.live._forms).failed == 0


@pytest.mark.parametrize(
    "name, path",
    [("a", ["a"]), ("user[name]", ["user", "name"]), ("user[address][city]", ["user", "address", "city"]), ("tags[]", ["tags", ""])],
)
def test_split_name(name, path):
    assert split_name(name) == path


@pytest.mark.parametrize(
    "body, params",
    [
        ("", {}),
        ("a=1&b=", {"a": "1", "b": ""}),
        ("user%5Bname%5D=J%C3%BCrgen+K", {"user": {"name": "Jürgen K"}}),
        ("user[name]=x&user[email]=y", {"user": {"name": "x", "email": "y"}}),
        ("tags[]=a&tags[]=b", {"tags": ["a", "b"]}),
        ("a=1&a=2", {"a": "2"}),
        ("a[b][c]=1&a[b][d]=2&a[e]=3", {"a": {"b": {"c": "1", "d": "2"}, "e": "3"}}),
        ("user[_unused_name]=&user[name]=", {"user": {"_unused_name": "", "name": ""}}),
    ],
)
def test_decode_form(body, params):
    assert decode_form(body) == params


def test_meta_is_merged_and_the_target_split():
    assert decode_form("q=x", {"_target": "q", "extra": "1"}) == {"q": "x", "_target": ["q"], "extra": "1"}
    assert decode_form("q=x", {"_target": "undefined"}) == {"q": "x", "_target": []}
