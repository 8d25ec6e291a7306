// The web-churn benchmark's load generator (benchmarks/web/churn.py): the official `phoenix`
// client (npm) over `ws` doing whole socket lifetimes. Prints one JSON line.
//
//   node churn_load.mjs <ws url, e.g. ws://127.0.0.1:4000/socket> <cycles> <workers>
//
// Each of the workers does cycles one after the other until they are shared out: a new Socket
// connects as `w<worker>`, joins `room:churn<worker>` and waits for the reply, leaves and waits
// for the reply, then disconnects (close 1000) and waits for the close.
import { Socket } from "phoenix";
import WebSocket from "ws";

const [url, cyclesArg, workersArg] = process.argv.slice(2);
const cycles = Number(cyclesArg);
const workers = Number(workersArg);
const TIMEOUT = 10000;
let remaining = cycles;
let completed = 0;
let errors = 0;
let firstError = null;

function fail(what) {
  errors += 1;
  if (firstError === null) firstError = String(what);
}

function reply(push, what) {
  return new Promise((resolve, reject) => {
    push.receive("ok", resolve).receive("error", (r) => reject(new Error(`${what}: ${JSON.stringify(r)}`)))
      .receive("timeout", () => reject(new Error(`${what} timed out`)));
  });
}

async function cycle(worker) {
  const socket = new Socket(url, { transport: WebSocket, params: { user: `w${worker}` }, timeout: TIMEOUT,
    reconnectAfterMs: () => 60000 });
  let closeCode = null;
  const closed = new Promise((resolve) => socket.onClose((event) => { closeCode = event.code; resolve(); }));
  socket.onError((error) => fail(`socket error: ${error && error.message}`));
  socket.connect();
  try {
    const channel = socket.channel(`room:churn${worker}`);
    await reply(channel.join(), "the join");
    await reply(channel.leave(), "the leave");
  } finally {
    socket.disconnect(null, 1000);
    await closed;
  }
  if (closeCode !== 1000) throw new Error(`closed with ${closeCode}`);
  completed += 1;
}

async function work(worker) {
  while (remaining > 0) {
    remaining -= 1;
    try {
      await cycle(worker);
    } catch (error) {
      fail(error.message);
    }
  }
}

const start = process.hrtime.bigint();
await Promise.all([...Array(workers).keys()].map(work));
const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
console.log(JSON.stringify({ completed, elapsed_s: elapsed, errors, first_error: firstError }));
process.exit(0);
