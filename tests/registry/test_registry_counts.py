"""Registry.count_by_key and what is built on it: pubsub.topics (what the dashboard lists)."""

import otp
from otp import Registry, pubsub
from otp.testing import kill_and_wait


def registrar(registry, *keys):
    """A process that registers under ``keys`` then waits to be killed."""

    async def body():
        for key in keys:
            Registry.register(registry, key)
        otp.send(parent, "registered")
        await otp.receive(lambda m: False)

    parent = otp.current_pid()
    return otp.spawn(body)


async def test_count_by_key_counts_live_entries_of_duplicate_keys():
    await Registry.start_link(keys=Registry.DUPLICATE, name="dup")
    a = registrar("dup", "x", "x", "y")
    b = registrar("dup", "x")
    for _ in range(2):
        await otp.receive(lambda m: m == "registered")
    assert Registry.count_by_key("dup") == {"x": 3, "y": 1}
    await kill_and_wait(a)
    assert Registry.count_by_key("dup") == {"x": 1}
    await kill_and_wait(b)
    assert Registry.count_by_key("dup") == {}


async def test_count_by_key_of_unique_keys_is_one_per_name_even_for_a_list_value():
    await Registry.start_link(keys=Registry.UNIQUE, name="uniq")
    Registry.register("uniq", "a", [1, 2, 3])
    Registry.register("uniq", "b")
    assert Registry.count_by_key("uniq") == {"a": 1, "b": 1}


async def test_pubsub_topics_lists_local_subscriptions_per_topic():
    await pubsub.start_link("ps")
    pubsub.subscribe("ps", "news")
    pubsub.subscribe("ps", "news")  # twice: two subscriptions, as in Phoenix
    pubsub.subscribe("ps", "sport")
    assert pubsub.topics("ps") == {"news": 2, "sport": 1}
    pubsub.unsubscribe("ps", "news")
    assert pubsub.topics("ps") == {"sport": 1}
