"""The template compiler (web/live/_template.py): statics, dynamics, fingerprints, tracking, errors."""

import time
import types

import pytest
from markupsafe import Markup

from web.live._diff import DiffState
from web.live._rendered import Comprehension, Rendered
from web.live._template import (
    TemplateRenderError,
    TemplateSyntaxError,
    compile_template,
    fingerprint,
    template_from_file,
    template_next_to,
)


def fp(static, kinds):
    return fingerprint(tuple(static), tuple(kinds))


# ---------------------------------------------------------------------------
# Statics, dynamics, fingerprints


def test_text_only():
    rendered = compile_template("  <p>hello</p>\n").render({})
    assert rendered == Rendered(("<p>hello</p>",), (), fp(["<p>hello</p>"], []), True)
    assert rendered.fingerprint == 5935243411290438036  # stable across runs and processes
    assert rendered.to_html() == "<p>hello</p>"


def test_one_assign():
    rendered = compile_template("<h1>Count: {@count}</h1>").render({"count": 3})
    assert rendered.static == ("<h1>Count: ", "</h1>")
    assert rendered.dynamic == ("3",)
    assert rendered.fingerprint == fp(rendered.static, ["expr"])
    assert rendered.root is True
    assert rendered.to_html() == "<h1>Count: 3</h1>"


def test_expression_and_none_false():
    template = compile_template("<p>{@a + 1}|{@n}|{@f}|{len(@items)}</p>")
    rendered = template.render({"a": 1, "n": None, "f": False, "items": [1, 2]})
    assert rendered.dynamic == ("2", "", "", "2")
    assert rendered.to_html() == "<p>2|||2</p>"


def test_root_flag():
    assert compile_template("<div>a</div><div>b</div>").render({}).root is False
    assert compile_template("text {@x}").render({"x": 1}).root is False
    assert compile_template("\n  <div>\n {@x}\n</div>\n").render({"x": 1}).root is True
    assert compile_template("<div :if={@x}>a</div>").render({"x": 1}).root is False


def test_attributes_literal_boolean_none():
    template = compile_template(
        '<input type="text" name=q readonly value={@value} disabled={@disabled} title={@title} class={["a", @on and "on", None]}>'
    )
    rendered = template.render({"value": 'say "hi"', "disabled": True, "title": None, "on": True})
    assert rendered.static == ('<input type="text" name="q" readonly', "", "", "", ">")
    assert rendered.dynamic == (' value="say &#34;hi&#34;"', " disabled", "", ' class="a on"')
    assert rendered.fingerprint == fp(rendered.static, ["attr"] * 4)
    assert rendered.to_html() == '<input type="text" name="q" readonly value="say &#34;hi&#34;" disabled class="a on">'
    off = template.render({"value": 0, "disabled": False, "title": "t", "on": False})
    assert off.to_html() == '<input type="text" name="q" readonly value="0" title="t" class="a">'


def test_attribute_spread_and_self_closing():
    template = compile_template('<div id="x" {@rest} /><br/>')
    rendered = template.render({"rest": {"phx-click": "go", "hidden": True, "data-x": None}})
    assert rendered.static == ('<div id="x"', "></div><br/>")
    assert rendered.to_html() == '<div id="x" phx-click="go" hidden></div><br/>'


def test_escaping_and_markup():
    template = compile_template("<p>{@text}</p>")
    evil = template.render({"text": "<script>alert('x')</script>"})
    assert evil.dynamic == ("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;",)
    safe = template.render({"text": Markup("<b>bold</b>")})
    assert safe.dynamic == ("<b>bold</b>",)
    assert type(safe.dynamic[0]) is str
    assert safe.to_html() == "<p><b>bold</b></p>"


def test_comments_script_and_style_are_static():
    source = '<!-- {@not} --><script>if (a) { b({}) }</script><style>p { color: red }</style><!DOCTYPE html>'
    rendered = compile_template(source).render({})
    assert rendered.static == (source,)
    assert rendered.dynamic == ()


def test_if_true_and_false():
    template = compile_template('<div><p :if={@show} class="x">Hi {@name}</p></div>')
    body = ('<p class="x">Hi ', "</p>")
    shown = template.render({"show": True, "name": "Ann"})
    assert shown.static == ("<div>", "</div>")
    assert shown.dynamic == (Rendered(body, ("Ann",), fp(body, ["expr"]), True),)
    assert shown.fingerprint == fp(shown.static, ["if"])
    assert shown.to_html() == '<div><p class="x">Hi Ann</p></div>'
    hidden = template.render({"show": False, "name": "Ann"})
    assert hidden.dynamic == ("",)
    assert hidden.to_html() == "<div></div>"


def test_for_without_key():
    template = compile_template("<ul><li :for={x <- @items}>{x}</li></ul>")
    rendered = template.render({"items": ["a", "<b>"]})
    entry = ("<li>", "</li>")
    assert rendered.static == ("<ul>", "</ul>")
    assert rendered.dynamic == (Comprehension(entry, (("a",), ("&lt;b&gt;",)), fp(entry, ["expr"]), None),)
    assert rendered.fingerprint == fp(rendered.static, ["for"])
    assert rendered.to_html() == "<ul><li>a</li><li>&lt;b&gt;</li></ul>"


def test_for_with_key_python_syntax_and_filter():
    template = compile_template(
        '<li :for={user in @users} :key={user["id"]} :if={user["active"]} id={"u%d" % user["id"]}>{user["name"]}</li>'
    )
    users = [{"id": 1, "name": "Ann", "active": True}, {"id": 2, "name": "Bob", "active": False}, {"id": 3, "name": "Cy", "active": True}]
    comprehension = template.render({"users": users}).dynamic[0]
    assert comprehension.static == ("<li", ">", "</li>")
    assert comprehension.entries == ((' id="u1"', "Ann"), (' id="u3"', "Cy"))
    assert comprehension.keys == (1, 3)
    assert template.render({"users": users}).to_html() == '<li id="u1">Ann</li><li id="u3">Cy</li>'


def test_for_tuple_target_and_attribute_key():
    class Item:
        def __init__(self, id):
            self.id = id

    template = compile_template("<i :for={(n, item) <- enumerate(@items)} :key={item.id}>{n}:{item.id}</i>")
    comprehension = template.render({"items": [Item(7), Item(9)]}).dynamic[0]
    assert comprehension.entries == (("0", "7"), ("1", "9"))
    assert comprehension.keys == (7, 9)


def test_nested_for_and_if():
    template = compile_template(
        """<table>
  <tr :for={row <- @rows}><td :for={cell <- row}><b :if={cell > @limit}>{cell}</b></td></tr>
</table>"""
    )
    rendered = template.render({"rows": [[1, 5], [9]], "limit": 4})
    assert rendered.to_html() == (
        "<table>\n  <tr><td></td><td><b>5</b></td></tr><tr><td><b>9</b></td></tr>\n</table>"
    )
    rows = rendered.dynamic[0]
    cells = rows.entries[0][0]
    bold = ("<b>", "</b>")
    assert rows.static == ("<tr>", "</tr>")
    assert cells.static == ("<td>", "</td>")
    assert cells.entries == (("",), (Rendered(bold, ("5",), fp(bold, ["expr"]), True),))
    assert rows.fingerprint == fp(rows.static, ["for"])
    assert cells.fingerprint == fp(cells.static, ["if"])


def card(assigns):
    return CARD.render(assigns)


CARD = compile_template(
    '<section class="card"><h2>{@title}</h2><header :for={h <- @header}>{h}</header>{@inner_block}</section>'
)


def test_function_component_with_inner_block_and_slots():
    page = compile_template(
        """<main>
  <.card title={@title}>
    <:header>Head {@n}</:header>
    <p>Body {@n}</p>
    <:header>Second</:header>
  </.card>
</main>""",
        components={"card": card},
    )
    rendered = page.render({"title": "<T>", "n": 1})
    assert rendered.static == ("<main>\n  ", "\n</main>")
    assert rendered.fingerprint == fp(rendered.static, ["component"])
    component = rendered.dynamic[0]
    assert component.fingerprint == CARD.fingerprint
    assert component.root is True
    assert component.dynamic[0] == "&lt;T&gt;"
    headers = component.dynamic[1]
    assert [entry[0].to_html() for entry in headers.entries] == ["Head 1", "Second"]
    inner = component.dynamic[2]
    assert inner.static == ("\n    \n    <p>Body ", "</p>\n    \n  ")
    assert inner.dynamic == ("1",)
    assert rendered.to_html() == (
        '<main>\n  <section class="card"><h2>&lt;T&gt;</h2><header>Head 1</header><header>Second</header>'
        "\n    \n    <p>Body 1</p>\n    \n  </section>\n</main>"
    )
    # the component slot is re-rendered when an assign it reads (here through its slots) changes
    assert page.render({"title": "<T>", "n": 2}, changed={"n"}).dynamic[0] is not None
    assert page.render({"title": "<T>", "n": 2}, changed={"other"}).dynamic == (None,)


def test_component_self_closing_literal_and_bare_attributes():
    seen = []

    def badge(assigns):
        seen.append(dict(assigns))
        return compile_template("<span>{@label}</span>").render(assigns)

    template = compile_template('<.badge label="new" big :for={_ in range(2)} />', components={"badge": badge})
    assert template.render({}).to_html() == "<span>new</span><span>new</span>"
    assert seen[0] == {"label": "new", "big": True}


def test_list_of_rendered_in_a_hole():
    wrap = compile_template("<div>{@items}</div>")
    parts = [compile_template("<i>{@x}</i>").render({"x": x}) for x in (1, 2)]
    rendered = wrap.render({"items": parts})
    assert rendered.to_html() == "<div><i>1</i><i>2</i></div>"
    assert wrap.render({"items": ["<", Markup("<br>")]}).dynamic == ("&lt;<br>",)


def test_same_source_same_template_and_fingerprints():
    source = "<p>{@a}</p>"
    assert compile_template(source) is compile_template(source)
    assert compile_template("<p>{@b}</p>").fingerprint == compile_template(source).fingerprint  # same statics
    assert compile_template("<div>{@a}</div>").fingerprint != compile_template(source).fingerprint
    assert compile_template('<p class={@a}></p>').fingerprint != compile_template("<p class>{@a}</p>").fingerprint


# ---------------------------------------------------------------------------
# Change tracking


TRACKED = compile_template(
    """<div>
  <h1>{@a}</h1>
  <h2>{@a + @b}</h2>
  <h3 class={@c}>{assigns.get("d")}</h3>
  <p :if={@show}>{@a} and {@c}</p>
  <li :for={x <- @items}>{x}{@b}</li>
  <span>{1 + 1}</span>
</div>"""
)
ASSIGNS = {"a": 1, "b": 2, "c": "x", "d": "y", "show": True, "items": [1, 2]}


def test_full_render_when_changed_is_none():
    assert None not in TRACKED.render(ASSIGNS).dynamic


def test_changed_reevaluates_only_slots_reading_it():
    rendered = TRACKED.render(ASSIGNS, changed={"a"})
    a, a_b, c, d, shown, items, constant = rendered.dynamic
    assert (a, a_b, c, d) == ("1", "3", None, "y")  # `assigns` read directly: always re-evaluated
    assert shown.dynamic == ("1", None)  # same condition: tracked inside
    assert (items, constant) == (None, None)
    assert rendered.fingerprint == TRACKED.render(ASSIGNS).fingerprint


def test_expression_reading_several_assigns():
    assert TRACKED.render(ASSIGNS, changed={"b"}).dynamic[1] == "3"
    assert TRACKED.render(ASSIGNS, changed={"b"}).dynamic[5].entries == (("1", "2"), ("2", "2"))
    shown = ("<p>", " and ", "</p>")
    assert TRACKED.render(ASSIGNS, changed=["c"]).dynamic[:5] == (
        None, None, ' class="x"', "y", Rendered(shown, (None, "x"), fp(shown, ["expr", "expr"]), True)
    )


def test_if_condition_change_renders_the_branch_in_full():
    assert TRACKED.render({**ASSIGNS, "show": False}, changed={"show"}).dynamic[4] == ""
    shown = TRACKED.render(ASSIGNS, changed={"show"}).dynamic[4]
    assert shown.dynamic == ("1", "x")
    assert TRACKED.render({**ASSIGNS, "show": False}, changed={"a"}).dynamic[4] is None


def test_unchanged_for_over_10000_rows_costs_nothing():
    template = compile_template(
        '<table><tr :for={row <- @rows} :key={row["id"]}><td>{row["id"]}</td><td>{row["name"]}</td></tr></table><p>{@title}</p>'
    )
    assigns = {"rows": [{"id": i, "name": f"row {i}"} for i in range(10_000)], "title": "t"}
    start = time.perf_counter()
    first = template.render(assigns)
    full = time.perf_counter() - start
    start = time.perf_counter()
    again = template.render({**assigns, "title": "u"}, changed={"title"})
    tracked = time.perf_counter() - start
    assert len(first.dynamic[0].entries) == 10_000
    assert again.dynamic == (None, "u")
    print(f"10,000 rows: full render {full * 1e3:.1f} ms, unchanged re-render {tracked * 1e6:.1f} µs")


def test_renders_feed_the_diff_engine():
    state = DiffState()
    state.diff(TRACKED.render(ASSIGNS))
    assert state.diff(TRACKED.render({**ASSIGNS, "a": 5}, changed={"a"})) == {
        "0": "5", "1": "7", "4": {"0": "5"}
    }


# ---------------------------------------------------------------------------
# Files


def test_template_from_file_and_next_to(tmp_path):
    (tmp_path / "page.html.heex").write_text("<p>{@x}</p>\n", encoding="utf-8")
    (tmp_path / "other.html").write_text("<b>{@x}</b>", encoding="utf-8")
    anchor = str(tmp_path / "view.py")
    assert template_from_file(tmp_path / "page.html.heex").render({"x": 1}).to_html() == "<p>1</p>"
    assert template_next_to(anchor, "page").filename == str(tmp_path / "page.html.heex")
    assert template_next_to(anchor, "other").render({"x": 2}).to_html() == "<b>2</b>"
    with pytest.raises(FileNotFoundError, match="tried missing.html.heex, missing.heex, missing.html"):
        template_next_to(anchor, "missing")


def test_template_next_to_a_module_without_a_file_says_so():
    module = types.ModuleType("made_in_memory")  # no __file__: nothing to be next to
    with pytest.raises(ValueError) as raised:
        template_next_to(module, "page")
    assert str(raised.value) == (
        "template_next_to: the module 'made_in_memory' has no file to find templates next to; pass a file path (__file__)"
    )


# ---------------------------------------------------------------------------
# Errors


@pytest.mark.parametrize(
    ("source", "message", "line", "column"),
    [
        ("<div>\n  <p>hi\n</div>", "expected </p> (to close <p> from line 2), found </div>", 3, 1),
        ("<div>\n  <span>", "<span> is never closed: expected </span>", 2, 3),
        ("<p>{@a</p>", "this { is never closed: expected }", 1, 4),
        ("<p>\n  {@a +}</p>", "invalid Python expression: invalid syntax", 2, 8),
        ("</p>", "unexpected closing tag </p>: no element is open", 1, 1),
        ('<p :for={@items}></p>', ":for expects {item <- @items} or {item in @items}", 1, 10),
        ('<p :if="x"></p>', ":if needs an expression, as in :if={...}", 1, 4),
        ('<p :let={x}></p>', ":let is for components (<.form :let={f}>), not <p>", 1, 4),
        ('<p :each={x}></p>', "unknown special attribute :each: expected :if, :for, :key or :let", 1, 4),
        ("<:slot>x</:slot>", "<:slot> must be a direct child of a component call such as <.card>", 1, 1),
        ("<p>{}</p>", "empty expression {}: write an expression such as {@name}", 1, 4),
        ('<p class="x></p>', 'the value of class is never closed: expected "', 1, 10),
    ],
)
def test_syntax_errors(source, message, line, column):
    with pytest.raises(TemplateSyntaxError) as info:
        compile_template(source, filename="bad.heex")
    error = info.value
    assert (error.message, error.filename, error.line, error.column) == (message, "bad.heex", line, column)
    assert isinstance(error, SyntaxError)


def test_syntax_error_caret_line():
    with pytest.raises(TemplateSyntaxError) as info:
        compile_template("<div>\n  <p>{@a +}</p>\n</div>", filename="page.heex")
    assert str(info.value) == (
        "page.heex:2:11: invalid Python expression: invalid syntax\n"
        "      <p>{@a +}</p>\n"
        "              ^"
    )


def test_unknown_component():
    with pytest.raises(TemplateSyntaxError, match=r"unknown component <\.nope>.*known: card"):
        compile_template("<.nope />", components={"card": card})


def test_render_error_names_the_template_line():
    template = compile_template("<div>\n  <p>{@a}</p>\n  <p>{@b // 0}</p>\n</div>", filename="page.heex")
    with pytest.raises(TemplateRenderError) as info:
        template.render({"a": 1, "b": 2})
    assert str(info.value) == "page.heex:3: ZeroDivisionError: integer division or modulo by zero\n    <p>{@b // 0}</p>"
    assert (info.value.filename, info.value.line) == ("page.heex", 3)
    assert isinstance(info.value.__cause__, ZeroDivisionError)


def test_render_error_missing_assign_and_inside_for():
    template = compile_template('<ul>\n<li :for={x <- @xs}>\n{x["name"]}</li></ul>', filename="list.heex")
    with pytest.raises(TemplateRenderError, match=r"^list.heex:2: assign @xs is not available in this template; available assigns: \['ys'\]"):
        template.render({"ys": []})
    with pytest.raises(TemplateRenderError, match=r"^list.heex:3: KeyError: 'name'"):
        template.render({"xs": [{}]})


def test_component_must_return_rendered():
    template = compile_template("<p>\n<.bad /></p>", components={"bad": lambda assigns: 42}, filename="c.heex")
    with pytest.raises(TemplateRenderError, match=r"^c.heex:2: TypeError: component <.bad> returned 42"):
        template.render({})


def test_module_docstring_examples():
    import doctest

    import web.live._template as module

    assert doctest.testmod(module).failed == 0


# ---------------------------------------------------------------------------
# Dots on dicts (issue #16): @todo.title reads a dict's key, as HEEx's @todo.title reads a map's


def test_a_dot_reads_a_dict_key():
    page = compile_template("<p>{@todo.title}</p>")
    assert page.render({"todo": {"title": "milk"}}).dynamic == ("milk",)


def test_dots_chain_through_dicts_and_objects_and_loop_variables():
    page = compile_template(
        '<ul><li :for={t <- @todos} :key={t.id} class={t.tags.main}>{t.title.upper()} by {t.owner.name}</li></ul>'
    )
    owner = types.SimpleNamespace(name="ann")
    todos = [{"id": 1, "title": "milk", "tags": {"main": "shop"}, "owner": owner}]
    assert page.render({"todos": todos}).to_html() == '<ul><li class="shop">MILK by ann</li></ul>'


def test_a_key_wins_over_a_dict_method_and_a_method_still_works_without_one():
    page = compile_template("<p>{@d.items}|{@d.get('x', 'none')}</p>")
    assert page.render({"d": {"items": "3 items"}}).to_html() == "<p>3 items|none</p>"


def test_objects_attributes_and_string_methods_are_untouched():
    page = compile_template('<p>{", ".join(@user.roles)}/{@user.name.title()}</p>')
    user = types.SimpleNamespace(name="ann lee", roles=["a", "b"])
    assert page.render({"user": user}).to_html() == "<p>a, b/Ann Lee</p>"


def test_a_missing_key_names_the_keys_there_are_and_the_template_line():
    page = compile_template("<div>\n<p>{@todo.titel}</p></div>", filename="todo.heex")
    with pytest.raises(TemplateRenderError) as caught:
        page.render({"todo": {"title": "milk", "done": False}})
    assert str(caught.value).splitlines()[0] == (
        "todo.heex:2: AttributeError: the dict has no key 'titel' (its keys: 'done', 'title')"
    )


def test_dots_keep_change_tracking():
    page = compile_template("<p>{@todo.title}</p><p>{@other}</p>")
    assert page.render({"todo": {"title": "x"}, "other": 1}, changed={"other"}).dynamic == (None, "1")


def test_a_multi_line_expression_with_dots_still_names_its_line():
    page = compile_template("<p>{\n@a.b +\n@a.c}</p>", filename="t.heex")
    with pytest.raises(TemplateRenderError) as caught:
        page.render({"a": {"b": 1, "c": "x"}})
    assert str(caught.value).splitlines()[0].startswith("t.heex:2: TypeError")


# ---------------------------------------------------------------------------
# :let: a component hands a value to its inner block (issue #16, <.inputs_for :let={f}>)


def each_twice(assigns):
    return compile_template("<div>{render_slot(@inner_block, 1)}{render_slot(@inner_block, 2)}</div>").render(assigns)


def test_let_binds_what_the_component_passes():
    page = compile_template(
        '<.twice :let={n}><b>{n * @k}</b></.twice>', components={"twice": each_twice}
    )
    assert page.render({"k": 10}).to_html() == "<div><b>10</b><b>20</b></div>"


def test_let_can_unpack_a_tuple():
    def pairs(assigns):
        return compile_template("<i>{render_slot(@inner_block, ('a', 1))}</i>").render(assigns)

    page = compile_template("<.pairs :let={(k, v)}>{k}={v}</.pairs>", components={"pairs": pairs})
    assert page.render({}).to_html() == "<i>a=1</i>"


def test_a_let_block_rendered_without_a_value_gets_none():
    def plain(assigns):
        return compile_template("<i>{@inner_block}</i>").render(assigns)

    page = compile_template("<.plain :let={x}>{x is None}</.plain>", components={"plain": plain})
    assert page.render({}).to_html() == "<i>True</i>"


def test_render_slot_of_a_block_without_let_ignores_the_value():
    page = compile_template("<.twice><b>{@k}</b></.twice>", components={"twice": each_twice})
    assert page.render({"k": 3}).to_html() == "<div><b>3</b><b>3</b></div>"


def test_let_is_re_rendered_when_the_assigns_it_reads_change():
    page = compile_template("<.twice :let={n}><b>{n + @k}</b></.twice><p>{@other}</p>", components={"twice": each_twice})
    state = DiffState()
    state.diff(page.render({"k": 1, "other": 0}))
    assert page.render({"k": 1, "other": 5}, changed={"other"}).dynamic == (None, "5")
    assert state.diff(page.render({"k": 2, "other": 0}, changed={"k"})) == {"0": {"0": {"0": "3"}, "1": {"0": "4"}}}


@pytest.mark.parametrize(
    "source, message",
    [
        ('<div :let={x}></div>', ":let is for components (<.form :let={f}>), not <div>"),
        ('<.twice :let={x + 1}></.twice>', ":let takes a name, or names to unpack such as (key, value)"),
        ('<.twice :let="x"></.twice>', ":let needs an expression, as in :let={...}"),
    ],
)
def test_let_misuse_is_a_syntax_error(source, message):
    with pytest.raises(TemplateSyntaxError) as caught:
        compile_template(source, components={"twice": each_twice})
    assert caught.value.message == message


def test_dots_in_a_conditional_expression_are_rewritten_where_they_are_written():
    page = compile_template('<p>{"loading" if @data.loading else (@data.result if @data.ok else "failed")}</p>')
    assert page.render({"data": {"loading": False, "ok": True, "result": "done"}}).to_html() == "<p>done</p>"
