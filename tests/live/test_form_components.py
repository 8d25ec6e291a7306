"""Forms as Phoenix has them (issue #16): ``<.form>``, ``<.input>``, ``<.inputs_for>``, on the page and on the wire.

The components render a :class:`web.live.Form` (``to_form``); a field's
errors show once the client says the user used it (``used_input``, from
the ``_unused_`` marks a ``phx-change`` carries); a nested list renders
once per entry with Phoenix's hidden ``_persistent_id`` input; a form
posted over HTTP carries the page's CSRF token.
"""

import re

import pytest
from _live_wire import event_reply, join, merge, open_client, render_html

from otp import PubSub
from web._http import Request
from web.live import DiffState, LiveRouter, LiveView, compile_template, to_form
from web.live._forms import current_csrf_token, decode_form
from web.testing import element, live, render_change, render_click, render_submit


def html(source: str, **assigns) -> str:
    return compile_template(source).render(assigns).to_html()


# ---------------------------------------------------------------------------
# The components, rendered


def test_form_renders_a_form_tag_with_the_other_attributes_and_binds_the_form():
    page = html(
        '<.form :let={f} for={@form} id="s" phx-submit="save">{f["q"].name}</.form>',
        form=to_form({"q": "x"}, as_="search"),
    )
    assert page == '<form id="s" phx-submit="save">search[q]</form>'


def test_form_of_params_takes_as_and_errors():
    page = html('<.form :let={f} for={@params} as="user" errors={@errors}>{f["a"].errors}</.form>', params={}, errors={"a": "x"})
    assert page == "<form>x</form>"


def test_a_form_with_an_action_posts_the_page_s_csrf_token():
    token = current_csrf_token.set("the-page-token")
    try:
        posted = html('<.form for={@f} action="/login"></.form>', f=to_form({}))
        deleting = html('<.form for={@f} action="/items/1" method="delete"></.form>', f=to_form({}))
        searching = html('<.form for={@f} action="/search" method="get"></.form>', f=to_form({}))
        own = html('<.form for={@f} action="/x" csrf_token="mine" multipart></.form>', f=to_form({}))
        none = html('<.form for={@f} action="/x" csrf_token={False}></.form>', f=to_form({}))
    finally:
        current_csrf_token.reset(token)
    assert posted == (
        '<form action="/login" method="post"><input name="_csrf_token" type="hidden" hidden value="the-page-token"/></form>'
    )
    assert deleting == (
        '<form action="/items/1" method="post"><input name="_method" type="hidden" hidden value="delete"/>'
        '<input name="_csrf_token" type="hidden" hidden value="the-page-token"/></form>'
    )
    assert searching == '<form action="/search" method="get"></form>'
    assert own == (
        '<form action="/x" method="post" enctype="multipart/form-data">'
        '<input name="_csrf_token" type="hidden" hidden value="mine"/></form>'
    )
    assert none == '<form action="/x" method="post"></form>'
    # A LiveView form (no action) is sent over the socket: no method, no token.
    assert html('<.form for={@f} phx-submit="save"></.form>', f=to_form({})) == '<form phx-submit="save"></form>'


def used_form(body: str, **errors) -> object:
    return to_form(decode_form(body).get("user", {}), as_="user", errors=errors)


def test_input_shows_a_field_s_errors_only_once_it_is_used():
    form = used_form("user[_unused_name]=&user[name]=&user[email]=ann@", name="too short", email="needs a domain")
    page = html(
        '<.input field={@form["name"]} label="Name" /><.input field={@form["email"]} type="email" label="Email" />',
        form=form,
    )
    assert page == (
        '<div class="field"><label for="user_name">Name</label>'
        '<input type="text" name="user[name]" id="user_name" value=""/></div>'
        '<div class="field"><label for="user_email">Email</label>'
        '<input type="email" name="user[email]" id="user_email" value="ann@" aria-invalid="true"/>'
        '<p class="field-error">needs a domain</p></div>'
    )


def test_input_types():
    form = used_form("user[agree]=true&user[role]=u&user[tags][]=a&user[tags][]=c&user[bio]=hi&user[id]=7")
    assert html('<.input field={@f["agree"]} type="checkbox" label="Agree" />', f=form) == (
        '<div class="field"><label for="user_agree">Agree</label>'
        '<input type="hidden" name="user[agree]" value="false"/>'
        '<input type="checkbox" name="user[agree]" id="user_agree" value="true" checked/></div>'
    )
    assert html('<.input field={@f["role"]} type="select" options={{"Admin": "a", "User": "u"}} prompt="Pick" />', f=form) == (
        '<div class="field"><select name="user[role]" id="user_role"><option value="">Pick</option>'
        '<option value="a">Admin</option><option value="u" selected>User</option></select></div>'
    )
    assert html('<.input field={@f["tags"]} type="select" multiple options={["a", "b", "c"]} />', f=form) == (
        '<div class="field"><select name="user[tags][]" id="user_tags" multiple><option value="a" selected>a</option>'
        '<option value="b">b</option><option value="c" selected>c</option></select></div>'
    )
    assert html('<.input field={@f["bio"]} type="textarea" rows="3" />', f=form) == (
        '<div class="field"><textarea name="user[bio]" id="user_bio" rows="3">\nhi</textarea></div>'
    )
    assert html('<.input field={@f["id"]} type="hidden" />', f=form) == '<input type="hidden" name="user[id]" id="user_id" value="7"/>'


def test_input_attributes_given_win_and_the_rest_go_on_the_input():
    form = used_form("user[email]=x", email="bad")
    page = html(
        '<.input field={@f["email"]} id="e" name="other" value="given" errors={["mine"]} placeholder="you@host" phx-debounce="300" />',
        f=form,
    )
    assert page == (
        '<div class="field"><input type="text" name="other" id="e" value="given" aria-invalid="true"'
        ' placeholder="you@host" phx-debounce="300"/><p class="field-error">mine</p></div>'
    )


def test_input_needs_a_field():
    with pytest.raises(Exception) as caught:
        html('<.input field={@f} />', f={"name": "x"})
    assert "<.input> needs field={@form[\"name\"]} (a form's field); got {'name': 'x'}" in str(caught.value)


def test_inputs_for_renders_each_entry_after_its_hidden_persistent_id():
    form = to_form({"addresses": [{"city": "Oslo"}, {"city": ""}]}, as_="user", errors={"addresses": [{}, {"city": "required"}]})
    page = html(
        '<.inputs_for :let={a} field={@form["addresses"]}><.input field={a["city"]} /></.inputs_for>', form=form
    )
    assert page == (
        '<input type="hidden" name="user[addresses][0][_persistent_id]" value="0"/>'
        '<div class="field"><input type="text" name="user[addresses][0][city]" id="user_addresses_0_city" value="Oslo"/></div>'
        '<input type="hidden" name="user[addresses][1][_persistent_id]" value="1"/>'
        '<div class="field"><input type="text" name="user[addresses][1][city]" id="user_addresses_1_city" value=""'
        ' aria-invalid="true"/><p class="field-error">required</p></div>'
    )
    skipped = html(
        '<.inputs_for :let={a} field={@form["addresses"]} skip_hidden>{a.index}</.inputs_for>', form=form
    )
    assert skipped == "01"
    assert html('<.inputs_for :let={a} field={@form["none"]} default={[]}>x</.inputs_for>', form=form) == ""


def test_inputs_for_sends_its_rows_statics_once():
    template = compile_template('<.inputs_for :let={a} field={@form["xs"]}><b>{a["v"].value}</b></.inputs_for>')
    rendered = template.render({"form": to_form({"xs": [{"v": "1"}, {"v": "2"}]})})

    rows = DiffState().diff(rendered)["0"]["0"]
    assert (rows["s"], rows["k"]["kc"]) == (["", "", ""], 2)  # one comprehension: its statics once for both rows
    assert [rows["k"][i]["1"] for i in ("0", "1")] == [{"s": ["<b>", "</b>"], "0": "1", "r": 1}, {"s": ["<b>", "</b>"], "0": "2", "r": 1}]


# ---------------------------------------------------------------------------
# A signup page: validation as the user types, errors only for touched fields

SIGNUP = """<.form for={@form} id="signup" phx-change="validate" phx-submit="save">
  <.input field={@form["name"]} label="Name" />
  <.input field={@form["email"]} type="email" label="Email" />
  <.inputs_for :let={address} field={@form["addresses"]} default={[]}>
    <.input field={address["city"]} label="City" />
  </.inputs_for>
  <button type="button" id="add" phx-click="add_address">add an address</button>
  <button id="save">Save</button>
</.form>
<p id="saved">{@saved}</p>"""


def validate(user: dict) -> dict:
    """The app's own validation: params in, errors out (no library)."""
    errors: dict = {}
    if len(user.get("name", "")) < 2:
        errors["name"] = "should be at least 2 characters"
    if "@" not in user.get("email", "") or user.get("email", "").endswith("@"):
        errors["email"] = "must look like you@host"
    addresses = user.get("addresses") or {}
    entries = [addresses[key] for key in sorted(addresses, key=int)]
    if any(not entry.get("city") for entry in entries):
        errors["addresses"] = [{} if entry.get("city") else {"city": "can't be blank"} for entry in entries]
    return errors


class Signup(LiveView):
    template = SIGNUP

    async def mount(self, params, session, socket):
        socket.assign(form=to_form({}, as_="user"), saved="")

    async def handle_event(self, event, params, socket):
        if event == "add_address":
            user = dict(socket.assigns["form"].params)
            addresses = dict(user.get("addresses") or {})
            addresses[str(len(addresses))] = {"city": ""}
            socket.assign(form=to_form({**user, "addresses": addresses}, as_="user", errors=validate(user)))
            return
        user = params["user"]
        errors = validate(user)
        socket.assign(form=to_form(user, as_="user", errors=errors, action=event))
        if event == "save" and not errors:
            socket.assign(saved=f"welcome {user['name']}")


def errors_shown(page: str) -> dict:
    """field id -> its error messages, as the page shows them."""
    found = re.findall(r'id="(user_[\w]+)"[^>]*/?>((?:<p class="field-error">[^<]*</p>)*)', page)
    return {field: re.findall(r'field-error">([^<]*)<', messages) for field, messages in found if messages}


async def signup_view():
    await PubSub.start_link("forms")
    return await live(LiveRouter(secret="s", routes={"/signup": Signup}, pubsub="forms"), "/signup")


async def test_errors_show_for_the_fields_the_user_touched_then_all_on_submit():
    view = await signup_view()
    assert errors_shown(view.html) == {}
    page = await render_change(element(view, "#signup"), value={"user": {"email": "ann@"}})
    assert errors_shown(page) == {"user_email": ["must look like you@host"]}  # name: untouched, no error yet
    page = await render_change(element(view, "#signup"), value={"user": {"name": "A"}})
    assert errors_shown(page) == {"user_name": ["should be at least 2 characters"], "user_email": ["must look like you@host"]}
    page = await render_change(element(view, "#signup"), value={"user": {"name": "Ann", "email": "ann@example.com"}})
    assert errors_shown(page) == {}
    page = await render_submit(element(view, "#signup"))
    assert '<p id="saved">welcome Ann</p>' in page


async def test_a_submit_shows_every_error_at_once():
    view = await signup_view()
    page = await render_submit(element(view, "#signup"))
    assert errors_shown(page) == {"user_name": ["should be at least 2 characters"], "user_email": ["must look like you@host"]}


async def test_a_nested_list_grows_by_an_entry_and_validates_each():
    view = await signup_view()
    await render_change(element(view, "#signup"), value={"user": {"name": "Ann", "email": "ann@example.com"}})
    page = await render_click(element(view, "#add"))
    page = await render_click(element(view, "#add"))
    assert re.findall(r'name="(user\[addresses\]\[\d\]\[\w+\])"', page) == [
        "user[addresses][0][_persistent_id]", "user[addresses][0][city]",
        "user[addresses][1][_persistent_id]", "user[addresses][1][city]",
    ]
    page = await render_change(element(view, "#signup"), value={"user": {"addresses": {"1": {"city": "Oslo"}}}})
    assert errors_shown(page) == {}  # the first city: untouched yet
    page = await render_submit(element(view, "#signup"))
    assert errors_shown(page) == {"user_addresses_0_city": ["can't be blank"]}
    page = await render_submit(element(view, "#signup"), value={"user": {"addresses": {"0": {"city": "Rome"}}}})
    assert '<p id="saved">welcome Ann</p>' in page


# ---------------------------------------------------------------------------
# On the wire: the diff a change event with the client's _unused_ marks gets


async def test_a_change_event_sends_only_the_touched_field_s_error():
    router, client = await open_client({"/signup": Signup})
    rendered = (await join(client, "phx-f", "/signup"))["rendered"]
    assert 'id="user_email"/></div>' in render_html(rendered)
    # What the client sends when the user typed "ann@" in the email, the name untouched.
    body = "user[_unused_name]=&user[name]=&user[email]=ann%40"
    response = await event_reply(client, "phx-f", "validate", body, type="form", meta={"_target": "user[email]"})
    name, email = {"3": ' value=""'}, {"3": ' value="ann@"', "4": ' aria-invalid="true"'}
    email_error = {"s": ['<p class="field-error">', "</p>"], "k": {"0": {"0": "must look like you@host"}, "kc": 1}}
    assert response == {"diff": {"0": {"3": {"0": {"1": name, "2": ""}, "1": {"1": email, "2": email_error}}}}}
    # Fixed: the error goes, nothing else.
    body = "user[_unused_name]=&user[name]=&user[email]=ann%40x"
    response = await event_reply(client, "phx-f", "validate", body, type="form", meta={"_target": "user[email]"})
    fixed = {"1": {"3": ' value="ann@x"', "4": ""}, "2": {"k": {"kc": 0}}}
    assert response == {"diff": {"0": {"3": {"0": {"2": ""}, "1": fixed}}}}
    page = render_html(merge(merge(rendered, {"0": {"3": {"0": {"1": name, "2": ""}, "1": {"1": email, "2": email_error}}}}), response["diff"]))
    assert errors_shown(page) == {}


async def test_a_page_form_posted_over_http_carries_the_token_of_the_dead_render_and_of_the_join():
    class Login(LiveView):
        template = '<.form for={@form} action="/session"><.input field={@form["user"]} /></.form>'

        async def mount(self, params, session, socket):
            socket.assign(form=to_form({}, as_="login"))

    router, client = await open_client({"/login": Login})
    page = (await router.render(Request("GET", "/login", {}, {"host": "x"}, ("127.0.0.1", 1)))).body.decode()
    meta_token = re.search(r'<meta name="csrf-token" content="([^"]+)">', page).group(1)
    assert f'<input name="_csrf_token" type="hidden" hidden value="{meta_token}"/>' in page
    # The connected render posts the token the socket connected with (open_client's).
    rendered = render_html((await join(client, "phx-l", "/login"))["rendered"])
    socket_token = re.search(r'name="_csrf_token" type="hidden" hidden value="([^"]+)"', rendered).group(1)
    assert router.check_csrf(socket_token)
