"""web/live/_forms.py: form params decoded like Plug's, as LiveView form events carry them, and the
Form a template renders from them (to_form, fields, used_input, nested forms)."""

import doctest

import attrs
import pytest

import web.live._forms
from web.live import Form, FormField, to_form, used_input
from web.live._forms import decode_form, nested_forms, split_name


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


# ---------------------------------------------------------------------------
# Forms: to_form, fields, used_input, nested forms (issue #16)


def test_a_form_of_params_names_its_inputs():
    form = to_form({"email": "a@b.c"}, as_="user")
    assert form["email"] == FormField(form, "email", "user[email]", "user_email", "a@b.c", [])
    assert form["missing"].value is None
    bare = to_form({"q": "x"})
    assert (bare["q"].name, bare["q"].id) == ("q", "q")
    assert to_form({}, as_="user", id="signup")["email"].id == "signup_email"


def test_values_come_from_the_params_then_the_data():
    record = {"title": "milk", "done": False}
    form = to_form({"title": "eggs"}, as_="todo", data=record)
    assert (form["title"].value, form["done"].value) == ("eggs", False)

    class Todo:
        title = "bread"

    assert to_form(None, data=Todo())["title"].value == "bread"


def test_errors_are_lists_of_messages():
    form = to_form({}, errors={"a": "one", "b": ["x", "y"], "nested": {"c": "z"}})
    assert (form["a"].errors, form["b"].errors, form["nested"].errors, form["none"].errors) == (["one"], ["x", "y"], [], [])


def test_to_form_of_a_form_changes_what_is_given():
    form = to_form({"a": "1"}, as_="user", action="validate", kind="signup")
    again = to_form(form, errors={"a": "bad"})
    assert (again.name, again.id, again.params, again.action, again["a"].errors) == ("user", "user", {"a": "1"}, "validate", ["bad"])
    renamed = to_form(form, as_="member", extra=1)
    assert (renamed.name, renamed.id, renamed.options) == ("member", "member", {"kind": "signup", "extra": 1})
    assert to_form(form) == form


def test_a_changeset_of_your_own_is_a_source():
    @attrs.define
    class Changeset:
        params: dict
        errors: dict
        action: str = "save"

    form = to_form(Changeset({"name": ""}, {"name": "can't be blank"}), as_="user")
    assert (form["name"].errors, form.action) == (["can't be blank"], "save")


def test_to_form_refuses_what_it_cannot_read():
    with pytest.raises(TypeError) as caught:
        to_form(42)
    assert str(caught.value) == "to_form() takes params (a dict), a Form, or an object with .params (and .errors); got 42"
    with pytest.raises(TypeError) as caught:
        to_form({})[0]
    assert str(caught.value) == """a form's fields are named by strings, as in form["email"]; got 0"""


def test_equal_forms_are_equal_so_an_unchanged_form_re_renders_nothing():
    assert to_form({"a": "1"}, as_="u", errors={"a": "x"}) == to_form({"a": "1"}, as_="u", errors={"a": "x"})
    assert to_form({"a": "1"}, as_="u") != to_form({"a": "2"}, as_="u")


@pytest.mark.parametrize(
    "body, field, used",
    [
        ("", "name", False),  # nothing sent yet
        ("user[name]=", "name", True),  # submitted (a submit sends no _unused_ marks)
        ("user[_unused_name]=&user[name]=", "name", False),  # a change before the user got there
        ("user[_unused_name]=&user[name]=", "_unused_name", False),
        ("user[bday][_unused_day]=&user[bday][day]=&user[bday][year]=1990", "bday", True),  # one part used: used
        ("user[bday][_unused_day]=&user[bday][day]=", "bday", False),
        ("user[_unused_tags][]=&user[tags][]=a", "tags", False),
    ],
)
def test_used_input_reads_the_clients_unused_marks(body, field, used):
    params = decode_form(body).get("user", {})
    assert used_input(to_form(params, as_="user")[field]) is used


def test_nested_forms_of_a_list_from_the_params_in_index_order():
    params = decode_form("u[addresses][10][city]=c&u[addresses][2][city]=b&u[addresses][0][city]=a")["u"]
    forms = nested_forms(to_form(params, as_="u", errors={"addresses": [{}, {"city": "unknown"}]})["addresses"])
    assert [(f.name, f.id, f.index, f["city"].value, f["city"].errors) for f in forms] == [
        ("u[addresses][0]", "u_addresses_0", 0, "a", []),
        ("u[addresses][1]", "u_addresses_1", 1, "b", ["unknown"]),
        ("u[addresses][2]", "u_addresses_2", 2, "c", []),
    ]
    assert [f.hidden for f in forms] == [(("_persistent_id", "0"),), (("_persistent_id", "1"),), (("_persistent_id", "2"),)]
    assert forms[1]["city"].name == "u[addresses][1][city]"


def test_a_persistent_id_sent_back_keeps_the_entry_s_id():
    params = decode_form("u[a][0][_persistent_id]=1&u[a][0][x]=moved&u[a][1][x]=new")["u"]
    forms = nested_forms(to_form(params, as_="u")["a"])
    assert [(f.id, f.params["_persistent_id"], f.index) for f in forms] == [("u_a_1", "1", 0), ("u_a_0", "0", 1)]


def test_nested_forms_of_data_or_a_default_mark_nothing_used():
    form = to_form({}, as_="u", data={"addresses": [{"city": "Oslo"}]})
    (nested,) = nested_forms(form["addresses"])
    assert (nested["city"].value, used_input(nested["city"])) == ("Oslo", False)
    assert [f.name for f in nested_forms(to_form({}, as_="u")["tags"], default=[{}, {}])] == ["u[tags][0]", "u[tags][1]"]


def test_a_nested_dict_is_one_form_with_its_errors():
    form = to_form({"address": {"city": ""}}, as_="u", errors={"address": {"city": "required"}})
    (nested,) = nested_forms(form["address"], persistent_id=False)
    assert (nested.name, nested.id, nested.hidden, nested["city"].name, nested["city"].errors) == (
        "u[address]", "u_address", (), "u[address][city]", ["required"]
    )


def test_a_form_is_a_web_live_name():
    assert Form.__module__ == "web.live"
