"""otp.collector: collections measured, long-lived objects frozen, thresholds for a server, the endpoint's use of it."""

from __future__ import annotations

import doctest
import functools
import gc
import weakref

import pytest
import trio
import trio.testing

import otp.collector
from otp import collector, telemetry
from web import Endpoint, Response


@pytest.fixture(autouse=True)
def restore_the_collector():
    thresholds, callbacks = gc.get_threshold(), list(gc.callbacks)
    yield
    gc.set_threshold(*thresholds)
    gc.callbacks[:] = callbacks
    collector.unfreeze()
    collector.reset_statistics()


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


def test_every_pass_is_counted_and_timed_per_generation():
    collector.watch()
    collector.watch()  # idempotent: one callback
    assert gc.callbacks.count(collector._RECORDER) == 1
    collector.reset_statistics()
    gc.collect()
    gc.collect(0)
    stats = collector.statistics()
    assert stats.collections[2] == 1 and stats.collections[0] >= 1
    assert stats.pauses == sum(stats.collections)
    assert 0 < stats.max_pause <= stats.total_pause
    collector.unwatch()
    gc.collect()
    assert collector.statistics().collections[2] == 1  # no longer counted


def test_the_cycles_a_pass_frees_are_counted():
    collector.watch()
    collector.reset_statistics()
    gc.disable()
    try:
        for _ in range(10):
            a, b = Node(), Node()
            a.other, b.other = b, a
        del a, b
        gc.collect()
    finally:
        gc.enable()
    assert collector.statistics().collected >= 20


async def test_emit_reports_each_pass_as_a_telemetry_event_outside_the_collector():
    seen = []
    telemetry.attach("gc-test", collector.GC_EVENT, lambda name, measurements, metadata, config: seen.append(
        (name, metadata["generation"], measurements["duration"] > 0)
    ))
    try:
        collector.watch()
        collector.emit()  # drop what came before
        gc.collect()
        assert collector.emit() >= 1
        assert (collector.GC_EVENT, 2, True) in seen
        assert collector.emit() == 0  # each pass once
    finally:
        telemetry.detach("gc-test")


def test_freeze_takes_live_objects_out_of_reach_but_no_garbage_cycle():
    held = [Node() for _ in range(1000)]
    garbage_a, garbage_b = Node(), Node()
    garbage_a.other, garbage_b.other = garbage_b, garbage_a
    probe = weakref.ref(garbage_a)
    del garbage_a, garbage_b
    frozen = collector.freeze()
    assert probe() is None  # the cycle was collected, not frozen
    assert frozen == gc.get_freeze_count() >= 1000
    walked = {id(obj) for obj in gc.get_objects()}
    assert not any(id(node) in walked for node in held)  # a full pass no longer walks them
    collector.unfreeze()
    walked = {id(obj) for obj in gc.get_objects()}
    assert all(id(node) in walked for node in held)


def test_a_frozen_object_is_still_freed_when_its_last_reference_goes():
    node = Node()
    probe = weakref.ref(node)
    collector.freeze()
    del node
    assert probe() is None


def test_tune_for_server_and_restore_defaults():
    collector.tune_for_server()
    assert gc.get_threshold() == collector.SERVER_THRESHOLDS
    assert gc.get_freeze_count() > 0
    collector.restore_defaults()
    assert gc.get_threshold() == collector._DEFAULT_THRESHOLDS
    assert gc.get_freeze_count() == 0


def test_the_burst_freezer_example():
    assert doctest.testmod(otp.collector).failed == 0


async def test_an_endpoint_tunes_the_collector_once_listening_unless_told_not_to():
    async def handler(request):
        return Response(200, {}, b"ok")

    gc.set_threshold(700, 10, 10)
    gc.unfreeze()
    await Endpoint.start_link(handler, tune_gc=False)
    assert gc.get_threshold() == (700, 10, 10) and gc.get_freeze_count() == 0
    await Endpoint.start_link(handler)
    assert gc.get_threshold() == collector.SERVER_THRESHOLDS
    assert gc.get_freeze_count() > 0
    assert collector._RECORDER in gc.callbacks


async def test_an_endpoint_freezes_again_after_a_burst_of_connections(monkeypatch, autojump_clock):
    async def handler(request):
        return Response(200, {}, b"ok")

    freezes = []
    real_freeze = collector.freeze
    monkeypatch.setattr(collector, "freeze", lambda: freezes.append("freeze") or real_freeze())
    monkeypatch.setattr(collector, "BurstFreezer", functools.partial(collector.BurstFreezer, minimum=3, interval=0.0))
    endpoint = await Endpoint.start_link(handler)
    assert freezes == ["freeze"]  # once listening
    host, port = Endpoint.address(endpoint)
    streams = [await trio.open_tcp_stream(host, port) for _ in range(3)]
    await trio.testing.wait_all_tasks_blocked()  # all three accepted
    assert Endpoint.statistics(endpoint).active == 3
    await trio.sleep(1.5)  # past the next freeze check (every second), on the autojump clock
    assert freezes == ["freeze", "freeze"]
    for stream in streams:
        await stream.aclose()


def test_statistics_never_walk_the_frozen_objects(monkeypatch):
    held = [Node() for _ in range(1000)]
    frozen = collector.freeze()
    assert frozen == collector.statistics().frozen == gc.get_freeze_count() >= len(held)
    # gc.get_freeze_count() walks every frozen object (12 ms a million): statistics() must not call it.
    monkeypatch.setattr(gc, "get_freeze_count", lambda: pytest.fail("statistics() walked the frozen objects"))
    assert collector.statistics().frozen == frozen
    more = [Node() for _ in range(500)]
    assert collector.freeze() >= frozen + len(more)
    collector.unfreeze()
    assert collector.statistics().frozen == 0


async def test_an_endpoint_freezes_after_connections_made_even_when_they_closed(monkeypatch, autojump_clock):
    async def handler(request):
        return Response(200, {}, b"ok")

    freezes = []
    real_freeze = collector.freeze
    monkeypatch.setattr(collector, "freeze", lambda: freezes.append("freeze") or real_freeze())
    monkeypatch.setattr(collector, "BurstFreezer", functools.partial(collector.BurstFreezer, minimum=3, interval=0.0))
    endpoint = await Endpoint.start_link(handler)
    host, port = Endpoint.address(endpoint)
    for _ in range(3):  # never more than one open: churn, not growth
        stream = await trio.open_tcp_stream(host, port)
        await trio.testing.wait_all_tasks_blocked()
        await stream.aclose()
        await trio.testing.wait_all_tasks_blocked()
    assert Endpoint.statistics(endpoint).active == 0
    assert Endpoint.statistics(endpoint).accepted == 3
    await trio.sleep(1.5)  # past the next freeze check (every second), on the autojump clock
    assert freezes == ["freeze", "freeze"]  # once listening, once after the three
