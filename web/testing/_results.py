"""What the LiveView helpers return instead of HTML: where the view went, or what the server refused.

``render_click`` and the other ``render_*`` helpers return the view's HTML,
unless the server's answer navigates away (a :class:`Redirect`, as Phoenix
returns ``{:error, {:live_redirect, %{to: ...}}}``) or refuses an upload
(an :class:`UploadError`). Both compare like values::

    >>> Redirect("live_redirect", "/other") == Redirect("live_redirect", "/other", source="the view")
    True
    >>> UploadError([("a.png", "too_large")])
    UploadError(errors=[('a.png', 'too_large')])
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from ._live import LiveViewTest, Page  # (which import this module)

__all__ = ["Redirect", "UploadError"]


@attrs.frozen
class Redirect:
    """The view navigated away: ``kind`` is ``"live_redirect"`` (push_navigate) or ``"redirect"``.

    ``flash`` is the flash it carries (decoded); ``replace`` says a live
    redirect replaces the history entry. Compare it like a value
    (``Redirect("redirect", "/login")``); :func:`follow_redirect` goes there.
    """

    kind: str
    to: str
    flash: dict = attrs.field(factory=dict)
    replace: bool = False
    # Where it came from, for follow_redirect (not part of the value): a
    # LiveViewTest, or the page whose dead render redirected.
    source: LiveViewTest | Page | None = attrs.field(default=None, eq=False, repr=False)
    flash_token: str | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen
class UploadError:
    """The server refused files: ``errors`` is ``[(client file name, reason), ...]``.

    A reason about the whole upload (``too_many_files``) is given under the
    upload's name instead of a file's.
    """

    errors: list
