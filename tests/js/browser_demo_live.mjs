// Drives the demo's LiveView pages (docs/demo/live.md) in headless Chromium with
// the official phoenix_live_view client, one scenario per page, and prints
// one JSON line: {"ok": bool, "results": {scenario: facts}, "errors": [...]}.
//
//   node browser_demo_live.mjs http://127.0.0.1:4000 [scenario ...]
//
// Several bases, comma-separated, open the pages on them in turn (with one
// base per worker, the chat's two users are on different workers).
import { launchChromium } from "./chromium.mjs";

const [base, ...only] = process.argv.slice(2);
const bases = base.split(",");
let opened = 0;
const TIMEOUT = 15000;
const browser = await launchChromium();
const errors = [];

async function open(path) {
  const page = await browser.newPage();
  page.on("pageerror", (error) => errors.push(`${path}: ${error}`));
  await page.goto(`${bases[opened++ % bases.length]}${path}`);
  const dead = await page.content();
  await page.waitForSelector("[data-phx-main].phx-connected", { timeout: TIMEOUT });
  return { page, dead };
}

const text = (page, selector) => page.textContent(selector).then((t) => t.trim());
const until = (page, fn, arg) => page.waitForFunction(fn, arg, { timeout: TIMEOUT });

const scenarios = {
  async counter() {
    const { page } = await open("/live/counter");
    const start = await text(page, "#count");
    await page.click("#inc");
    await until(page, () => document.querySelector("#count").textContent === "1");
    await page.click("#inc");
    await until(page, () => document.querySelector("#count").textContent === "2");
    await page.click("#dec");
    await until(page, () => document.querySelector("#count").textContent === "1");
    const other = await open("/live/counter");  // its own process, its own count
    const otherCount = await text(other.page, "#count");
    await page.click("#flash");
    await until(page, () => document.querySelector("#flash-info")?.textContent === "the count is 1");
    await page.click("#flash-info");  // lv:clear-flash
    await until(page, () => document.querySelector("#flash-info") === null);
    const title = await page.title();
    await other.page.close();
    await page.close();
    return { start, after: "1", otherCount, flashCleared: true, title };
  },

  async component() {
    const { page } = await open("/live/counter");
    const cid = await page.getAttribute("#likes", "data-phx-component");
    await page.click("#like");
    await until(page, () => document.querySelector("#like-count").textContent === "1");
    await page.click("#like");
    await until(page, () => document.querySelector("#like-count").textContent === "2");
    const count = await text(page, "#count");  // the view did not change
    await page.close();
    return { cid, likes: "2", count };
  },

  async navigation() {
    const { page } = await open("/live/counter");
    await page.click("#by-two");  // a patch: same view, handle_params
    await until(page, () => location.search === "?step=2" && document.querySelector("#inc").textContent === "+2");
    await page.click("#inc");
    await until(page, () => document.querySelector("#count").textContent === "2");
    const marker = await page.evaluate(() => (window.__samePage = true));
    await page.click("#to-async");  // a live navigation: another view, same socket, no page load
    await until(page, () => location.pathname === "/live/async" && document.querySelector("#panel")?.textContent === "ready");
    const samePage = await page.evaluate(() => window.__samePage === true);
    const title = await page.title();
    await page.close();
    return { patched: "?step=2", countByTwo: "2", navigated: "/live/async", samePage, title };
  },

  async crash() {
    const { page } = await open("/live/counter");
    await page.click("#inc");
    await until(page, () => document.querySelector("#count").textContent === "1");
    const started = Date.now();
    await page.click("#crash");
    await until(page, () => document.querySelector("[data-phx-main].phx-error") !== null);
    await until(page, () => document.querySelector("[data-phx-main].phx-connected") !== null
      && document.querySelector("#count").textContent === "0");
    const recoveredWithin5s = Date.now() - started < 5000;
    await page.click("#inc");  // the fresh process works
    await until(page, () => document.querySelector("#count").textContent === "1");
    await page.close();
    return { recovered: true, recoveredWithin5s, countAfterRecovery: "1" };
  },

  async chat() {
    const ann = await open("/live/chat?user=ann");
    const bob = await open("/live/chat?user=bob");
    const users = (page) => page.$$eval("#online .user", (els) => els.map((e) => e.textContent.trim()));
    await until(ann.page, () => document.querySelectorAll("#online .user").length === 2);
    const onlineBoth = await users(ann.page);
    const input = "#message-form input[name=body]";
    await ann.page.fill(input, "x".repeat(201));
    await until(ann.page, () => document.querySelector("#body-error") !== null);
    const tooLong = await text(ann.page, "#body-error");
    await ann.page.fill(input, "hello bob");
    await until(ann.page, () => document.querySelector("#body-error") === null);
    await until(bob.page, () => document.querySelector("#typing").textContent.includes("ann"));
    const typing = await text(bob.page, "#typing");
    await ann.page.press(input, "Enter");
    for (const { page } of [ann, bob]) {
      await until(page, () => document.querySelectorAll("#messages .message").length === 1);
    }
    const received = await text(bob.page, "#messages .message");
    const shown = await text(ann.page, "#messages .message");
    await until(ann.page, (sel) => document.querySelector(sel).value === "", input);
    await bob.page.fill("#message-form input[name=body]", "hi ann");
    await bob.page.press("#message-form input[name=body]", "Enter");
    await until(ann.page, () => document.querySelectorAll("#messages .message").length === 2);
    const order = await ann.page.$$eval("#messages .message", (els) => els.map((e) => e.textContent.trim()));
    await bob.page.close();
    await until(ann.page, () => document.querySelectorAll("#online .user").length === 1);
    const onlineAfter = await users(ann.page);
    await ann.page.close();
    return { onlineBoth, tooLong, typing, received, shown, inputCleared: true, order, onlineAfter };
  },

  async upload() {
    const { page } = await open("/live/upload");
    const bytes = Buffer.alloc(150000, 7);
    await page.setInputFiles("#upload-form input[type=file]", { name: "notes.bin", mimeType: "application/octet-stream", buffer: bytes });
    await until(page, () => document.querySelector("#upload-form progress") !== null);
    await until(page, () => document.querySelector("#upload-form .percent")?.textContent === "100%");
    const progress = await page.getAttribute("#upload-form progress", "value");
    await page.click("#upload-form button[type=submit]");
    await until(page, () => document.querySelector("#uploaded") !== null);
    const uploaded = await text(page, "#uploaded");
    await page.close();

    const big = await open("/live/upload");
    await big.page.setInputFiles("#upload-form input[type=file]", { name: "big.bin", mimeType: "application/octet-stream", buffer: Buffer.alloc(1000001, 1) });
    await until(big.page, () => document.querySelector(".upload-error") !== null);
    const tooLarge = await text(big.page, ".upload-error");
    await big.page.close();
    return { progress, uploaded, tooLarge };
  },

  async async() {
    const { page, dead } = await open("/live/async");
    const deadPanel = /<div id="panel">(.*?)<\/div>/.exec(dead)?.[1];
    await until(page, () => document.querySelector("#panel").textContent === "ready");
    await page.close();
    return { deadPanel, panel: "ready" };
  },
};

const results = {};
let ok = true;
for (const [name, run] of Object.entries(scenarios)) {
  if (only.length && !only.includes(name)) continue;
  try {
    results[name] = await run();
  } catch (error) {
    ok = false;
    results[name] = { error: String(error).split("\n")[0] };
  }
}
await browser.close();
console.log(JSON.stringify({ ok, results, errors }));
if (!ok) process.exitCode = 1;
