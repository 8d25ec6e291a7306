"""LiveView: server-rendered pages updated by diffs over a channel (docs/protocol/liveview.md).

A LiveView is a process that renders HTML from its assigns, receives the
page's events over the ``/live`` socket and answers each with only what
changed. The official ``phoenix_live_view`` JavaScript client drives it
unchanged. A counter::

    COUNTER = compile_template('''<div>
      <h1>Count: <span id="count">{@count}</span></h1>
      <button id="inc" phx-click="inc">+</button>
    </div>''')

    class Counter(LiveView):
        async def mount(self, params, session, socket):
            socket.assign(count=0)

        async def handle_event(self, event, value, socket):
            if event == "inc":
                socket.update("count", lambda n: n + 1)

        def render(self, assigns, changed):
            return COUNTER.render(assigns, changed)     # only slots reading changed assigns

    router = LiveRouter(secret=SECRET, routes={"/counter": Counter}, pubsub="live")
    await Endpoint.start_link(router.http(), websocket=router.websocket())

The pieces, each in the file named after it:

* templates (``_template.py``, the manual and ``compile_template``):
  HEEx-like, parsed (``_template_parse.py``) and compiled to Python
  (``_template_compile.py``, which knows no built-in components),
  change-tracked;
* the diff engine (``_diff.py``, its state :class:`DiffState`): rendered
  trees in, the JSON of docs/protocol/liveview.md, "Rendered diffs", out, with the wire keys of ``_wire.py``;
* the behaviour and its socket (``_view.py``): assigns, flash, navigation,
  streams (``_stream.py``), async assigns (``_async.py``), uploads
  (``_upload.py``, straight to storage with ``_s3.py``'s presigned URLs),
  lifecycle hooks (``_hooks.py``);
* nested views (``_nested.py``): ``live_render`` of a child view, with a
  process of its own;
* stateful components (``_component.py``) and the built-in function
  components ``<.live_component>``, ``<.live_file_input>``, ``<.link>``,
  ``<.form>``, ``<.input>``, ``<.inputs_for>`` (``_builtins.py``);
* forms (``_forms.py``): ``to_form`` and the :class:`Form` those render,
  ``used_input``, and the decoding of form bodies;
* the process (``_server.py``), which reads every join and push through
  ``_payloads.py`` (each field's type checked: a wrong one is answered with
  an error, never a crash; form bodies decoded by ``_forms.py``), and the
  router with the dead render (``_router.py``); JS commands (``js.py``).
"""

from ._async import AsyncResult
from ._component import LiveComponent, send_update
from ._diff import DiffState
from ._forms import Form, FormField, to_form, used_input
from ._hooks import Halt
from ._nested import live_render
from ._rendered import Comprehension, Rendered
from ._router import LiveRoute, LiveRouter, LiveSession, default_layout, live_title
from ._s3 import presigned_put_url
from ._server import LIVEVIEW_VERSION, SESSION_SALT, HTTPError, LiveViewChannel
from ._stream import LiveStream
from ._template import (
    Template,
    TemplateRenderError,
    TemplateSyntaxError,
    compile_template,
    render_slot,
    template_from_file,
    template_next_to,
)
from ._upload import UploadConfig, UploadEntry, upload_error_message
from ._view import HALT, LiveSocket, LiveView
from .js import JS

__all__ = [
    "LiveView",
    "LiveSocket",
    "LiveComponent",
    "LiveRouter",
    "LiveViewChannel",
    "LiveStream",
    "AsyncResult",
    "UploadConfig",
    "UploadEntry",
    "HALT",
    "Halt",
    "LiveRoute",
    "LiveSession",
    "live_render",
    "live_title",
    "presigned_put_url",
    "HTTPError",
    "JS",
    "send_update",
    "upload_error_message",
    "default_layout",
    "Rendered",
    "Comprehension",
    "DiffState",
    "LIVEVIEW_VERSION",
    "SESSION_SALT",
    "compile_template",
    "template_from_file",
    "template_next_to",
    "Template",
    "TemplateSyntaxError",
    "TemplateRenderError",
    "render_slot",
    "to_form",
    "used_input",
    "Form",
    "FormField",
]


def __getattr__(name: str):
    # Deprecated names, resolved on use so that the warning points at the importer.
    if name == "Tracker":
        import warnings

        warnings.warn(
            "web.live.Tracker is deprecated: it is web.live.DiffState (otp.Tracker is presence)",
            DeprecationWarning, stacklevel=2,
        )
        return DiffState
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


from otp.lowlevel import fixup_module_metadata  # noqa: E402

fixup_module_metadata(__name__, globals())
del fixup_module_metadata
