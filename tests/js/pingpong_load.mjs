// The web-pingpong benchmark's load generator (benchmarks/web/pingpong.py): the official
// `phoenix` client (npm) over `ws`, as a Node app would use it, timing sequential push/reply
// round trips. Prints one JSON line.
//
//   node pingpong_load.mjs <ws url, e.g. ws://127.0.0.1:4000/socket> <clients> <round trips> <warm-up per client>
//
// Each client is a Socket of its own, joined to `room:p<i>`; it pushes `ping` with `{n}` and
// waits for its reply before the next, until the round trips are shared out. `ws` offers
// permessage-deflate, as browsers do; the server decides.
import { Socket } from "phoenix";
import WebSocket from "ws";

const [url, clientsArg, totalArg, warmupArg] = process.argv.slice(2);
const clients = Number(clientsArg);
const total = Number(totalArg);
const warmup = Number(warmupArg);
const TIMEOUT = 10000;
let errors = 0;
let firstError = null;

function fail(what) {
  errors += 1;
  if (firstError === null) firstError = what;
}

function joined(i) {
  return new Promise((resolve, reject) => {
    const socket = new Socket(url, { transport: WebSocket, params: { user: `u${i}` }, timeout: TIMEOUT });
    socket.connect();
    const channel = socket.channel(`room:p${i}`);
    channel.join().receive("ok", () => resolve(channel)).receive("error", (r) => reject(new Error(JSON.stringify(r))))
      .receive("timeout", () => reject(new Error(`the join of room:p${i} timed out`)));
  });
}

function ping(channel, n, latencies) {
  return new Promise((resolve) => {
    const start = process.hrtime.bigint();
    channel.push("ping", { n })
      .receive("ok", (response) => {
        if (latencies) latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
        if (response.n !== n) fail({ expected: n, got: response });
        resolve();
      })
      .receive("error", (response) => { fail(response); resolve(); })
      .receive("timeout", () => { fail("timeout"); resolve(); });
  });
}

async function pings(channel, count, latencies) {
  for (let n = 0; n < count; n++) await ping(channel, n, latencies);
}

const channels = await Promise.all([...Array(clients).keys()].map(joined));
await Promise.all(channels.map((channel) => pings(channel, warmup, null)));
const latencies = [];
const start = process.hrtime.bigint();
await Promise.all(channels.map((channel, i) =>
  pings(channel, Math.floor(total / clients) + (i < total % clients ? 1 : 0), latencies)));
const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
latencies.sort((a, b) => a - b);
const at = (p) => latencies[Math.min(latencies.length - 1, Math.floor((latencies.length * p) / 100))];
console.log(JSON.stringify({ round_trips: latencies.length, elapsed_s: elapsed, p50_ms: at(50), p99_ms: at(99), errors,
  first_error: firstError }));
process.exit(0);
