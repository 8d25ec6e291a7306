"""The diff engine (web/live/_diff.py) against docs/protocol/liveview.md, "Rendered diffs": exact JSON, and a client merge.

`merge` and `html` below implement the client's merge rules ("Merge rules") and
rendering, so every sequence of renders can be checked end to end: merging
the diffs must give exactly the HTML of the latest render.
"""

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from web.live._diff import DiffState
from web.live._rendered import Comprehension, Rendered

# ---------------------------------------------------------------- a reference client
# docs/protocol/liveview.md, "Merge rules"


def merge(stored, diff):
    if isinstance(diff, dict) and "s" in diff:
        return copy.deepcopy(diff)
    if isinstance(diff, dict) and isinstance(stored, dict):
        result = dict(stored)
        for key, value in diff.items():
            if key == "k" and "k" in stored:
                result["k"] = merge_entries(stored["k"], value)
            else:
                result[key] = merge(stored.get(key), value)
        return result
    return copy.deepcopy(diff)


def merge_entries(stored, diff):
    old = dict(stored)
    count = diff.get("kc", stored.get("kc", 0))
    if any(isinstance(v, (int, list)) for k, v in diff.items() if k not in ("kc", "km")):
        assert diff.get("km") is True, f"moves need km: {diff}"
    result = {}
    for position in range(count):
        key = str(position)
        change = diff.get(key)
        if change is None:
            result[key] = old[key]
        elif isinstance(change, int):
            result[key] = old[str(change)]
        elif isinstance(change, list):
            result[key] = merge(old[str(change[0])], change[1])
        else:
            result[key] = merge(old.get(key), change)
    result["kc"] = count
    return result


def html(node):
    if isinstance(node, str):
        return node
    statics = node["s"]
    if "k" in node:
        entries = node["k"]
        return "".join(
            "".join(s + (html(entries[str(i)][str(j)]) if j < len(statics) - 1 else "") for j, s in enumerate(statics))
            for i in range(entries["kc"])
        )
    return "".join(s + (html(node[str(j)]) if j < len(statics) - 1 else "") for j, s in enumerate(statics))


# ---------------------------------------------------------------- exact shapes


def li(text):
    return Rendered(("<li>", "</li>"), (text,), fingerprint=10, root=True)


def ul(items, keys=None):
    return Rendered(("<ul>", "</ul>"), (Comprehension(("<li>", "</li>"), tuple((i,) for i in items), 20, keys),), 30)


def test_the_first_render_sends_statics_and_every_slot_and_the_root_flag():
    assert DiffState().diff(li("a")) == {"s": ["<li>", "</li>"], "0": "a", "r": 1}


def test_an_unchanged_render_is_an_empty_diff_and_a_changed_slot_only_that_slot():
    state = DiffState()
    page = Rendered(("<p>", " and ", "</p>"), ("a", "b"), 1)
    state.diff(page)
    assert state.diff(Rendered(page.static, (None, None), 1)) == {}
    assert state.diff(Rendered(page.static, ("a", "B"), 1)) == {"1": "B"}  # "a" is what the client has


def test_a_new_template_in_a_slot_is_sent_with_its_statics():
    state = DiffState()
    state.diff(Rendered(("<div>", "</div>"), ("",), 1))
    shown = Rendered(("<b>", "</b>"), ("on",), 2)
    assert state.diff(Rendered(("<div>", "</div>"), (shown,), 1)) == {"0": {"s": ["<b>", "</b>"], "0": "on"}}
    assert state.diff(Rendered(("<div>", "</div>"), (Rendered(("<b>", "</b>"), ("off",), 2),), 1)) == {"0": {"0": "off"}}


def test_a_comprehension_first_render_and_the_empty_one_as_a_string():
    assert DiffState().diff(ul(["a", "b"])) == {"s": ["<ul>", "</ul>"], "0": {"s": ["<li>", "</li>"], "k": {"0": {"0": "a"}, "1": {"0": "b"}, "kc": 2}}}
    assert DiffState().diff(ul([])) == {"s": ["<ul>", "</ul>"], "0": ""}


def test_inserting_in_front_of_keyed_entries_sends_the_moves_with_km():
    state = DiffState()
    state.diff(ul(["a", "b"], keys=("a", "b")))
    # the example of docs/protocol/liveview.md, "Merge rules"
    assert state.diff(ul(["x", "a", "b"], keys=("x", "a", "b"))) == {"0": {"k": {"0": {"0": "x"}, "1": 0, "2": 1, "kc": 3, "km": True}}}


def test_a_moved_entry_that_also_changed_is_sent_as_a_pair():
    state = DiffState()
    state.diff(ul(["a", "b"], keys=(1, 2)))
    assert state.diff(ul(["B", "a"], keys=(2, 1))) == {"0": {"k": {"0": [1, {"0": "B"}], "1": 0, "kc": 2, "km": True}}}


def test_deleting_and_updating_keyless_entries():
    state = DiffState()
    state.diff(ul(["a", "b", "c"]))
    assert state.diff(ul(["a", "B"])) == {"0": {"k": {"1": {"0": "B"}, "kc": 2}}}
    assert state.diff(ul(["a", "B"])) == {}  # nothing changed: nothing sent


def test_a_comprehension_that_becomes_empty_and_then_full_again():
    state = DiffState()
    state.diff(ul(["a"]))
    assert state.diff(ul([])) == {"0": {"k": {"kc": 0}}}
    assert state.diff(ul(["z"])) == {"0": {"k": {"0": {"0": "z"}, "kc": 1}}}


def test_a_full_render_with_an_unchanged_slot_is_a_clear_error():
    with pytest.raises(ValueError, match="slot 0 is None"):
        DiffState().diff(Rendered(("<p>", "</p>"), (None,), 1))


def test_repeated_keys_are_refused():
    state = DiffState()
    state.diff(ul(["a"], keys=("k",)))
    with pytest.raises(ValueError, match="must be unique"):
        state.diff(ul(["a", "b"], keys=("k", "k")))


def test_reset_starts_from_an_empty_client_again():
    state = DiffState()
    state.diff(li("a"))
    state.reset()
    assert state.diff(li("a")) == {"s": ["<li>", "</li>"], "0": "a", "r": 1}


# ---------------------------------------------------------------- end to end, random


def row(item):
    key, text, bold = item
    inner = Rendered(("<b>", "</b>"), (text,), 40) if bold else text
    return (str(key), inner)


def page(items, title, keyed):
    comp = Comprehension(('<li id="', '">', "</li>"), tuple(row(i) for i in items), 50, tuple(i[0] for i in items) if keyed else None)
    return Rendered(("<h1>", "</h1><ul>", "</ul>"), (title, comp), 60, root=False)


items = st.lists(
    st.tuples(st.integers(0, 12), st.sampled_from(["a", "b", "<c>"]), st.booleans()), max_size=8, unique_by=lambda t: t[0]
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(items, st.sampled_from(["T1", "T2"])), min_size=1, max_size=6), st.booleans())
def test_merging_the_diffs_always_gives_the_html_of_the_latest_render(renders, keyed):
    state = DiffState()
    client = None
    for entries, title in renders:
        rendered = page(entries, title, keyed)
        client = merge(client, state.diff(rendered))
        assert html(client) == rendered.to_html()


# ---------------------------------------------------------------- the docstrings, and the keys spelled once


def test_the_engine_s_and_the_wire_keys_docstrings_hold():
    import doctest

    import web.live._diff
    import web.live._wire

    for module in (web.live._diff, web.live._wire):
        assert doctest.testmod(module).failed == 0


def test_the_wire_keys_are_the_strings_of_liveview_md():
    # The constants may only be renamed, never respelled: the official client reads these strings.
    from web.live import _wire

    spelled = {name: getattr(_wire, name) for name in _wire.__all__}
    assert spelled == {
        "STATIC": "s", "ROOT": "r", "TEMPLATES": "p", "KEYED": "k", "KEYED_COUNT": "kc", "KEYED_MOVED": "km",
        "STREAM": "stream", "COMPONENTS": "c", "EVENTS": "e", "REPLY": "r", "TITLE": "t",
        "RENDERED": "rendered", "DIFF": "diff", "LIVE_PATCH": "live_patch", "LIVE_REDIRECT": "live_redirect",
        "REDIRECT": "redirect", "EVENT": "event", "ALLOW_UPLOAD": "allow_upload", "PROGRESS": "progress",
        "CIDS_WILL_DESTROY": "cids_will_destroy", "CIDS_DESTROYED": "cids_destroyed", "CHUNK": "chunk",
    }
