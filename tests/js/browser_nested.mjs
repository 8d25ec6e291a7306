// Nested and sticky LiveViews, live_title's prefix and suffix, and an external upload, in headless Chromium
// with the official phoenix_live_view client, against the pages of tests/live/test_browser_nested.py.
// Prints one JSON line: {"ok": bool, "results": {scenario: facts}, "errors": [...]}.
//
//   node browser_nested.mjs http://127.0.0.1:4000
import { launchChromium } from "./chromium.mjs";

const [base] = process.argv.slice(2);
const TIMEOUT = 15000;
const browser = await launchChromium();
const errors = [];

async function open(path) {
  const page = await browser.newPage();
  page.on("pageerror", (error) => errors.push(`${path}: ${error}`));
  const response = await page.goto(`${base}${path}`);
  const dead = await response.text();  // the dead render as served (the DOM changes once the view joins)
  await page.waitForSelector("[data-phx-main].phx-connected", { timeout: TIMEOUT });
  return { page, dead };
}

const text = (page, selector) => page.textContent(selector).then((t) => t.trim());
const until = (page, fn, arg) => page.waitForFunction(fn, arg, { timeout: TIMEOUT });

const scenarios = {
  async nested() {
    const { page, dead } = await open("/dash");
    const deadSession = /<div id="clock" data-phx-session="([^"]*)"/.exec(dead)?.[1];
    await page.waitForSelector("#clock.phx-connected", { timeout: TIMEOUT });
    const mainId = await page.getAttribute("[data-phx-main]", "id");
    const parentId = await page.getAttribute("#clock", "data-phx-parent-id");
    const deadTitle = await page.evaluate(() => document.title);
    await page.click("#tick");
    await until(page, () => document.querySelector("#ticks").textContent === "1");
    await page.click("#tick");
    await until(page, () => document.querySelector("#ticks").textContent === "2");
    const ticks = await text(page, "#ticks");
    const parentCount = await text(page, "#count");
    await page.click("#rename");
    await until(page, () => document.title === "App · Renamed · Test");
    const renamed = await page.evaluate(() => document.title);
    // The child crashes: it alone errors and joins again with a fresh mount; the parent goes on.
    await page.click("#crash-clock");
    await until(page, () => document.querySelector("#clock").classList.contains("phx-error"));
    await until(page, () => document.querySelector("#clock").classList.contains("phx-connected")
      && document.querySelector("#ticks").textContent === "0");
    const clockRecovered = await text(page, "#ticks");
    await page.click("#inc");
    await until(page, () => document.querySelector("#count").textContent === "1");
    const parentAfterCrash = await text(page, "#count");
    await page.close();
    return {
      deadTitle, childParent: [deadSession, parentId === mainId ? "dashboard-id" : parentId],
      ticks, parentCount, renamed, clockRecovered, parentAfterCrash,
    };
  },

  async sticky() {
    const { page } = await open("/dash");
    await page.waitForSelector("#player.phx-connected", { timeout: TIMEOUT });
    await page.click("#play");
    await until(page, () => document.querySelector("#plays").textContent === "plays: 1");
    const plays = await text(page, "#plays");
    await page.evaluate(() => { document.querySelector("#player").dataset.mark = "kept"; });
    // Live navigation: the main view is replaced, the sticky one stays, process and element.
    await page.click("#to-settings");
    await until(page, () => document.querySelector("#page")?.textContent === "settings");
    await page.waitForSelector("[data-phx-main].phx-connected", { timeout: TIMEOUT });
    const navigated = await page.evaluate(() => location.pathname);
    await until(page, () => document.title === "App · Settings · Test");
    const title = await page.evaluate(() => document.title);
    const sameElement = await page.evaluate(() => document.querySelector("#player").dataset.mark === "kept");
    const playsAfter = await text(page, "#plays");
    await page.click("#play");
    await until(page, () => document.querySelector("#plays").textContent === "plays: 2");
    const playsLater = await text(page, "#plays");
    const clockGone = await page.evaluate(() => document.querySelector("#clock") === null);
    await page.close();
    return { plays, navigated, title, sameElement, playsAfter, playsLater, clockGone };
  },

  async upload() {
    const { page } = await open("/photos");
    await page.setInputFiles("#photo-form input[type=file]", {
      name: "cat.png", mimeType: "image/png", buffer: Buffer.from("\x89PNG fake bytes", "latin1"),
    });
    await page.waitForSelector("#photo-form .progress", { timeout: TIMEOUT });
    // Every progress the page shows, as the uploader reports it to the view (the entry leaves once consumed).
    await page.evaluate(() => {
      window.progressSeen = [];
      const record = () => document.querySelectorAll("#photo-form .progress").forEach((e) => window.progressSeen.push(e.textContent));
      new MutationObserver(record).observe(document.querySelector("#photo-form"), { subtree: true, childList: true, characterData: true });
    });
    await page.click("#photo-form button[type=submit]");
    await until(page, () => document.querySelector("#saved").textContent !== "");
    const saved = await text(page, "#saved");
    const progress = await page.evaluate(() => window.progressSeen.at(-1));
    await page.close();
    return { saved, progress };
  },
};

const results = {};
let ok = true;
for (const [name, run] of Object.entries(scenarios)) {
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
