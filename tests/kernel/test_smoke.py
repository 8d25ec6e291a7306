import otp
from otp.testing import assert_receive


async def test_test_body_is_a_process():
    pid = otp.current_pid()
    otp.send(pid, "hi")
    assert await assert_receive(str) == "hi"
