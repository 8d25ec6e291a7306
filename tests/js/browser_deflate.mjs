// Chromium and permessage-deflate: opens the demo's counter page, clicks "+"
// twice, and reports from the DevTools protocol what the browser saw on the
// page's LiveView socket: the Sec-WebSocket-Extensions of the server's 101
// and the frames received (their text, as the page got it: inflated). One
// JSON line: {"ok", "extensions", "framesReceived", "textBytesReceived", "counts", "errors"}.
//
//   node browser_deflate.mjs http://127.0.0.1:4000
import { launchChromium } from "./chromium.mjs";

const [base] = process.argv.slice(2);
const TIMEOUT = 15000;
const browser = await launchChromium();
const errors = [];
const sockets = new Map(); // requestId -> {url, extensions, frames, bytes}
try {
  const page = await browser.newPage();
  page.on("pageerror", (error) => errors.push(String(error)));
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.enable");
  cdp.on("Network.webSocketCreated", ({ requestId, url }) => sockets.set(requestId, { url, extensions: null, frames: 0, bytes: 0 }));
  cdp.on("Network.webSocketHandshakeResponseReceived", ({ requestId, response }) => {
    const headers = Object.fromEntries(Object.entries(response.headers).map(([k, v]) => [k.toLowerCase(), v]));
    sockets.get(requestId).extensions = headers["sec-websocket-extensions"] ?? null;
  });
  cdp.on("Network.webSocketFrameReceived", ({ requestId, response }) => {
    const socket = sockets.get(requestId);
    socket.frames += 1;
    socket.bytes += Buffer.byteLength(response.payloadData, "utf8");
  });
  await page.goto(`${base}/live/counter`);
  await page.waitForSelector("[data-phx-main].phx-connected", { timeout: TIMEOUT });
  const counts = [];
  for (const expected of ["1", "2"]) {
    await page.click("#inc");
    await page.waitForFunction((n) => document.querySelector("#count").textContent === n, expected, { timeout: TIMEOUT });
    counts.push(await page.textContent("#count"));
  }
  const live = [...sockets.values()].filter((s) => new URL(s.url).pathname === "/live/websocket");
  await page.close(); // the socket closes: the server reports its bytes
  console.log(JSON.stringify({
    ok: true,
    liveSockets: live.length,
    extensions: live[0]?.extensions ?? null,
    framesReceived: live[0]?.frames ?? 0,
    textBytesReceived: live[0]?.bytes ?? 0,
    counts,
    errors,
  }));
} catch (error) {
  console.log(JSON.stringify({ ok: false, error: String(error), errors }));
  process.exitCode = 1;
} finally {
  await browser.close();
}
