// web.playground's live reload in headless Chromium: opens the app's page,
// waits for its LiveView to connect, clicks "+" once and prints "ready <count>";
// then (the test edits the app's file) waits for the page to reload itself
// with the new title, clicks "+" again and prints one JSON line with what
// the page showed.
//
//   node browser_playground.mjs http://127.0.0.1:4000
import { launchChromium } from "./chromium.mjs";

const [base] = process.argv.slice(2);
const TIMEOUT = 15000;
const browser = await launchChromium();
const errors = [];
try {
  const page = await browser.newPage();
  page.on("pageerror", (error) => errors.push(String(error)));
  await page.goto(base);
  await page.waitForSelector("[data-phx-main].phx-connected", { timeout: TIMEOUT });
  await page.click("#inc");
  await page.waitForFunction(() => document.querySelector("#count").textContent === "1", null, { timeout: TIMEOUT });
  console.log(`ready ${await page.textContent("#count")}`);
  // The file is edited now: the page reloads itself and mounts the new view.
  await page.waitForFunction(() => document.querySelector("#title")?.textContent === "Counter, edited", null, { timeout: TIMEOUT });
  await page.waitForSelector("[data-phx-main].phx-connected", { timeout: TIMEOUT });
  const title = await page.textContent("#title");
  const count = await page.textContent("#count");
  await page.click("#inc");
  await page.waitForFunction(() => document.querySelector("#count").textContent !== "0", null, { timeout: TIMEOUT });
  console.log(JSON.stringify({ ok: true, title, count, afterClick: await page.textContent("#count"), errors }));
} catch (error) {
  console.log(JSON.stringify({ ok: false, error: String(error), errors }));
  process.exitCode = 1;
} finally {
  await browser.close();
}
