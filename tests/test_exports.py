"""Every public module's __all__ is complete, importable, and names itself."""

import importlib
import subprocess
import sys

import pytest

PUBLIC_MODULES = ["otp", "otp.lowlevel", "otp.testing", "otp.genserver", "otp.supervisor", "otp.task", "otp.registry", "otp.pubsub", "otp.dist", "otp.tracker", "otp.telemetry", "otp.introspection"]


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
    assert public - set(otp.__all__) <= {"lowlevel", "testing", "genserver", "supervisor", "task", "registry", "pubsub", "dist", "tracker", "telemetry", "introspection"}


def test_import_otp_needs_only_the_core_dependencies():
    # pytest and pytest-trio are dev extras: importing otp must not pull them in.
    code = "import sys, otp; print(sorted(m for m in ('pytest', 'pytest_trio') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
