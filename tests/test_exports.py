"""Every public module's __all__ is complete, importable, and names itself."""

import importlib
import subprocess
import sys

import pytest

OTP_MODULES = ["otp", "otp.lowlevel", "otp.testing", "otp.genserver", "otp.supervisor", "otp.task", "otp.agent", "otp.port", "otp.program", "otp.watcher", "otp.collector", "otp.registry", "otp.pubsub", "otp.pubsub.adapter", "otp.pubsub.redis", "otp.pubsub.broker", "otp.dist", "otp.tracker", "otp.telemetry", "otp.introspection", "otp.log", "otp.chaos", "otp.sys"]
WEB_MODULES = ["web", "web.endpoint", "web.socket", "web.channel", "web.presence", "web.serializer", "web.token", "web.metrics", "web.live", "web.live.js", "web.testing", "web.transports.websocket", "web.transports.longpoll", "web.transports.phoenix", "web.dashboard", "web.router", "web.session", "web.plugs", "web.static", "web.asgi", "web.playground", "web.workers"]
PUBLIC_MODULES = OTP_MODULES + WEB_MODULES


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_every_name_in_all_exists(module_name):
    module = importlib.import_module(module_name)
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert missing == []
    assert len(set(module.__all__)) == len(module.__all__)


def test_public_names_of_otp_say_otp_in_their_module():
    import otp

    wrong = [
        name
        for name in otp.__all__
        if hasattr(getattr(otp, name), "__module__") and callable(getattr(otp, name))
        and getattr(otp, name).__module__ != "otp"
    ]
    assert wrong == []
    assert repr(otp.Down) == "<class 'otp.Down'>"


def test_otp_lists_every_public_kernel_name():
    import otp

    # ("@py..." names are pytest's assertion rewriting, not ours.)
    public = {name for name in vars(otp) if not name.startswith(("_", "@"))}
    assert public - set(otp.__all__) <= {"lowlevel", "testing", "genserver", "supervisor", "task", "agent", "port", "program", "watcher", "collector", "registry", "pubsub", "dist", "tracker", "telemetry", "introspection", "log", "chaos", "sys"}


def test_import_otp_needs_only_the_core_dependencies():
    # pytest and pytest-trio are dev extras: importing otp must not pull them in.
    code = "import sys, otp; print(sorted(m for m in ('pytest', 'pytest_trio') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_every_kernel_name_is_public_somewhere():
    # The behaviours are built from otp._kernel's names only; each of them must be
    # one a user or extender can import too (otp, otp.lowlevel or otp.telemetry).
    import otp
    import otp._kernel
    import otp.lowlevel
    import otp.telemetry

    # run_node is the kernel's run, which otp.run (otp/_application.py) wraps and exports.
    public = set(otp.__all__) | set(otp.lowlevel.__all__) | set(otp.telemetry.__all__) | {"run_node"}
    assert sorted(set(otp._kernel.__all__) - public) == []


@pytest.mark.parametrize("module_name", ["web", "web.live", "web.testing"])
def test_the_web_facades_name_themselves_in_reprs(module_name):
    module = importlib.import_module(module_name)
    wrong = {
        name: obj.__module__
        for name in module.__all__
        if isinstance(obj := getattr(module, name), type) and obj.__module__.startswith(module_name + ".")
    }
    assert wrong == {}


def test_import_web_does_not_import_the_test_client_or_the_demo():
    code = "import sys, web, web.live; print(sorted(m for m in sys.modules if m.startswith(('web.testing', 'web.demo', 'pytest'))))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
