"""What a transport sends the socket process (web/socket.py): ClientFrame, then TransportClosed (issue 11)."""

import orjson

import otp
from otp import NORMAL, PubSub, Shutdown, current_pid, monitor, spawn
from otp.testing import assert_down, assert_receive
from web.channel import Channel
from web.socket import ClientFrame, Socket, SocketState, TransportClosed


class Room(Channel):
    async def join(self, topic, payload, socket):
        otp.send(socket.assigns["test"], ("channel", current_pid()))


class RoomSocket(Socket):
    channels = {"room:*": Room}


class ToTest:
    """A transport that mails every frame (decoded) and close code to the test process."""

    def __init__(self, test) -> None:
        self.test = test

    def send(self, frame) -> None:
        otp.send(self.test, ("frame", orjson.loads(frame)))

    def close(self, code: int) -> None:
        otp.send(self.test, ("close", code))


async def serve(test) -> None:
    await SocketState(RoomSocket(), {"test": test}, ToTest(test), pubsub="test_socket_messages").serve()


async def start():
    await PubSub.start_link("test_socket_messages")
    pid = spawn(serve, current_pid())
    return pid, monitor(pid)


def test_the_messages_are_slotted_and_say_what_they_carry():
    assert ClientFrame.__slots__ == ("data",) and TransportClosed.__slots__ == ()
    assert ClientFrame('[null,"1","phoenix","heartbeat",{}]').data == '[null,"1","phoenix","heartbeat",{}]'
    assert repr(ClientFrame(b"\x00")) == "ClientFrame(b'\\x00')"
    assert repr(TransportClosed()) == "TransportClosed()"


async def test_a_client_frame_is_handled_as_a_frame_from_the_client():
    pid, ref = await start()
    otp.send(pid, ClientFrame('[null,"1","phoenix","heartbeat",{}]'))
    reply = await assert_receive(lambda m: m[0] == "frame")
    assert reply == ("frame", [None, "1", "phoenix", "phx_reply", {"status": "ok", "response": {}}])


async def test_transport_closed_ends_the_channels_and_the_socket_process_normally():
    pid, ref = await start()
    otp.send(pid, ClientFrame('["1","1","room:a","phx_join",{}]'))
    _, channel = await assert_receive(lambda m: m[0] == "channel")
    channel_ref = monitor(channel)
    reply = await assert_receive(lambda m: m[0] == "frame")
    assert reply == ("frame", ["1", "1", "room:a", "phx_reply", {"status": "ok", "response": {}}])
    otp.send(pid, TransportClosed())
    await assert_down(channel_ref, Shutdown("closed"))
    await assert_down(ref, NORMAL)
