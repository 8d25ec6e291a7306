// The demo's LiveView pages over long-poll in headless Chromium: the scenarios of
// browser_demo_live.mjs, unchanged, with every page the official client opens on
// long-poll, and what each page used to talk to the server.
//
//   node browser_longpoll.mjs forced  http://127.0.0.1:4000 [scenario ...]
//   node browser_longpoll.mjs blocked http://127.0.0.1:4001 [scenario ...]
//
// forced:  the client is told to use LongPoll before the page loads. The pages'
//          layout has longPollFallbackMs, and the client remembers a fallback
//          for the tab in sessionStorage ("phx:fallback:LongPoll"): set there,
//          it goes straight to long-poll and never tries a WebSocket.
// blocked: nothing is done to the page; the base URL is a proxy that refuses
//          every WebSocket upgrade (tests/live/test_browser_longpoll.py starts
//          it), so the client falls back to long-poll by itself.
//
// Prints browser_demo_live.mjs's JSON line with one more key, "transport":
// {pages, onLongPoll (pages that polled /live/longpoll), websocketFrames (frames
// any WebSocket carried)}.
import { chromium } from "playwright-core";

const [mode, base, ...only] = process.argv.slice(2);
if (!["forced", "blocked"].includes(mode)) throw new Error(`mode must be forced or blocked, got ${mode}`);

const transport = { pages: 0, onLongPoll: 0, websocketFrames: 0 };

async function watch(page) {
  transport.pages += 1;
  let polled = false;
  page.on("request", (request) => {
    if (!polled && new URL(request.url()).pathname === "/live/longpoll") {
      polled = true;
      transport.onLongPoll += 1;
    }
  });
  page.on("websocket", (ws) => {
    ws.on("framereceived", () => (transport.websocketFrames += 1));
    ws.on("framesent", () => (transport.websocketFrames += 1));
  });
  if (mode === "forced") {
    await page.addInitScript(() => sessionStorage.setItem("phx:fallback:LongPoll", "true"));
  }
}

// browser_demo_live.mjs opens every page with browser.newPage(): watch each one as it is made.
const launch = chromium.launch.bind(chromium);
chromium.launch = async (options) => {
  const browser = await launch(options);
  const newPage = browser.newPage.bind(browser);
  browser.newPage = async (...args) => {
    const page = await newPage(...args);
    await watch(page);
    return page;
  };
  return browser;
};

// Run its scenarios, taking the line it prints, to print it again with the transport's facts.
const printed = [];
const print = console.log;
console.log = (line) => printed.push(line);
process.argv = [process.argv[0], new URL("./browser_demo_live.mjs", import.meta.url).pathname, base, ...only];
try {
  await import("./browser_demo_live.mjs");
} finally {
  console.log = print;
}
const result = JSON.parse(printed.at(-1));
console.log(JSON.stringify({ ...result, transport }));
