// Opens a page in headless Chromium, waits until its LiveView is connected,
// prints "open", keeps it open for the given seconds, prints "closed".
//
//   node hold_page.mjs http://127.0.0.1:4000/dashboard 10
import { launchChromium } from "./chromium.mjs";

const [url, seconds] = process.argv.slice(2);
const browser = await launchChromium();
try {
  const page = await browser.newPage();
  await page.goto(url);
  await page.waitForSelector("[data-phx-main].phx-connected", { timeout: 15000 });
  console.log("open");
  await new Promise((resolve) => setTimeout(resolve, Number(seconds) * 1000));
  console.log("closed");
} finally {
  await browser.close();
}
