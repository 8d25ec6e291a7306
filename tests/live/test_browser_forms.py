"""Forms and the issue #16 fixes in headless Chromium with the official phoenix_live_view client (1.2.12).

tests/js/browser_forms.mjs drives the pages below over a real endpoint
(`make test` installs chromium and the npm packages) and reports what each
page showed; every fact is asserted here:

* ``/signup``: ``<.form>``/``<.input>`` validation as the user types, an
  error only under the fields the user has been to, every error on submit,
  and an ``<.inputs_for>`` list grown by a button;
* ``/guarded``: a flash put before a redirect from the dead render, shown by
  the page redirected to (over the 302's cookie);
* ``/search``: ``handle_params`` gets the absolute URL on the dead render,
  the join and a patch;
* ``/titled`` → ``/untitled``: after live navigation a page has the title a
  page load of it shows;
* a hook given to ``default_layout(hooks=...)``, replied to by the view;
* ``/files``: ``auto_upload`` with more files than ``max_entries``: the
  first ones upload at once, the extra one is taken back, the submit saves
  both.
"""

import functools

import pytest
from _node_tools import run_js

import otp
from otp import PubSub
from otp.testing import capture_crash_reports
from web import Endpoint
from web.live import HALT, LiveRouter, LiveView, default_layout, to_form

pytestmark = pytest.mark.slow

SIGNUP = """<p id="flash">{@flash.get("info", "")}</p>
<.form for={@form} id="signup" phx-change="validate" phx-submit="save">
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


async def must_log_in(params, session, socket):
    socket.put_flash("info", "log in first")
    socket.redirect("/signup")
    return HALT


class Guarded(LiveView):
    on_mount = [must_log_in]
    template = "<p>never shown</p>"


class Search(LiveView):
    template = '<p id="uri">{@uri}</p><button id="next" phx-click="next">next</button>'

    async def handle_params(self, params, uri, socket):
        socket.assign(uri=uri, q=int(params.get("q", "1")))

    async def handle_event(self, event, value, socket):
        socket.push_patch(f"/search?q={socket.assigns['q'] + 1}")


class Titled(LiveView):
    template = """<.link id="go" navigate="/untitled">untitled</.link>
<div id="hooked" phx-hook="Stamp"></div><p id="stamps">{@stamps}</p>"""

    async def mount(self, params, session, socket):
        socket.page_title("Titled").assign(stamps=0)

    async def handle_event(self, event, value, socket):
        socket.update("stamps", lambda n: n + 1)
        return {"ok": "stamped by the server"}  # the reply to the hook's pushEvent


class Untitled(LiveView):
    template = '<p id="untitled">no title of its own</p>'


class Files(LiveView):
    template = """<.form for={@form} id="up" phx-change="validate" phx-submit="save">
  <.live_file_input upload={@uploads.files} />
  <div :for={entry <- @uploads.files.entries} class="entry" id={"entry-" + entry.client_name}>
    <span class="name">{entry.client_name}</span> <span class="progress">{entry.progress}</span>
    <button type="button" class="cancel" phx-click="cancel" phx-value-ref={entry.ref}>cancel</button>
  </div>
  <b id="upload-errors">{",".join(@uploads.files.errors)}</b>
  <button id="submit">save</button>
</.form>
<p id="stored">{@stored}</p>"""

    async def mount(self, params, session, socket):
        socket.assign(form=to_form({}), stored="")
        socket.allow_upload("files", max_entries=2, auto_upload=True)

    async def handle_event(self, event, value, socket):
        if event == "cancel":
            socket.cancel_upload("files", value["ref"])
        elif event == "save":
            saved = socket.consume_uploaded_entries("files", lambda path, entry: f"{entry.client_name}={path.read_text()}")
            socket.assign(stored=" ".join(saved))


LAYOUT = functools.partial(
    default_layout,
    hooks="""{Stamp: {mounted() {
      window.stampMounted = this.el.id;
      this.pushEvent("stamped", {}, (reply) => { this.el.dataset.reply = reply.ok });
    }}}""",
)


async def test_forms_and_the_fixes_in_a_real_browser():
    await PubSub.start_link("forms_browser")
    routes = {"/signup": Signup, "/guarded": Guarded, "/search": Search, "/titled": Titled, "/untitled": Untitled, "/files": Files}
    router = LiveRouter(secret="browser forms", routes=routes, pubsub="forms_browser", layout=LAYOUT)
    endpoint = await Endpoint.start_link(router.http(), websocket=router.websocket())
    host, port = Endpoint.address(endpoint)
    base = f"http://{host}:{port}"
    with capture_crash_reports() as reports:
        result = await run_js("browser_forms.mjs", base, chromium=True, package="playwright-core")
    stderr = result.pop("stderr")
    assert result == {
        "ok": True,
        "results": {
            "signup": {
                "deadErrors": 0,
                "afterEmail": {"user_email": ["must look like you@host"]},
                "afterName": {"user_name": ["should be at least 2 characters"], "user_email": ["must look like you@host"]},
                "fixed": {},
                "cities": ["user[addresses][0][city]", "user[addresses][1][city]"],
                "hiddenIds": ["0", "1"],
                "submitted": {"user_addresses_0_city": ["can't be blank"]},
                "saved": "welcome Ann",
            },
            "submitAll": {"user_name": ["should be at least 2 characters"], "user_email": ["must look like you@host"]},
            "flash": {"status": 302, "path": "/signup", "shown": "log in first", "connectedShown": "log in first"},
            "url": {"dead": f"{base}/search?q=1", "joined": f"{base}/search?q=1", "patched": f"{base}/search?q=2"},
            "title": {"loaded": "Untitled", "before": "Titled", "navigated": "Untitled", "samePage": True},
            "hook": {"mounted": "hooked", "reply": "stamped by the server", "stamps": "1"},
            "upload": {
                "tooMany": "too_many_files",
                "uploaded": [["a.txt", "100"], ["b.txt", "100"], ["c.txt", "0"]],
                "afterCancel": ["a.txt", "b.txt"],
                "errorsAfterCancel": "",
                "stored": "a.txt=first b.txt=second",
            },
        },
        "errors": [],
    }, stderr
    assert reports == []
    otp.exit(endpoint, otp.KILL)
