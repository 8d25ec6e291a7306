"""The components every template knows: ``<.live_component>``, ``<.live_file_input>``, ``<.link>``.

They are Phoenix.Component's built-ins, written with our own templates::

    <.live_component module={Card} id="card-1" title={@title} />   stateful component (its cid)
    <.live_file_input upload={@uploads.avatar} />                   the file input of an upload
    <.link navigate="/live/chat">chat</.link>                        live navigation (same socket)
    <.link patch="/live/counter?step=2">by two</.link>               same view, new params
    <.link href="/">home</.link>                                     an ordinary link

A template's own ``components=`` of the same name take precedence.
"""

from __future__ import annotations

from ._component import live_component
from ._template_compile import compile_source

__all__ = ["BUILTINS", "live_file_input", "link"]

# Compiled by the layer under web.live._template, which knows no built-ins
# (these use none): compile_template itself imports this module.
_FILE_INPUT = compile_source(
    """<input id={@upload.ref} type="file" name={@upload.name} accept={@accept}
  data-phx-hook="Phoenix.LiveFileUpload" data-phx-update="ignore"
  data-phx-upload-ref={@upload.ref}
  data-phx-active-refs={",".join(e.ref for e in @upload.entries)}
  data-phx-done-refs={",".join(e.ref for e in @upload.entries if e.done)}
  data-phx-preflighted-refs={",".join(e.ref for e in @upload.entries if e.preflighted)}
  data-phx-auto-upload={@upload.auto_upload}
  multiple={@upload.max_entries > 1} {@rest} />""",
    "web/live/_builtins.py:live_file_input",
)


def live_file_input(assigns: dict):
    """``<.live_file_input upload={@uploads.name} />``: the input the client's uploader drives

    (docs/protocol/liveview.md, "Uploads").
    """
    upload = assigns.get("upload")
    if upload is None or not hasattr(upload, "entries"):
        raise TypeError(f"<.live_file_input> needs upload={{@uploads.<name>}}; got {upload!r}")
    rest = {k: v for k, v in assigns.items() if k not in ("upload", "accept", "inner_block")}
    accept = assigns.get("accept") or upload.accept_attribute()
    return _FILE_INPUT.render({"upload": upload, "accept": accept, "rest": rest})


_LINK = compile_source(
    """<a href={@href} data-phx-link={@kind} data-phx-link-state={@state} {@rest}>{@inner_block}</a>""",
    "web/live/_builtins.py:link",
)


def link(assigns: dict):
    """``<.link navigate=... | patch=... | href=...>``: a live or ordinary link."""
    rest = {k: v for k, v in assigns.items() if k not in ("navigate", "patch", "href", "replace", "inner_block")}
    state: str | None = "replace" if assigns.get("replace") else "push"
    kind: str | None
    if assigns.get("navigate") is not None:
        href, kind = assigns["navigate"], "redirect"
    elif assigns.get("patch") is not None:
        href, kind = assigns["patch"], "patch"
    else:
        href, kind, state = assigns.get("href", "#"), None, None
    return _LINK.render({"href": href, "kind": kind, "state": state, "rest": rest, "inner_block": assigns.get("inner_block")})


BUILTINS = {"live_component": live_component, "live_file_input": live_file_input, "link": link}
