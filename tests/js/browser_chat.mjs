// Opens the demo chat page in two tabs of headless Chromium (Debian's
// /usr/bin/chromium, driven by playwright-core) and checks that a message
// typed in one tab appears in the other, and that each tab sees both users
// online. Prints one JSON line; exit code 0 on success.
//
//   node browser_chat.mjs http://127.0.0.1:4000 [screenshot.png]
//
// Two bases, comma-separated, open alice's tab on the first and bob's on the
// second (one per worker: tests/web/test_demo_workers.py).
import { launchChromium } from "./chromium.mjs";

const [bases, screenshot] = process.argv.slice(2);
const [aliceBase, bobBase = aliceBase] = bases.split(",");
const TIMEOUT = 15000;

const browser = await launchChromium();
try {
  const context = await browser.newContext();
  const alice = await context.newPage();
  const bob = await context.newPage();
  await alice.goto(`${aliceBase}/?user=alice`);
  await bob.goto(`${bobBase}/?user=bob`);
  for (const page of [alice, bob]) {
    await page.waitForFunction(() => document.getElementById("online").textContent === "online: alice, bob", null, { timeout: TIMEOUT });
  }
  await alice.fill("#body", "hello from alice");
  await alice.click("button");
  await bob.waitForFunction(() => document.getElementById("log").textContent.includes("alice: hello from alice"), null, { timeout: TIMEOUT });
  const bobLog = await bob.textContent("#log");
  const online = await alice.textContent("#online");
  if (screenshot) await bob.screenshot({ path: screenshot });
  console.log(JSON.stringify({ ok: true, online, bobSaw: bobLog.includes("alice: hello from alice") }));
} catch (error) {
  console.log(JSON.stringify({ ok: false, error: String(error) }));
  process.exitCode = 1;
} finally {
  await browser.close();
}
