// Plays a list of user actions on one LiveView page in headless Chromium with the
// official phoenix_live_view client, for tests/live/test_live_testing.py to compare
// with web.testing's model of the client. Prints one JSON line:
// {"ok": true, "pages": [children of #items after each action], "errors": [...]}.
//
//   node live_testing_probe.mjs http://127.0.0.1:4000/probe '[{"click": "#b"}, {"fill": ["#i", "x"]}, ...]'
//
// Every action must make the view bump the number in #n, which is how the
// script knows the server's answer has been applied.
import { launchChromium } from "./chromium.mjs";

const [url, actionsJson] = process.argv.slice(2);
const actions = JSON.parse(actionsJson);
const browser = await launchChromium();
const errors = [];
const page = await browser.newPage();
page.on("pageerror", (error) => errors.push(String(error)));
await page.goto(url);
await page.waitForSelector("[data-phx-main].phx-connected", { timeout: 15000 });
const children = () =>
  page.evaluate(() => Array.from(document.querySelector("#items").children).map((li) => [li.id, li.textContent]));
const pages = [await children()];
for (const [index, action] of actions.entries()) {
  if (action.click) await page.click(action.click);
  if (action.fill) await page.fill(...action.fill);
  if (action.check) await page.check(action.check);
  await page.waitForFunction((n) => document.querySelector("#n").textContent === String(n), index + 1, { timeout: 15000 });
  pages.push(await children());
}
console.log(JSON.stringify({ ok: true, pages, errors }));
await browser.close();
