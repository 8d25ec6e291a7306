"""The public surface of web.testing and web.live: __all__ complete, names homed in the facade, old names kept.

As tests/test_exports.py does for otp: every name in ``__all__`` exists,
nothing public is left out, and what the package defines says it lives in
the facade (``<class 'web.testing.Redirect'>``, not ``web.testing._results``).
"""

import ast
import importlib
import warnings
from pathlib import Path

import pytest

import web.live
import web.testing

FACADES = ["web.testing", "web.live"]

# Every name web/testing.py exported before it became a package: tests, README and apps import them.
TESTING_NAMES = {
    "connect", "ClientSocket", "TestTransport", "ANY",
    "live", "LiveViewTest", "Element", "Redirect", "Upload", "UploadError", "element", "render", "render_click",
    "render_change", "render_submit", "render_hook", "render_patch", "render_upload", "file_input", "has_element",
    "assert_patch", "assert_redirect", "assert_push_event", "follow_redirect", "page_title", "wait_for_html",
}


@pytest.mark.parametrize("module_name", FACADES)
def test_every_name_in_all_exists_once(module_name):
    module = importlib.import_module(module_name)
    assert [name for name in module.__all__ if not hasattr(module, name)] == []
    assert len(set(module.__all__)) == len(module.__all__)


@pytest.mark.parametrize("module_name", FACADES)
def test_what_the_package_defines_says_it_lives_in_the_facade(module_name):
    module = importlib.import_module(module_name)
    elsewhere = {
        name: obj.__module__
        for name in module.__all__
        if (obj := getattr(module, name)) is not None
        and isinstance(getattr(obj, "__module__", None), str)
        and obj.__module__.startswith(module_name + ".")
    }
    assert elsewhere == {}


@pytest.mark.parametrize("module_name", FACADES)
def test_the_facade_has_no_public_name_outside_all(module_name):
    module = importlib.import_module(module_name)
    public = {name for name in vars(module) if not name.startswith(("_", "@"))}
    submodules = {name for name in public if getattr(getattr(module, name), "__name__", "") == f"{module_name}.{name}"}
    assert public - set(module.__all__) == submodules


def test_reprs_name_the_facade():
    assert repr(web.testing.Redirect) == "<class 'web.testing.Redirect'>"
    assert repr(web.testing.ClientSocket) == "<class 'web.testing.ClientSocket'>"
    assert web.testing.live.__module__ == "web.testing"
    assert repr(web.live.DiffState) == "<class 'web.live.DiffState'>"
    assert repr(web.live.LiveView) == "<class 'web.live.LiveView'>"


def test_web_testing_still_exports_every_name_it_did():
    assert TESTING_NAMES <= set(web.testing.__all__)


def test_no_module_of_web_testing_imports_a_private_name():
    # Each module of the package takes only public names from the others (and from the server side).
    package = Path(web.testing.__file__).parent
    private = []
    for path in sorted(package.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom):
                private += [f"{path.name}: {node.module}.{alias.name}" for alias in node.names if alias.name.startswith("_")]
    assert private == []


# ---------------------------------------------------------------- web.live.Tracker → DiffState (one name, one thing)


def test_the_old_diff_state_name_warns_and_is_the_same_class():
    with pytest.warns(DeprecationWarning, match=r"^web\.live\.Tracker is deprecated: it is web\.live\.DiffState \(otp\.Tracker is presence\)$"):
        old = web.live.Tracker
    assert old is web.live.DiffState
    assert "Tracker" not in web.live.__all__


def test_importing_the_old_name_warns_at_the_import():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        from web.live import Tracker
    assert Tracker is web.live.DiffState
    assert {(w.category, w.filename) for w in caught} == {(DeprecationWarning, __file__)}


def test_an_unknown_name_of_web_live_is_an_attribute_error():
    with pytest.raises(AttributeError, match=r"^module 'web\.live' has no attribute 'Trackr'$"):
        web.live.Trackr  # noqa: B018
