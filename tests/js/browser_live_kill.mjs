// The counter page survives its LiveView process being killed from the
// server side. Prints "ready <view id>" once the count is 2; the test then
// kills that view's process; this script waits for the page to show the
// error, rejoin with a fresh mount (count 0) and work again, and prints one
// JSON line.
//
//   node browser_live_kill.mjs http://127.0.0.1:4000
import { launchChromium } from "./chromium.mjs";

const [base] = process.argv.slice(2);
const TIMEOUT = 15000;
const browser = await launchChromium();
const errors = [];
try {
  const page = await browser.newPage();
  page.on("pageerror", (error) => errors.push(String(error)));
  await page.goto(`${base}/live/counter`);
  await page.waitForSelector("[data-phx-main].phx-connected", { timeout: TIMEOUT });
  for (const expected of ["1", "2"]) {
    await page.click("#inc");
    await page.waitForFunction((n) => document.querySelector("#count").textContent === n, expected, { timeout: TIMEOUT });
  }
  const id = await page.getAttribute("[data-phx-main]", "id");
  console.log(`ready ${id}`);
  await page.waitForSelector("[data-phx-main].phx-error", { timeout: TIMEOUT });
  await page.waitForFunction(() => document.querySelector("[data-phx-main].phx-connected")
    && document.querySelector("#count").textContent === "0", null, { timeout: TIMEOUT });
  await page.click("#inc");
  await page.waitForFunction(() => document.querySelector("#count").textContent === "1", null, { timeout: TIMEOUT });
  console.log(JSON.stringify({ ok: true, sawError: true, recoveredCount: "0", afterClick: "1", errors }));
} catch (error) {
  console.log(JSON.stringify({ ok: false, error: String(error), errors }));
  process.exitCode = 1;
} finally {
  await browser.close();
}
