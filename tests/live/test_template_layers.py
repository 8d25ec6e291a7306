"""The template layers (issue 11): the compiler knows no built-ins; compile_template adds them under yours."""

import pytest

from web.live._builtins import BUILTINS
from web.live._template import compile_template
from web.live._template_compile import compile_source
from web.live._template_parse import TemplateSyntaxError


def shout(assigns):
    return compile_source("<b>{@inner_block}!</b>").render(assigns)


def test_the_compiler_alone_knows_no_builtins():
    with pytest.raises(TemplateSyntaxError, match=r"unknown component <\.link>: .* \(known: none\)"):
        compile_source('<.link href="/">home</.link>')


def test_builtins_passed_to_the_compiler_are_found_after_the_templates_own():
    own_link = lambda assigns: shout(assigns)  # noqa: E731
    template = compile_source('<.link href="/">home</.link>', components={"link": own_link}, builtins=BUILTINS)
    assert template.render({}).dynamic[0].static == ("<b>", "!</b>")


def test_builtins_are_not_listed_as_known_components():
    with pytest.raises(TemplateSyntaxError, match=r"unknown component <\.nope>: .* \(known: shout\)"):
        compile_source("<.nope />", components={"shout": shout}, builtins=BUILTINS)


def test_compile_template_knows_the_builtins():
    rendered = compile_template('<.link navigate="/live/chat">chat</.link>').render({})
    link = rendered.dynamic[0]
    assert link.static == ("<a", "", "", "", ">", "</a>")
    assert link.dynamic[:4] == (' href="/live/chat"', ' data-phx-link="redirect"', ' data-phx-link-state="push"', "")
    assert (link.dynamic[4].static, link.dynamic[4].dynamic) == (("chat",), ())


def test_the_compiler_is_not_cached_compile_template_is():
    assert compile_source("<p>x</p>") is not compile_source("<p>x</p>")
    assert compile_template("<p>x</p>") is compile_template("<p>x</p>")
