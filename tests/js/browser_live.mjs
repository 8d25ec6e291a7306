// Opens the LiveView counter page in headless Chromium with the official
// phoenix_live_view client (vendored), waits until the view is connected,
// clicks "+" twice and checks the count the server rendered. One JSON line.
//
//   node browser_live.mjs http://127.0.0.1:4000 [screenshot.png]
import { chromium } from "playwright-core";

const [base, screenshot] = process.argv.slice(2);
const TIMEOUT = 15000;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-quic"],
});
const errors = [];
try {
  const page = await browser.newPage();
  page.on("pageerror", (error) => errors.push(String(error)));
  await page.goto(`${base}/counter`);
  const dead = await page.textContent("h1");
  await page.waitForSelector("[data-phx-main].phx-connected", { timeout: TIMEOUT });
  await page.click("button");
  await page.waitForFunction(() => document.querySelector("h1").textContent === "Count: 1", null, { timeout: TIMEOUT });
  await page.click("button");
  await page.waitForFunction(() => document.querySelector("h1").textContent === "Count: 2", null, { timeout: TIMEOUT });
  if (screenshot) await page.screenshot({ path: screenshot });
  console.log(JSON.stringify({ ok: true, dead, live: await page.textContent("h1"), errors }));
} catch (error) {
  console.log(JSON.stringify({ ok: false, error: String(error), errors }));
  process.exitCode = 1;
} finally {
  await browser.close();
}
