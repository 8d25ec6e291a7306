"""JS commands (web/live/js.py): the exact JSON of each, chaining, templates, errors, the official client."""

import doctest
import json
import subprocess

import pytest
from _node_tools import JS as JS_DIR
from _node_tools import require_node

import web.live.js
from web.live import compile_template
from web.live.js import JS, Scope, closest, inner


def wire(js):
    return json.loads(str(js))


# ---------------------------------------------------------------------------
# Each command's JSON, bare and with every option


@pytest.mark.parametrize(
    "js, expected",
    [
        (JS().push("inc"), '[["push",{"event":"inc"}]]'),
        (
            JS().push("inc", value={"n": 1, "by": "me"}, target=3, loading="#thermo", page_loading=True),
            '[["push",{"event":"inc","loading":"#thermo","page_loading":true,"target":3,"value":{"by":"me","n":1}}]]',
        ),
        (JS().push("inc", target="#counter", page_loading=False), '[["push",{"event":"inc","target":"#counter"}]]'),
        (JS().show(), '[["show",{}]]'),
        (
            JS().show(to="#x", transition="fade-in", time=300, display="flex", blocking=False),
            '[["show",{"blocking":false,"display":"flex","time":300,"to":"#x","transition":[["fade-in"],[],[]]}]]',
        ),
        (JS().hide(), '[["hide",{}]]'),
        (
            JS().hide(to="#x", transition=("ease-out duration-300", "opacity-100", "opacity-0"), time=300),
            '[["hide",{"time":300,"to":"#x","transition":[["ease-out","duration-300"],["opacity-100"],["opacity-0"]]}]]',
        ),
        (JS().toggle(), '[["toggle",{}]]'),
        (
            JS().toggle(to="#x", in_="fade-in", out=("a", "b", "c"), time=0, display="grid", blocking=False),
            '[["toggle",{"blocking":false,"display":"grid","ins":[["fade-in"],[],[]],"outs":[["a"],["b"],["c"]],"time":0,"to":"#x"}]]',
        ),
        (JS().add_class("a b"), '[["add_class",{"names":["a","b"]}]]'),
        (
            JS().add_class(["a", "b"], to="#x", transition="t", time=150, blocking=False),
            '[["add_class",{"blocking":false,"names":["a","b"],"time":150,"to":"#x","transition":[["t"],[],[]]}]]',
        ),
        (JS().remove_class("a"), '[["remove_class",{"names":["a"]}]]'),
        (
            JS().remove_class("a", to="#x", transition=("t1 t2", "", "e")),
            '[["remove_class",{"names":["a"],"to":"#x","transition":[["t1","t2"],[],["e"]]}]]',
        ),
        (JS().toggle_class(" a  b "), '[["toggle_class",{"names":["a","b"]}]]'),
        (JS().toggle_class("a", to="#x", time=10), '[["toggle_class",{"names":["a"],"time":10,"to":"#x"}]]'),
        (JS().set_attribute(("aria-expanded", "true")), '[["set_attr",{"attr":["aria-expanded","true"]}]]'),
        (JS().set_attribute(("open", ""), to="#d"), '[["set_attr",{"attr":["open",""],"to":"#d"}]]'),
        (JS().remove_attribute("open"), '[["remove_attr",{"attr":"open"}]]'),
        (JS().remove_attribute("open", to="#d"), '[["remove_attr",{"attr":"open","to":"#d"}]]'),
        (JS().toggle_attribute(("open", "true")), '[["toggle_attr",{"attr":["open","true"]}]]'),
        (
            JS().toggle_attribute(("aria-expanded", "true", "false"), to="#d"),
            '[["toggle_attr",{"attr":["aria-expanded","true","false"],"to":"#d"}]]',
        ),
        (JS().ignore_attributes("open"), '[["ignore_attrs",{"attrs":["open"]}]]'),
        (JS().ignore_attributes(["open", "data-*"], to="#d"), '[["ignore_attrs",{"attrs":["open","data-*"],"to":"#d"}]]'),
        (JS().transition("shake"), '[["transition",{"transition":[["shake"],[],[]]}]]'),
        (
            JS().transition(("a", "b", "c"), to="#x", time=500, blocking=False),
            '[["transition",{"blocking":false,"time":500,"to":"#x","transition":[["a"],["b"],["c"]]}]]',
        ),
        (JS().dispatch("my:copy"), '[["dispatch",{"event":"my:copy"}]]'),
        (
            JS().dispatch("my:copy", to="#x", detail={"id": 7}, bubbles=False, blocking=True),
            '[["dispatch",{"blocking":true,"bubbles":false,"detail":{"id":7},"event":"my:copy","to":"#x"}]]',
        ),
        (JS().dispatch("click", bubbles=True), '[["dispatch",{"bubbles":true,"event":"click"}]]'),
        (JS().navigate("/rooms/1"), '[["navigate",{"href":"/rooms/1","replace":false}]]'),
        (JS().navigate("/rooms/1", replace=True), '[["navigate",{"href":"/rooms/1","replace":true}]]'),
        (JS().patch("/?page=2"), '[["patch",{"href":"/?page=2","replace":false}]]'),
        (JS().patch("/?page=2", replace=True), '[["patch",{"href":"/?page=2","replace":true}]]'),
        (JS().focus(), '[["focus",{}]]'),
        (JS().focus(to="#name"), '[["focus",{"to":"#name"}]]'),
        (JS().focus_first(), '[["focus_first",{}]]'),
        (JS().focus_first(to="#modal"), '[["focus_first",{"to":"#modal"}]]'),
        (JS().push_focus(), '[["push_focus",{}]]'),
        (JS().push_focus(to="#opener"), '[["push_focus",{"to":"#opener"}]]'),
        (JS().pop_focus(), '[["pop_focus",{}]]'),
        (JS().exec("phx-remove"), '[["exec",{"attr":"phx-remove"}]]'),
        (JS().exec("phx-remove", to="#modal"), '[["exec",{"attr":"phx-remove","to":"#modal"}]]'),
    ],
)
def test_each_command_encodes_as_the_client_reads_it(js, expected):
    assert js.to_json() == expected
    assert str(js) == expected


def test_an_empty_js_is_an_empty_list():
    assert str(JS()) == "[]"
    assert JS().ops == []


def test_scoped_targets_encode_as_the_clients_closest_and_inner_objects():
    assert str(JS().hide(to=closest(".card"))) == '[["hide",{"to":{"closest":".card"}}]]'
    assert str(JS().show(to=inner(".menu"))) == '[["show",{"to":{"inner":".menu"}}]]'
    assert closest(".card") == Scope("closest", ".card")
    with pytest.raises(ValueError, match=r"'kind' must be in \('closest', 'inner'\)"):
        Scope("document", "body")


def test_arguments_at_the_clients_defaults_are_left_out():
    # time=200 and blocking=True are what the client assumes when they are missing.
    assert JS().show(time=200, blocking=True) == JS().show()
    assert str(JS().dispatch("x", blocking=False)) == '[["dispatch",{"event":"x"}]]'


def test_a_float_time_is_kept():
    assert str(JS().transition("t", time=12.5)) == '[["transition",{"time":12.5,"transition":[["t"],[],[]]}]]'


# ---------------------------------------------------------------------------
# Chaining, immutability, equality


def test_commands_run_in_the_order_they_were_chained():
    js = JS().push("inc").show(to="#x").add_class("on", to="#x").pop_focus()
    assert [kind for kind, _ in js.ops] == ["push", "show", "add_class", "pop_focus"]
    assert str(js) == (
        '[["push",{"event":"inc"}],["show",{"to":"#x"}],'
        '["add_class",{"names":["on"],"to":"#x"}],["pop_focus",{}]]'
    )


def test_each_method_returns_a_new_js_and_leaves_its_receiver_alone():
    base = JS().hide(to="#modal")
    extended = base.push("closed")
    other = base.focus()
    assert str(base) == '[["hide",{"to":"#modal"}]]'
    assert str(extended) == '[["hide",{"to":"#modal"}],["push",{"event":"closed"}]]'
    assert str(other) == '[["hide",{"to":"#modal"}],["focus",{}]]'


def test_a_js_cannot_be_changed_in_place():
    js = JS().push("a")
    with pytest.raises(AttributeError, match="JS is immutable"):
        js._encoded = ()
    with pytest.raises(AttributeError):
        js.extra = 1


def test_later_changes_to_the_callers_dicts_do_not_leak_in():
    value = {"n": 1}
    js = JS().push("inc", value=value)
    value["n"] = 2
    assert str(js) == '[["push",{"event":"inc","value":{"n":1}}]]'


def test_ops_is_a_fresh_copy():
    js = JS().push("inc", value={"n": 1})
    js.ops[0][1]["value"]["n"] = 99
    assert js.ops == [["push", {"event": "inc", "value": {"n": 1}}]]


def test_concat_appends_another_chain():
    assert JS().push("a").concat(JS().hide().focus()) == JS().push("a").hide().focus()
    with pytest.raises(TypeError, match=r"JS.concat expects a JS; got '\[\]'"):
        JS().concat("[]")


def test_equality_hash_and_repr():
    assert JS().push("a") == JS().push("a")
    assert JS().push("a", value={"x": 1, "y": 2}) == JS().push("a", value={"y": 2, "x": 1})
    assert JS().push("a") != JS().push("b")
    assert JS().push("a") != '[["push",{"event":"a"}]]'
    assert len({JS().push("a"), JS().push("a"), JS()}) == 2
    assert repr(JS().push("a")) == '<JS [["push",{"event":"a"}]]>'


def test_the_module_docstring_examples_run():
    assert doctest.testmod(web.live.js).failed == 0


# ---------------------------------------------------------------------------
# In templates: an escaped attribute value, never markup


def test_a_js_in_a_template_attribute_renders_as_escaped_json():
    template = compile_template('<button phx-click={JS().push("inc")}>+</button>', namespace={"JS": JS})
    rendered = template.render({})
    expected = ' phx-click="[[&#34;push&#34;,{&#34;event&#34;:&#34;inc&#34;}]]"'
    assert rendered.dynamic == (expected,)
    assert rendered.to_html() == f"<button{expected}>+</button>"


def test_markup_in_a_js_argument_is_escaped_too():
    template = compile_template("<div phx-click={@js}></div>")
    rendered = template.render({"js": JS().dispatch("x", detail={"html": "<b>&'</b>"})})
    assert rendered.to_html() == (
        '<div phx-click="[[&#34;dispatch&#34;,{&#34;detail&#34;:{&#34;html&#34;:'
        '&#34;&lt;b&gt;&amp;&#39;&lt;/b&gt;&#34;},&#34;event&#34;:&#34;x&#34;}]]"></div>'
    )


def test_a_js_is_not_markup():
    assert not hasattr(JS(), "__html__")


# ---------------------------------------------------------------------------
# Errors name the command and the argument


@pytest.mark.parametrize(
    "build, error, message",
    [
        (lambda: JS().push(""), ValueError, "JS.push: event must not be empty; got ''"),
        (lambda: JS().push(None), TypeError, "JS.push: event expects a string; got None"),
        (lambda: JS().push("a", value=[1]), TypeError, "JS.push: value expects a dict; got [1]"),
        (lambda: JS().push("a", value={1: "x"}), TypeError, "JS.push: arguments must be JSON-encodable: Dict key must be str"),
        (lambda: JS().push("a", value={"x": object()}), TypeError, "JS.push: arguments must be JSON-encodable: Type is not JSON serializable: object"),
        (lambda: JS().push("a", target=True), TypeError, "JS.push: target expects a component's cid (int) or a CSS selector; got True"),
        (lambda: JS().push("a", target=-1), ValueError, "JS.push: target cid must be >= 0; got -1"),
        (lambda: JS().push("a", page_loading=1), TypeError, "JS.push: page_loading expects True or False; got 1"),
        (lambda: JS().show(time=-1), ValueError, "JS.show: time must be a finite number of milliseconds >= 0; got -1"),
        (lambda: JS().show(time=float("nan")), ValueError, "JS.show: time must be a finite number of milliseconds >= 0; got nan"),
        (lambda: JS().hide(time="200"), TypeError, "JS.hide: time expects milliseconds as a number; got '200'"),
        (lambda: JS().hide(time=True), TypeError, "JS.hide: time expects milliseconds as a number; got True"),
        (lambda: JS().hide(blocking=None), TypeError, "JS.hide: blocking expects True or False; got None"),
        (lambda: JS().show(transition=("a", "b")), TypeError, "JS.show: transition expects a string of classes or a 3-tuple of them"),
        (lambda: JS().show(transition=["a", "b", 3]), TypeError, "JS.show: transition expects a string of classes or a 3-tuple"),
        (lambda: JS().toggle(in_=1), TypeError, "JS.toggle: in_ expects a string of classes or a 3-tuple"),
        (lambda: JS().toggle(out=("a",)), TypeError, "JS.toggle: out expects a string of classes or a 3-tuple"),
        (lambda: JS().transition(None), TypeError, "JS.transition: names expects a string of classes or a 3-tuple"),
        (lambda: JS().show(display=""), ValueError, "JS.show: display must not be empty; got ''"),
        (lambda: JS().add_class(""), ValueError, "JS.add_class: names needs at least one class name; got ''"),
        (lambda: JS().add_class([]), ValueError, "JS.add_class: names needs at least one class name; got []"),
        (lambda: JS().remove_class(None), TypeError, "JS.remove_class: names expects a string of class names or a list of them; got None"),
        (lambda: JS().toggle_class(["a", 1]), TypeError, "JS.toggle_class: names expects a string; got 1"),
        (lambda: JS().show(to=""), ValueError, "JS.show: to must not be empty; got ''"),
        (lambda: JS().show(to={"closest": ".a"}), TypeError, "JS.show: to expects a CSS selector string, closest(sel) or inner(sel); got {'closest': '.a'}"),
        (lambda: closest(""), ValueError, "JS.closest: selector must not be empty; got ''"),
        (lambda: JS().set_attribute("open"), TypeError, "JS.set_attribute: expects a tuple of strings (name, value); got 'open'"),
        (lambda: JS().set_attribute(("tabindex", 0)), TypeError, "JS.set_attribute: expects a tuple of strings (name, value); got ('tabindex', 0)"),
        (lambda: JS().set_attribute(("", "x")), ValueError, "JS.set_attribute: the attribute name must not be empty; got ''"),
        (lambda: JS().toggle_attribute(("a", "b", "c", "d")), TypeError, "JS.toggle_attribute: expects a tuple of strings (name, value) or (name, value1, value2); got ('a', 'b', 'c', 'd')"),
        (lambda: JS().remove_attribute(""), ValueError, "JS.remove_attribute: name must not be empty; got ''"),
        (lambda: JS().ignore_attributes([]), TypeError, "JS.ignore_attributes: names expects a name or a non-empty list of names; got []"),
        (lambda: JS().dispatch(""), ValueError, "JS.dispatch: event must not be empty; got ''"),
        (lambda: JS().dispatch("click", detail={"a": 1}), ValueError, 'JS.dispatch: a "click" cannot carry detail'),
        (lambda: JS().dispatch("x", detail={"done": 1}, blocking=True), ValueError, "JS.dispatch: with blocking=True the client puts its own done() in detail; got {'done': 1}"),
        (lambda: JS().dispatch("x", bubbles="no"), TypeError, "JS.dispatch: bubbles expects True or False; got 'no'"),
        (lambda: JS().navigate(""), ValueError, "JS.navigate: href must not be empty; got ''"),
        (lambda: JS().patch("/x", replace=None), TypeError, "JS.patch: replace expects True or False; got None"),
        (lambda: JS().exec(None), TypeError, "JS.exec: attr expects a string; got None"),
    ],
)
def test_bad_arguments_fail_where_the_js_is_built(build, error, message):
    with pytest.raises(error) as raised:
        build()
    assert str(raised.value).startswith(message)
    assert type(raised.value) is error


# ---------------------------------------------------------------------------
# The official client (phoenix_live_view 1.2.12, in Node) runs our JSON

# Drives our encoded commands through the client's own LiveSocket.execJS →
# JS.exec (JSON.parse, target selection, exec_<kind> with the args it reads)
# against a small recording stand-in for the DOM, since Node has none. The
# stand-in only records: what the client does with each argument is its code.
CLIENT_HARNESS = r"""
import { LiveSocket } from "phoenix_live_view";

const cases = JSON.parse(process.argv[process.argv.length - 1]);
let log = [];

class El {
  constructor(id, { tag = "div", classes = [], attrs = {}, hidden = false, tabIndex = -1 } = {}, children = []) {
    Object.assign(this, { id, tabIndex, hidden, style: {}, parent: null, children });
    this.tagName = this.nodeName = tag.toUpperCase();
    this.attrs = new Map(Object.entries(attrs));
    this.classes = new Set(classes);
    this.classList = {
      add: (...names) => names.forEach((name) => this.classes.add(name)),
      remove: (...names) => names.forEach((name) => this.classes.delete(name)),
      contains: (name) => this.classes.has(name),
    };
    children.forEach((child) => (child.parent = this));
  }
  get offsetWidth() { return (this.style.display ?? (this.hidden ? "none" : "block")) === "none" ? 0 : 10; }
  get offsetHeight() { return this.offsetWidth; }
  getClientRects() { return []; }
  get firstElementChild() { return this.children[0] ?? null; }
  get nextElementSibling() { const sibs = this.parent ? this.parent.children : []; return sibs[sibs.indexOf(this) + 1] ?? null; }
  get attributes() { return [...this.attrs].map(([name, value]) => ({ name, value })); }
  getAttribute(name) { return this.attrs.has(name) ? this.attrs.get(name) : null; }
  hasAttribute(name) { return this.attrs.has(name); }
  setAttribute(name, value) { this.attrs.set(name, String(value)); }
  removeAttribute(name) { this.attrs.delete(name); }
  matches(sel) {
    return sel[0] === "#" ? this.id === sel.slice(1) : sel[0] === "." ? this.classes.has(sel.slice(1)) : this.tagName === sel.toUpperCase();
  }
  closest(sel) { for (let el = this; el; el = el.parent) if (el.matches(sel)) return el; return null; }
  querySelectorAll(sel) { return this.children.flatMap((c) => [...(c.matches(sel) ? [c] : []), ...c.querySelectorAll(sel)]); }
  isSameNode(other) { return other === this; }
  focus() { document.activeElement = this; log.push(["focus", this.id]); }
  dispatchEvent(e) {
    const detail = e.detail && { ...e.detail, dispatcher: e.detail.dispatcher?.id, done: typeof e.detail.done };
    log.push(["dispatchEvent", this.id, e.constructor.name, e.type, e.bubbles, detail ?? null]);
    return true;
  }
  state() { return { classes: [...this.classes], attrs: Object.fromEntries(this.attrs), display: this.style.display ?? null }; }
}

// The browser globals the client touches: instanceof checks (aria.ts), rAF, timers (run at once).
for (const name of ["HTMLAnchorElement", "HTMLAreaElement", "HTMLInputElement", "HTMLSelectElement",
                    "HTMLTextAreaElement", "HTMLButtonElement", "HTMLIFrameElement", "SVGElement"]) {
  globalThis[name] = class {};
}
globalThis.HTMLElement = El;
globalThis.MouseEvent = class MouseEvent extends Event {};
globalThis.window = { requestAnimationFrame: (callback) => callback() };
globalThis.setTimeout = (callback, ms) => { log.push(["setTimeout", ms]); callback(); };

const socket = Object.create(LiveSocket.prototype);  // the real execJS and jsQuerySelectorAll
Object.assign(socket, {
  domCallbacks: { jsQuerySelectorAll: null },
  owner: (el, callback) => callback(view),
  asyncTransition: () => log.push(["asyncTransition"]),
  historyRedirect: (e, href, kind, flash, el) => log.push(["historyRedirect", href, kind, el.id]),
  pushHistoryPatch: (e, href, kind, el) => log.push(["pushHistoryPatch", href, kind, el.id]),
  execJS(el, encoded, eventType) {
    log.push(["execJS", el.id, eventType]);
    LiveSocket.prototype.execJS.call(this, el, encoded, eventType);
  },
});
const view = {
  liveSocket: socket,
  binding: (kind) => `phx-${kind}`,
  isDestroyed: () => false,
  isConnected: () => true,
  withinTargets(target, callback) { log.push(["withinTargets", target instanceof El ? target.id : target]); callback(view, null); },
  pushEvent(type, el, ctx, event, data, { value, loading, target, page_loading }) {
    log.push(["pushEvent", type, el.id, event, { value, loading, target, page_loading }]);
  },
  transition(time, onStart, onEnd) { log.push(["transition", time]); onStart(); onEnd(); },
};

const out = {};
for (const [name, encoded, modalAttr] of cases) {
  // body > card.card.flat > (button#src > span#icon.icon, div#menu.menu[hidden] > (span#label, input#field)); body > div#modal
  const icon = new El("icon", { tag: "span", classes: ["icon"] });
  const src = new El("src", { tag: "button", tabIndex: 0 }, [icon]);
  const field = new El("field", { tag: "input", tabIndex: 0 });
  const menu = new El("menu", { classes: ["menu"], hidden: true }, [new El("label", { tag: "span" }), field]);
  const card = new El("card", { classes: ["card", "flat"], attrs: { "aria-expanded": "false" } }, [src, menu]);
  const modal = new El("modal", { attrs: { "data-on-close": modalAttr } });
  const body = new El("body", { tag: "body" }, [card, modal]);
  const all = [card, src, icon, menu, field, modal];
  const before = all.map((el) => JSON.stringify(el.state()));
  globalThis.document = { activeElement: null, querySelectorAll: (sel) => body.querySelectorAll(sel) };
  log = [];
  socket.execJS(src, encoded, "click");
  for (const el of all) {
    const ignore = el.phxPrivate?.["JS:ignore_attrs"];
    if (ignore) {  // a server patch that drops every attribute: the ignored ones are kept
      const patched = new El(el.id);
      ignore.apply(el, patched);
      log.push(["patched", el.id, Object.fromEntries(patched.attrs)]);
    }
  }
  const dom = {};
  all.forEach((el, i) => { if (JSON.stringify(el.state()) !== before[i]) dom[el.id] = el.state(); });
  out[name] = { log, dom };
}
console.log(JSON.stringify(out));
"""

CLIENT_CASES = {
    "push": JS().push("inc", value={"n": 1}, loading="#card", page_loading=True, target=3),
    "push_default_target": JS().push("inc"),
    "show": JS().show(to="#menu", display="flex"),
    "show_transition": JS().show(to="#menu", transition="fade-in"),
    "toggle": JS().toggle(to=inner(".icon"), out=("fade", "opaque", "clear"), time=300),
    "classes": JS().add_class("x y", to=closest(".card"), transition="glow", blocking=False).remove_class("flat", to="#card"),
    "toggle_class": JS().toggle_class("flat open", to="#card"),
    "transition": JS().transition("shake", to="#card", time=450),
    "attributes": JS()
    .set_attribute(("role", "menu"), to="#card")
    .toggle_attribute(("aria-expanded", "true", "false"), to="#card")
    .toggle_attribute(("open", ""), to="#menu")
    .remove_attribute("role", to="#card")
    .set_attribute(("role", "dialog"), to="#modal"),
    "ignore": JS().set_attribute(("data-x", "1")).ignore_attributes(["data-*"]),
    "dispatch": JS().dispatch("my:ev", detail={"a": 1}, bubbles=False, blocking=True),
    "dispatch_click": JS().dispatch("click", to="#field"),
    "exec": JS().exec("data-on-close", to="#modal"),
    "focus": JS().push_focus().focus(to="#field").pop_focus().focus_first(to="#menu"),
    "navigation": JS().navigate("/a", replace=True).patch("/b"),
}
MODAL_ON_CLOSE = JS().hide().set_attribute(("open", "no"))

START = ["execJS", "src", "click"]


def state(classes=(), attrs=None, display=None):
    return {"classes": list(classes), "attrs": attrs or {}, "display": display}


CLIENT_EXPECTED = {
    "push": {
        "log": [START, ["withinTargets", 3], ["pushEvent", "click", "src", "inc",
                {"value": {"n": 1}, "loading": "#card", "target": 3, "page_loading": True}]],
        "dom": {},
    },
    "push_default_target": {
        "log": [START, ["withinTargets", "src"], ["pushEvent", "click", "src", "inc", {"page_loading": False}]],
        "dom": {},
    },
    "show": {
        "log": [START, ["dispatchEvent", "menu", "Event", "phx:show-start", False, None],
                ["dispatchEvent", "menu", "Event", "phx:show-end", False, None]],
        "dom": {"menu": state(["menu"], display="flex")},
    },
    "show_transition": {  # no time sent: the client's 200 ms
        "log": [START, ["dispatchEvent", "menu", "Event", "phx:show-start", False, None], ["transition", 200],
                ["dispatchEvent", "menu", "Event", "phx:show-end", False, None]],
        "dom": {"menu": state(["menu"], display="block")},
    },
    "toggle": {  # inner(".icon"): inside the source; visible, so it goes out in 300 ms
        "log": [START, ["dispatchEvent", "icon", "Event", "phx:hide-start", False, None], ["transition", 300],
                ["dispatchEvent", "icon", "Event", "phx:hide-end", False, None]],
        "dom": {"icon": state(["icon"], display="none")},
    },
    "classes": {  # closest(".card") from the source; blocking=False: a timer, not view.transition
        "log": [START, ["setTimeout", 200]],
        "dom": {"card": state(["card", "x", "y"], {"aria-expanded": "false"})},
    },
    "toggle_class": {"log": [START], "dom": {"card": state(["card", "open"], {"aria-expanded": "false"})}},
    "transition": {"log": [START, ["transition", 450]], "dom": {}},
    "attributes": {
        "log": [START],
        "dom": {
            "card": state(["card", "flat"], {"aria-expanded": "true"}),
            "menu": state(["menu"], {"open": ""}),
            "modal": state([], {"data-on-close": str(MODAL_ON_CLOSE), "role": "dialog"}),
        },
    },
    "ignore": {"log": [START, ["patched", "src", {"data-x": "1"}]], "dom": {"src": state([], {"data-x": "1"})}},
    "dispatch": {
        "log": [START, ["asyncTransition"],
                ["dispatchEvent", "src", "CustomEvent", "my:ev", False, {"a": 1, "dispatcher": "src", "done": "function"}]],
        "dom": {},
    },
    "dispatch_click": {
        "log": [START, ["dispatchEvent", "field", "MouseEvent", "click", True, None]],
        "dom": {},
    },
    "exec": {  # the client runs the JSON held in #modal's attribute, with #modal as its source
        "log": [START, ["execJS", "modal", "click"], ["dispatchEvent", "modal", "Event", "phx:hide-start", False, None],
                ["dispatchEvent", "modal", "Event", "phx:hide-end", False, None]],
        "dom": {"modal": state([], {"data-on-close": str(MODAL_ON_CLOSE), "open": "no"}, display="none")},
    },
    "focus": {  # each focus twice: at once, then again two animation frames later
        "log": [START, ["focus", "field"], ["focus", "field"], ["focus", "src"], ["focus", "src"],
                ["focus", "field"], ["focus", "field"]],
        "dom": {},
    },
    "navigation": {
        "log": [START, ["historyRedirect", "/a", "replace", "src"], ["pushHistoryPatch", "/b", "push", "src"]],
        "dom": {},
    },
}


def test_the_official_client_runs_our_commands():
    node = require_node(package="phoenix_live_view")
    cases = [[name, str(js), str(MODAL_ON_CLOSE)] for name, js in CLIENT_CASES.items()]
    # Evaluated from stdin with cwd tests/js, so "phoenix_live_view" resolves to its node_modules.
    done = subprocess.run(
        [node, "--input-type=module", "-", json.dumps(cases)],
        input=CLIENT_HARNESS, cwd=JS_DIR, capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout.strip().splitlines()[-1])
    assert results.keys() == CLIENT_EXPECTED.keys()
    for name, expected in CLIENT_EXPECTED.items():
        assert results[name] == expected, name
