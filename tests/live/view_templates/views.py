"""Views whose templates are a class attribute or a file beside this module (tests/live/test_view_templates.py)."""

from web.live import LiveView


def shout(text):
    return text.upper() + "!"


def badge(assigns):
    from web.live import compile_template

    return compile_template('<b class="badge">{@inner_block}</b>').render(assigns)


class TodoLive(LiveView):
    """No render, no template attribute: todo_live.html.heex beside this module is its template."""

    async def mount(self, params, session, socket):
        socket.assign(todos=[{"id": 1, "title": "milk"}])

    async def handle_event(self, event, value, socket):
        socket.update("todos", lambda todos: [*todos, {"id": len(todos) + 1, "title": value["title"]}])


class Greeter(LiveView):
    """The template as a class attribute; the module's names (shout, badge) are known to it."""

    template = """<div id="greeting"><.badge>{shout(@name)}</.badge> <span>{@visits}</span></div>"""

    async def mount(self, params, session, socket):
        socket.assign(name="ann", visits=0)

    async def handle_event(self, event, value, socket):
        socket.update("visits", lambda n: n + 1)


class LoudGreeter(Greeter):
    """Inherits Greeter's template."""


class NoTemplate(LiveView):
    """Neither render, nor template, nor a file: rendering it says what to do."""
