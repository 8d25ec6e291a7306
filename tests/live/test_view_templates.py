"""A view's template as a class attribute or a file beside its module: no ``render`` needed (issue #16).

``render(assigns, changed)`` is then the template's, change tracking kept:
an event that changes one assign sends that assign's slots only.
"""

import pytest
from view_templates.views import Greeter, LoudGreeter, NoTemplate, TodoLive

from otp import PubSub
from web.live import LiveRouter, LiveView, Template, TemplateSyntaxError, compile_template
from web.testing import live


async def test_a_template_file_beside_the_module_named_after_the_class_is_its_template():
    assert isinstance(TodoLive.template, Template)
    assert TodoLive.template.filename.endswith("tests/live/view_templates/todo_live.html.heex")
    await PubSub.start_link("vt")
    view = await live(LiveRouter(secret="s", routes={"/todos": TodoLive}, pubsub="vt"), "/todos")
    assert '<li>milk</li>\n</ul>\n<p id="count">1 to do</p>' in view.html
    response = await view.call("event", {"type": "click", "event": "add", "value": {"title": "eggs"}})
    # Change tracking kept: only @todos changed, so only its slots are sent.
    assert response["diff"] == {"0": {"k": {"1": {"0": "eggs"}, "kc": 2}}, "1": "2"}


async def test_a_template_class_attribute_is_compiled_with_the_module_s_names():
    await PubSub.start_link("vt")
    router = LiveRouter(secret="s", routes={"/hi": Greeter, "/loud": LoudGreeter}, pubsub="vt")
    view = await live(router, "/hi")
    assert '<div id="greeting"><b class="badge">ANN!</b> <span>0</span></div>' in view.html
    response = await view.call("event", {"type": "click", "event": "visit", "value": {}})
    assert response["diff"] == {"1": "1"}  # the badge's slot reads @name only: not re-rendered
    assert LoudGreeter.template is Greeter.template
    assert '<b class="badge">ANN!</b>' in (await live(router, "/loud")).html


def test_a_template_attribute_with_a_syntax_error_fails_when_the_class_is_made():
    with pytest.raises(TemplateSyntaxError) as caught:
        type("Broken", (LiveView,), {"template": "<p>\n{@a +}</p>"})
    assert (caught.value.filename, caught.value.line) == (f"{__file__}:Broken.template", 2)


def test_a_compiled_template_may_be_given_as_is():
    page = compile_template("<p>{@x}</p>")

    class Given(LiveView):
        template = page

    assert Given.template is page
    assert Given().render({"x": 1}, None).to_html() == "<p>1</p>"


def test_a_view_with_its_own_render_keeps_it():
    class Custom(LiveView):
        def render(self, assigns, changed):
            return compile_template("<i>custom</i>").render(assigns)

    assert Custom.template is None
    assert Custom().render({}, None).to_html() == "<i>custom</i>"


def test_a_template_attribute_of_another_type_is_refused():
    with pytest.raises(TypeError) as caught:
        type("Wrong", (LiveView,), {"template": 42})
    assert str(caught.value) == (
        "Wrong.template must be template source (a str) or a compiled Template (compile_template, "
        "template_next_to); got 42"
    )


def test_rendering_a_view_without_any_template_says_the_three_ways():
    with pytest.raises(NotImplementedError) as caught:
        NoTemplate().render({}, None)
    assert str(caught.value) == (
        "NoTemplate has nothing to render: define render(assigns, changed), set template = '''...''' "
        "on the class, or put no_template.html.heex beside its module"
    )
