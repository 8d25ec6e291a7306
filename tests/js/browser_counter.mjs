// The README's LiveView example (Counter) in headless Chromium: opens
// <base>/counter?start=41, waits for the LiveView to connect, clicks "+" twice
// and prints one JSON line with what the page showed.
//
//   node browser_counter.mjs http://127.0.0.1:4000
import { launchChromium } from "./chromium.mjs";

const [base] = process.argv.slice(2);
const TIMEOUT = 15000;
const browser = await launchChromium();
const errors = [];
const failedRequests = [];
try {
  const page = await browser.newPage();
  page.on("pageerror", (error) => errors.push(String(error)));
  page.on("console", (message) => { if (message.type() === "error") errors.push(message.text()); });
  page.on("response", (response) => { if (response.status() >= 400) failedRequests.push(response.url()); });
  await page.goto(`${base}/counter?start=41`);
  const dead = await page.textContent("#count");
  await page.waitForSelector("[data-phx-main].phx-connected", { timeout: TIMEOUT });
  const counts = [];
  for (const expected of ["42", "43"]) {
    await page.click("#inc");
    await page.waitForFunction((n) => document.querySelector("#count").textContent === n, expected, { timeout: TIMEOUT });
    counts.push(await page.textContent("#count"));
  }
  console.log(JSON.stringify({ ok: true, dead, counts, errors, failedRequests }));
} catch (error) {
  console.log(JSON.stringify({ ok: false, error: String(error), errors, failedRequests }));
  process.exitCode = 1;
} finally {
  await browser.close();
}
