// Opens the demo's dashboard in headless Chromium (the official
// phoenix_live_view client), waits for the charts to draw, takes a
// screenshot, then kills the demo's "demo.clock" worker from the processes
// page (kill, then confirm) and watches the supervisor restart it: a new pid
// under the same name, and a restart on the supervision tree page. One JSON line.
//
//   node browser_dashboard.mjs http://127.0.0.1:4000 screenshot.png
import { launchChromium } from "./chromium.mjs";

const [base, screenshot] = process.argv.slice(2);
const TIMEOUT = 15000;
const browser = await launchChromium();
const errors = [];
const until = (page, fn, arg) => page.waitForFunction(fn, arg, { timeout: TIMEOUT });
try {
  const page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
  page.on("pageerror", (error) => errors.push(String(error)));
  await page.goto(`${base}/dashboard`);
  await page.waitForSelector("[data-phx-main].phx-connected", { timeout: TIMEOUT });
  // Three samples on the chart (one a second): the page redraws as they arrive.
  await until(page, () => (document.querySelector("#chart-processes polyline")?.getAttribute("points") || "").split(" ").length >= 3);
  const title = await page.title();
  if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });

  await page.click("text=processes");  // live navigation to the processes page
  await page.waitForSelector("#processes", { timeout: TIMEOUT });
  const row = async () => page.$$eval("#processes tr.process", (rows) => {
    const r = rows.find((tr) => tr.querySelector(".name").textContent === "demo.clock");
    return r && { id: r.id, pid: r.querySelector(".pid").textContent };
  });
  await page.click("#sort-by-name, button[phx-value-by=name]");
  await until(page, () => document.querySelector("#sort-by").textContent === "name");
  const before = await row();
  await page.click(`#${before.id} button.kill`);
  await page.waitForSelector(`#${before.id} button.confirm-kill`, { timeout: TIMEOUT });
  const asked = (await page.textContent(`#${before.id} button.confirm-kill`)).trim();
  await page.click(`#${before.id} button.confirm-kill`);
  await until(page, (pid) => {
    const rows = [...document.querySelectorAll("#processes tr.process")];
    const r = rows.find((tr) => tr.querySelector(".name").textContent === "demo.clock");
    return r && r.querySelector(".pid").textContent !== pid;
  }, before.pid);
  const after = await row();
  const killed = (await page.textContent("#killed")).trim();

  await page.click("text=supervision tree");
  await page.waitForSelector("#tree", { timeout: TIMEOUT });
  const restarts = await page.textContent("#restart-total");
  const clockRow = await page.$eval("li[id$='demo-clock']", (li) => li.querySelector(".pid").textContent);
  console.log(JSON.stringify({
    ok: true, title, asked: asked === `really kill ${before.pid}?`, killed: killed === `killed ${before.pid}`,
    restarted: after.pid !== before.pid, treeShowsNewPid: clockRow === after.pid, restarts, errors,
  }));
} catch (error) {
  console.log(JSON.stringify({ ok: false, error: String(error), errors }));
  process.exitCode = 1;
} finally {
  await browser.close();
}
