// Drives the demo chat server with the official `phoenix` client (npm, 1.8.16)
// over `ws`, and prints what it observed as one JSON line per scenario.
//
//   node chat_client.mjs <scenario> <ws url, e.g. ws://127.0.0.1:4000/socket> [websocket|longpoll]
//
// Several URLs, comma-separated, put the clients on them in turn (the first
// client connects to the first, the second to the second...): with workers,
// one URL per worker puts alice and bob on different workers (tests/web/test_demo_workers.py).
//
// The Python tests (tests/web/test_js_client.py, and tests/web/test_longpoll_js.py
// over long-poll) start the server, run a
// scenario and assert on the JSON. Every wait is for an event, bounded by a
// timeout that fails the scenario.
import { Socket, Presence, LongPoll } from "phoenix";
import WebSocket from "ws";

// The transport: "websocket" (the default) or "longpoll" (the client forced to LongPoll, as in a browser
// that cannot open a WebSocket); the scenarios report the same on both, but for close_and_unmatched's
// leave within 1 s, which only a closing WebSocket tells the server (see tests/web/test_longpoll_js.py).
const [scenario, url, transportName = "websocket"] = process.argv.slice(2);
const urls = url.split(",");
let connections = 0;
const Transport = transportName === "longpoll" ? LongPoll : WebSocket;
const TIMEOUT = 5000;

function connect(user, extra = {}) {
  const socket = new Socket(urls[connections++ % urls.length], { transport: Transport, params: { user }, ...extra });
  socket.connect();
  return socket;
}

function within(promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), TIMEOUT);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function join(channel) {
  return within(
    new Promise((resolve) => {
      channel
        .join()
        .receive("ok", (response) => resolve({ status: "ok", response }))
        .receive("error", (response) => resolve({ status: "error", response }));
    }),
    `the join of ${channel.topic}`,
  );
}

function push(channel, event, payload) {
  return within(
    new Promise((resolve) => {
      channel
        .push(event, payload)
        .receive("ok", (response) => resolve({ status: "ok", response }))
        .receive("error", (response) => resolve({ status: "error", response }))
        .receive("timeout", () => resolve({ status: "timeout" }));
    }),
    `the reply to ${event}`,
  );
}

function next(channel, event) {
  return within(new Promise((resolve) => channel.on(event, resolve)), `${event} on ${channel.topic}`);
}

// One Presence per channel (a second one would never see the presence_state
// already applied, and would queue every diff for ever: docs/protocol/channels.md, "How the client merges presence").
function watchPresence(channel) {
  const presence = new Presence(channel);
  let waiters = [];
  const users = () => presence.list((key) => key).sort();
  presence.onSync(() => {
    const now = users();
    waiters = waiters.filter(([predicate, resolve]) => (predicate(now) ? (resolve(now), false) : true));
  });
  return {
    until(predicate) {
      const now = users();
      if (predicate(now)) return Promise.resolve(now);
      return within(new Promise((resolve) => waiters.push([predicate, resolve])), `a presence list on ${channel.topic}`);
    },
  };
}

const scenarios = {
  async close_and_unmatched() {
    const alice = connect("alice");
    const bob = connect("bob");
    const unmatched = await join(alice.channel("lobby", {}));
    const a = alice.channel("room:lobby", {});
    const b = bob.channel("room:lobby", {});
    const bobSees = watchPresence(b);
    await join(b);
    await join(a);
    await bobSees.until((users) => users.length === 2);
    const started = Date.now();
    alice.disconnect();
    const afterClose = await bobSees.until((users) => users.length === 1);
    const leaveMs = Date.now() - started;
    bob.disconnect();
    return { unmatched, afterClose, leftWithin1s: leaveMs < 1000 };
  },

  async basic() {
    const socket = connect("alice");
    const channel = socket.channel("room:lobby", {});
    const present = watchPresence(channel).until((users) => users.includes("alice"));
    const joined = await join(channel);
    const ping = await push(channel, "ping", { n: 1, nested: { ok: true } });
    const users = await present;
    const shout = next(channel, "shout");
    channel.push("shout", { body: "hello" });
    const heard = await shout;
    const invalid = await push(channel, "shout", { body: 42 });
    const count = await push(channel, "count", {});
    const unknown = await push(channel, "dance", {});
    socket.disconnect();
    return { joined, ping, users, heard, invalid, count, unknown };
  },

  async refused() {
    const socket = new Socket(url, { transport: Transport, params: { user: "not valid!" }, reconnectAfterMs: () => 60000 });
    const errored = within(new Promise((resolve) => socket.onError(() => resolve(true))), "the refusal");
    socket.connect();
    const result = { errored: await errored, connected: socket.isConnected() };
    socket.disconnect();
    return result;
  },

  async secret() {
    const socket = connect("alice");
    const refused = await join(socket.channel("room:secret", {}));
    const accepted = await join(socket.channel("room:secret", { password: "letmein" }));
    socket.disconnect();
    return { refused, accepted };
  },

  async crash_rejoin() {
    const socket = connect("alice");
    const channel = socket.channel("room:lobby", {});
    const other = socket.channel("room:other", {});
    await join(channel);
    await join(other);
    const errored = within(new Promise((resolve) => channel.onError((reason) => resolve(reason ?? null))), "phx_error");
    const rejoined = within(
      new Promise((resolve) => {
        let errors = 0;
        channel.onError(() => (errors += 1));
        const timer = setInterval(() => {
          if (errors > 0 && channel.state === "joined") {
            clearInterval(timer);
            resolve(channel.state);
          }
        }, 20);
      }),
      "the rejoin",
    );
    channel.push("crash", {});
    const reason = await errored;
    const state = await rejoined;
    const stillUp = await push(other, "ping", { alive: true });
    const afterRejoin = await push(channel, "ping", { again: true });
    socket.disconnect();
    return { reason, state, stillUp, afterRejoin };
  },

  async two_clients() {
    const alice = connect("alice");
    const bob = connect("bob");
    const a = alice.channel("room:lobby", {});
    const b = bob.channel("room:lobby", {});
    await join(a);
    const bobSees = watchPresence(b);
    const both = bobSees.until((users) => users.length === 2);
    await join(b);
    const seenByBob = await both;
    const typing = next(b, "typing");
    a.push("typing", {});
    const typed = await typing;
    const shout = next(b, "shout");
    a.push("shout", { body: "hi bob" });
    const heard = await shout;
    const alone = bobSees.until((users) => users.length === 1);
    await within(new Promise((resolve) => a.leave().receive("ok", resolve)), "alice's leave");
    const afterLeave = await alone;
    alice.disconnect();
    bob.disconnect();
    return { seenByBob, typed, heard, afterLeave };
  },
};

try {
  const result = await scenarios[scenario]();
  console.log(JSON.stringify({ scenario, ok: true, result }));
  process.exit(0);
} catch (error) {
  console.log(JSON.stringify({ scenario, ok: false, error: String(error) }));
  process.exit(1);
}
