"""Registry operations against every state of the process holding the key.

``TABLE`` gives, for each kind of keys and each operation, the exact result
when the holder ``H`` of key ``"k"`` is alive and when it is dead. Every row
runs against seven holder states: alive, and each way of dying (ended
normally, crashed, killed) twice, once while its exit signal is still
queued at the registry ("pending": the table still holds its entries and
reads must skip them) and once after the registry processed it ("cleaned").
A dead holder gives the same results in all six.

The setup of every case: a registry ``"reg"``; ``H`` registered ``"k"``
(value ``"h"`` in a unique registry; ``"h1"`` then ``"h2"`` in a duplicate
one); a bystander ``B`` registered ``"b"`` (value ``"x"``) and stays alive.
The operation runs in a third process ``N`` that holds nothing.

The other tests: a process acting on its own entries, metadata, reads that
never message the registry, unknown registries and bad arguments.
"""

import pytest

import otp
from otp.registry import UnknownRegistry
from otp import AlreadyRegistered, NotRegistered, Registry
from otp.lowlevel import queued_messages
from otp.testing import flush_mailbox, wait_all_tasks_blocked

from ._helpers import (
    ALIVE,
    CRASHED,
    ENDED_NORMALLY,
    KILLED,
    Agent,
    B,
    H,
    N,
    Raises,
    busy,
    check,
    end,
    pending_exit,
    resolve,
)

UNIQUE, DUPLICATE = Registry.UNIQUE, Registry.DUPLICATE
REG = "reg"

# What H registered under "k", per kind of keys.
HELD = {UNIQUE: ["h"], DUPLICATE: ["h1", "h2"]}


# ---------------------------------------------------------------- the operations, run in N


def op_lookup():
    return Registry.lookup(REG, "k")


def op_match():
    return Registry.match(REG, "k", lambda value: value in ("h", "h2"))


def op_dispatch():
    calls = []
    Registry.dispatch(REG, "k", calls.append)
    return calls


def op_keys(holder):
    return Registry.keys(REG, holder)


def op_count():
    return Registry.count(REG)


def op_register():
    Registry.register(REG, "k", "n")
    return Registry.lookup(REG, "k")


def op_unregister():
    Registry.unregister(REG, "k")  # N holds nothing under "k": no error, nothing removed
    return Registry.lookup(REG, "k")


def op_update_value():
    return Registry.update_value(REG, "k", lambda old: old + "!")


def op_meta():
    Registry.put_meta(REG, "owner", "n")
    return Registry.meta(REG, "owner")


def op_via_whereis():
    return otp.whereis(Registry.via(REG, "k"))


OPERATIONS = {
    "lookup": op_lookup,
    "match": op_match,
    "dispatch": op_dispatch,
    "keys": op_keys,
    "count": op_count,
    "register": op_register,
    "unregister": op_unregister,
    "update_value": op_update_value,
    "meta/put_meta": op_meta,
    "via whereis": op_via_whereis,
}

NOT_HELD = Raises(LookupError, "{N} has no entry under 'k' in 'reg'")
UNIQUE_ONLY = Raises(TypeError, "update_value works on unique registries only, as in Elixir")
VIA_UNIQUE_ONLY = Raises(TypeError)  # see the xfail marks below

# fmt: off
TABLE = [
    # keys       operation        H alive                                   H dead (all six ways)
    (UNIQUE,     "lookup",        [(H, "h")],                               []),
    (UNIQUE,     "match",         [(H, "h")],                               []),
    (UNIQUE,     "dispatch",      [[(H, "h")]],                             []),  # not called at all
    (UNIQUE,     "keys",          ["k"],                                    []),
    (UNIQUE,     "count",         2,                                        1),   # B's entry
    (UNIQUE,     "register",      Raises(AlreadyRegistered, "'k' is already registered to {H}", {"key": "k", "pid": H}),
                                                                            [(N, "n")]),
    (UNIQUE,     "unregister",    [(H, "h")],                               []),
    (UNIQUE,     "update_value",  NOT_HELD,                                 NOT_HELD),
    (UNIQUE,     "meta/put_meta", "n",                                      "n"),
    (UNIQUE,     "via whereis",   H,                                        None),
    (DUPLICATE,  "lookup",        [(H, "h1"), (H, "h2")],                   []),
    (DUPLICATE,  "match",         [(H, "h2")],                              []),
    (DUPLICATE,  "dispatch",      [[(H, "h1"), (H, "h2")]],                 []),
    (DUPLICATE,  "keys",          ["k", "k"],                               []),
    (DUPLICATE,  "count",         3,                                        1),
    (DUPLICATE,  "register",      [(H, "h1"), (H, "h2"), (N, "n")],         [(N, "n")]),
    (DUPLICATE,  "unregister",    [(H, "h1"), (H, "h2")],                   []),
    (DUPLICATE,  "update_value",  UNIQUE_ONLY,                              UNIQUE_ONLY),
    (DUPLICATE,  "meta/put_meta", "n",                                      "n"),
    (DUPLICATE,  "via whereis",   VIA_UNIQUE_ONLY,                          VIA_UNIQUE_ONLY),
]
# fmt: on


# (how H ends, whether its exit signal is still queued at the registry when N reads)
STATES = [
    (ALIVE, None),
    (ENDED_NORMALLY, "pending"),
    (ENDED_NORMALLY, "cleaned"),
    (CRASHED, "pending"),
    (CRASHED, "cleaned"),
    (KILLED, "pending"),
    (KILLED, "cleaned"),
]

CASES = [
    pytest.param(
        keys,
        name,
        how,
        phase,
        alive if how == ALIVE else dead,
        id=f"{keys.value}-{name}-{how}" + (f"-{phase}" if phase else ""),
        marks=[],
    )
    for keys, name, alive, dead in TABLE
    for how, phase in STATES
]


def test_the_table_covers_every_kind_and_operation_once():
    assert sorted((k.value, op) for k, op, *_ in TABLE) == sorted(
        (k.value, op) for k in (UNIQUE, DUPLICATE) for op in OPERATIONS
    )


@pytest.mark.parametrize(("keys", "name", "how", "phase", "expected"), CASES)
async def test_operation_against_the_holder_state(keys, name, how, phase, expected):
    me = otp.current_pid()
    registry = await Registry.start_link(keys=keys, name=REG)
    holder, bystander, actor = Agent.spawn(), Agent.spawn(), Agent.spawn()
    for value in HELD[keys]:
        await holder.run(Registry.register, REG, "k", value)
    await bystander.run(Registry.register, REG, "b", "x")
    pids = {H: holder.pid, N: actor.pid, B: bystander.pid}
    expected = resolve(expected, pids)

    if how != ALIVE:
        if phase == "pending":
            busy(registry)  # H's exit signal will queue behind these
        await end(holder, how)
        if phase == "cleaned":
            await wait_all_tasks_blocked()

    operation = OPERATIONS[name]
    args = (holder.pid,) if name == "keys" else ()

    def probe():
        pending = pending_exit(registry, holder.pid)
        try:
            return pending, ("ok", operation(*args))
        except Exception as error:
            return pending, ("raised", error)

    was_pending, result = await actor.run(probe)
    assert was_pending is (phase == "pending"), "the case did not run in the phase it names"
    check(result, expected)

    # Once the registry has processed everything, the entries and links are
    # those of the live processes: H's if alive, N's if it registered.
    await wait_all_tasks_blocked()
    assert queued_messages(registry) == []
    final = [(holder.pid, v) for v in HELD[keys]] if how == ALIVE else []
    if name == "register" and result[0] == "ok":
        final = result[1]
    assert Registry.lookup(REG, "k") == final
    assert Registry.lookup(REG, "b") == [(bystander.pid, "x")]
    linked = {me, bystander.pid} | ({holder.pid} if how == ALIVE else set())
    if any(pid == actor.pid for pid, _ in final):
        linked.add(actor.pid)
    assert otp.process_info(registry).links == tuple(sorted(linked))
    assert flush_mailbox() == []


# ---------------------------------------------------------------- a process and its own entries


def own_register_again():
    Registry.register(REG, "k", "again")
    return Registry.lookup(REG, "k")


def own_unregister():
    Registry.unregister(REG, "k")
    return Registry.lookup(REG, "k")


def own_update_value():
    return Registry.update_value(REG, "k", lambda old: old + "!")


def own_keys():
    return Registry.keys(REG, otp.current_pid())


def own_update_value_raising():
    def update(old):
        raise ValueError(f"no update for {old}")

    return Registry.update_value(REG, "k", update)


# fmt: off
OWN = [
    # keys       operation                 result                                                         H's entries after
    (UNIQUE,     own_register_again,       Raises(AlreadyRegistered, "'k' is already registered to {H}", {"key": "k", "pid": H}),
                                                                                                         [(H, "h")]),
    (UNIQUE,     own_unregister,           [],                                                            []),
    (UNIQUE,     own_update_value,         ("h!", "h"),                                                   [(H, "h!")]),
    (UNIQUE,     own_update_value_raising, Raises(ValueError, "no update for h"),                         [(H, "h")]),
    (UNIQUE,     own_keys,                 ["k"],                                                         [(H, "h")]),
    (DUPLICATE,  own_register_again,       [(H, "h1"), (H, "h2"), (H, "again")],                          [(H, "h1"), (H, "h2"), (H, "again")]),
    (DUPLICATE,  own_unregister,           [],                                                            []),  # both entries
    (DUPLICATE,  own_update_value,         UNIQUE_ONLY,                                                   [(H, "h1"), (H, "h2")]),
    (DUPLICATE,  own_update_value_raising, UNIQUE_ONLY,                                                   [(H, "h1"), (H, "h2")]),
    (DUPLICATE,  own_keys,                 ["k", "k"],                                                    [(H, "h1"), (H, "h2")]),
]
# fmt: on


@pytest.mark.parametrize(
    ("keys", "operation", "expected", "after"),
    [pytest.param(k, op, e, a, id=f"{k.value}-{op.__name__}") for k, op, e, a in OWN],
)
async def test_the_holder_acting_on_its_own_entries(keys, operation, expected, after):
    await Registry.start_link(keys=keys, name=REG)
    holder = Agent.spawn()
    for value in HELD[keys]:
        await holder.run(Registry.register, REG, "k", value)
    pids = {H: holder.pid}
    check(await holder.outcome(operation), resolve(expected, pids))
    assert Registry.lookup(REG, "k") == resolve(after, pids)
    assert Registry.keys(REG, holder.pid) == ["k"] * len(after)
    assert Registry.count(REG) == len(after)


async def test_duplicate_keys_from_several_processes_and_keys_listing():
    await Registry.start_link(keys=DUPLICATE, name=REG)
    a, b = Agent.spawn(), Agent.spawn()
    await a.run(Registry.register, REG, "topic", 1)
    await b.run(Registry.register, REG, "topic", 2)
    await a.run(Registry.register, REG, "topic", 3)
    await a.run(Registry.register, REG, "other", 4)
    assert sorted(Registry.lookup(REG, "topic")) == sorted([(a.pid, 1), (b.pid, 2), (a.pid, 3)])
    assert sorted(Registry.keys(REG, a.pid)) == ["other", "topic", "topic"]
    assert Registry.keys(REG, b.pid) == ["topic"]
    assert Registry.count(REG) == 4
    assert sorted(Registry.match(REG, "topic", lambda v: v > 1)) == sorted([(b.pid, 2), (a.pid, 3)])
    await a.run(Registry.unregister, REG, "topic")
    assert Registry.lookup(REG, "topic") == [(b.pid, 2)]
    assert Registry.keys(REG, a.pid) == ["other"]
    assert Registry.count(REG) == 2


async def test_lookup_of_a_key_nobody_registered_and_keys_of_a_process_that_registered_nothing():
    for keys in (UNIQUE, DUPLICATE):
        registry = await Registry.start_link(keys=keys)
        calls = []
        assert Registry.lookup(registry, "nobody") == []
        assert Registry.match(registry, "nobody", lambda v: True) == []
        Registry.dispatch(registry, "nobody", calls.append)
        assert calls == []
        assert Registry.keys(registry, otp.current_pid()) == []
        assert Registry.count(registry) == 0


async def test_a_registry_is_addressed_by_pid_or_by_name_alike():
    registry = await Registry.start_link(keys=UNIQUE, name=REG)
    assert otp.whereis(REG) == registry
    holder = Agent.spawn()
    await holder.run(Registry.register, registry, "k", "v")
    assert Registry.lookup(REG, "k") == Registry.lookup(registry, "k") == [(holder.pid, "v")]


async def test_a_registry_without_a_name_is_used_by_pid():
    registry = await Registry.start_link(keys=UNIQUE)
    assert otp.process_info(registry).registered_name is None
    holder = Agent.spawn()
    await holder.run(Registry.register, registry, ("user", 42), {"room": 1})
    assert Registry.lookup(registry, ("user", 42)) == [(holder.pid, {"room": 1})]
    assert otp.whereis(Registry.via(registry, ("user", 42))) == holder.pid


async def test_two_registries_are_independent():
    one = await Registry.start_link(keys=UNIQUE, name="one")
    two = await Registry.start_link(keys=UNIQUE, name="two")
    a, b = Agent.spawn(), Agent.spawn()
    await a.run(Registry.register, "one", "k", "a")
    await b.run(Registry.register, "two", "k", "b")  # the same key, another registry
    assert Registry.lookup("one", "k") == [(a.pid, "a")]
    assert Registry.lookup("two", "k") == [(b.pid, "b")]
    await a.run(Registry.unregister, "two", "k")  # a holds nothing in "two"
    assert Registry.lookup("two", "k") == [(b.pid, "b")]
    assert otp.process_info(a.pid).links == (one,)
    assert otp.process_info(b.pid).links == (two,)


# ---------------------------------------------------------------- metadata


async def test_meta_and_put_meta():
    await Registry.start_link(keys=UNIQUE, name=REG)
    assert Registry.meta(REG, "missing") is None
    assert Registry.meta(REG, "missing", "default") == "default"
    Registry.put_meta(REG, "config", {"a": 1})
    assert Registry.meta(REG, "config") == {"a": 1}
    Registry.put_meta(REG, "config", {"a": 2})  # overwrites
    assert Registry.meta(REG, "config", "default") == {"a": 2}
    # Any process may write it; doing so neither links it nor counts as an entry.
    writer = Agent.spawn()
    await writer.run(Registry.put_meta, REG, ("custom", 1), None)
    assert Registry.meta(REG, ("custom", 1), "default") is None  # a stored None is not the default
    assert otp.process_info(writer.pid).links == ()
    assert Registry.count(REG) == 0
    assert Registry.lookup(REG, "config") == []  # metadata is not an entry


# ---------------------------------------------------------------- reads never go through the registry process


READS = {
    "lookup": lambda: Registry.lookup(REG, "k"),
    "match": lambda: Registry.match(REG, "k", lambda v: True),
    "dispatch": lambda: Registry.dispatch(REG, "k", lambda entries: None),
    "keys": lambda: Registry.keys(REG, otp.current_pid()),
    "count": lambda: Registry.count(REG),
    "meta": lambda: Registry.meta(REG, "m"),
    "via whereis": lambda: otp.whereis(Registry.via(REG, "k")),
}


@pytest.mark.parametrize("read", READS)
async def test_reads_never_message_the_registry(read):
    registry = await Registry.start_link(keys=UNIQUE, name=REG)
    holder = Agent.spawn()
    await holder.run(Registry.register, REG, "k", "v")
    await wait_all_tasks_blocked()
    before = otp.process_info(registry)
    assert (before.message_queue_len, before.status) == (0, "waiting")
    for _ in range(100):
        READS[read]()
    await wait_all_tasks_blocked()  # anything sent to it would have been taken by now
    after = otp.process_info(registry)
    assert after.messages_received == before.messages_received
    assert (after.message_queue_len, after.status) == (0, "waiting")


async def test_reads_answer_while_the_registry_process_is_busy():
    registry = await Registry.start_link(keys=DUPLICATE, name=REG)
    holder = Agent.spawn()
    await holder.run(Registry.register, REG, "k", "v")
    await holder.run(Registry.put_meta, REG, "m", "meta")
    await wait_all_tasks_blocked()
    busy(registry, 5)  # the registry cannot handle any of them before we yield
    before = otp.process_info(registry)
    # The first went straight to the registry, parked in receive; the rest queue.
    assert (before.status, before.message_queue_len, before.messages_received) == ("runnable", 4, 0)
    calls = []
    assert Registry.lookup(REG, "k") == [(holder.pid, "v")]
    assert Registry.match(REG, "k", lambda v: v == "v") == [(holder.pid, "v")]
    Registry.dispatch(REG, "k", calls.append)
    assert calls == [[(holder.pid, "v")]]
    assert Registry.keys(REG, holder.pid) == ["k"]
    assert Registry.count(REG) == 1
    assert Registry.meta(REG, "m") == "meta"
    assert otp.process_info(registry) == before  # it has not run: the reads did not need it


async def test_dispatch_runs_in_the_caller_and_its_errors_reach_the_caller():
    await Registry.start_link(keys=DUPLICATE, name=REG)
    subscribers = [Agent.spawn() for _ in range(3)]
    for number, subscriber in enumerate(subscribers):
        await subscriber.run(Registry.register, REG, "topic", number)
    me = otp.current_pid()
    ran_in = []

    def broadcast(entries):
        ran_in.append(otp.current_pid())
        for pid, number in entries:
            otp.send(pid, ("event", number))

    Registry.dispatch(REG, "topic", broadcast)
    assert ran_in == [me]
    for number, subscriber in enumerate(subscribers):
        assert await otp.receive(lambda m: m[0] == "got" and m[1] == subscriber.pid) == (
            "got",
            subscriber.pid,
            ("event", number),
        )

    def failing(entries):
        raise ValueError(len(entries))

    with pytest.raises(ValueError) as raised:
        Registry.dispatch(REG, "topic", failing)
    assert raised.value.args == (3,)


# ---------------------------------------------------------------- unknown registries, bad arguments


CALLS = {
    "register": lambda r: Registry.register(r, "k", "v"),
    "unregister": lambda r: Registry.unregister(r, "k"),
    "update_value": lambda r: Registry.update_value(r, "k", lambda v: v),
    "lookup": lambda r: Registry.lookup(r, "k"),
    "match": lambda r: Registry.match(r, "k", lambda v: True),
    "dispatch": lambda r: Registry.dispatch(r, "k", lambda entries: None),
    "keys": lambda r: Registry.keys(r, otp.current_pid()),
    "count": lambda r: Registry.count(r),
    "meta": lambda r: Registry.meta(r, "m"),
    "put_meta": lambda r: Registry.put_meta(r, "m", 1),
    "via whereis": lambda r: otp.whereis(Registry.via(r, "k")),
    "send via": lambda r: otp.send(Registry.via(r, "k"), "hello"),
}


@pytest.mark.parametrize("call", CALLS)
async def test_an_unknown_registry_name_raises_not_registered(call):
    with pytest.raises(NotRegistered) as raised:
        CALLS[call]("nope")
    assert type(raised.value) is UnknownRegistry
    assert raised.value.name == "nope"
    assert otp.process_info(otp.current_pid()).links == ()


@pytest.mark.parametrize("call", CALLS)
async def test_a_name_held_by_a_process_that_is_not_a_registry_raises_not_registered(call):
    otp.register("impostor", Agent.spawn().pid)
    with pytest.raises(NotRegistered) as raised:
        CALLS[call]("impostor")
    assert raised.value.name == "impostor"
    assert otp.process_info(otp.current_pid()).links == ()


@pytest.mark.parametrize("call", [c for c in CALLS if "via" not in c])  # via: see test_registry_via.py
async def test_the_pid_of_a_registry_that_ended_raises_lookup_error(call):
    otp.trap_exits(True)
    registry = await Registry.start_link(keys=UNIQUE)
    await otp.GenServer.stop(registry)
    assert await otp.receive() == otp.ExitSignal(pid=registry, reason=otp.NORMAL)
    with pytest.raises(LookupError) as raised:  # today a plain LookupError; NotRegistered would do too
        CALLS[call](registry)
    assert repr(registry) in str(raised.value)


@pytest.mark.parametrize("call", CALLS)
async def test_the_name_of_a_registry_that_ended_raises_not_registered(call):
    otp.trap_exits(True)
    registry = await Registry.start_link(keys=UNIQUE, name=REG)
    await otp.GenServer.stop(REG)
    assert await otp.receive() == otp.ExitSignal(pid=registry, reason=otp.NORMAL)
    with pytest.raises(NotRegistered) as raised:
        CALLS[call](REG)
    assert raised.value.name == REG


@pytest.mark.parametrize(
    "keys",
    ["unique", "DUPLICATE", None, 1, True],
    ids=["'unique'", "'DUPLICATE'", "None", "1", "True"],
)
async def test_a_registry_started_with_bad_keys_raises_type_error(keys):
    with pytest.raises(TypeError) as raised:
        await Registry.start_link(keys=keys, name=REG)
    assert str(raised.value) == f"Registry keys must be Registry.UNIQUE or Registry.DUPLICATE; got {keys!r}"
    assert otp.whereis(REG) is None
    assert otp.processes() == [otp.current_pid()]  # nothing was started


async def test_keys_is_a_required_keyword():
    with pytest.raises(TypeError):
        await Registry.start_link(name=REG)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        await Registry.start_link(UNIQUE)  # type: ignore[misc]
    assert otp.processes() == [otp.current_pid()]


async def test_the_registry_name_is_taken():
    first = await Registry.start_link(keys=UNIQUE, name=REG)
    with pytest.raises(otp.AlreadyStarted) as raised:
        await Registry.start_link(keys=DUPLICATE, name=REG)
    assert (raised.value.name, raised.value.pid) == (REG, first)
    assert otp.processes() == [otp.current_pid(), first]
