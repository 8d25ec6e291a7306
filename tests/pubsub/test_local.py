"""The Local adapter passes the shared adapter suite."""

import pytest

from otp.pubsub import Local

from .adapter_suite import *  # noqa: F401,F403


@pytest.fixture
def make_adapter():
    return Local
