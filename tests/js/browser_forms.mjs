// Forms (<.form>, <.input>, <.inputs_for>) and the issue #16 fixes in headless Chromium with the official
// phoenix_live_view client, against the pages of tests/live/test_browser_forms.py.
// Prints one JSON line: {"ok": bool, "results": {scenario: facts}, "errors": [...]}.
//
//   node browser_forms.mjs http://127.0.0.1:4000
import { launchChromium } from "./chromium.mjs";

const [base] = process.argv.slice(2);
const TIMEOUT = 15000;
const browser = await launchChromium();
const errors = [];

async function open(path) {
  const page = await browser.newPage();
  page.on("pageerror", (error) => errors.push(`${path}: ${error}`));
  page.on("console", (message) => { if (message.type() === "error") errors.push(`${path}: ${message.text()}`); });
  const response = await page.goto(`${base}${path}`);
  const dead = await response.text();  // the dead render as served (the DOM changes once the view joins)
  await page.waitForSelector("[data-phx-main].phx-connected", { timeout: TIMEOUT });
  return { page, dead, response };
}

const text = (page, selector) => page.textContent(selector).then((t) => t.trim());
const until = (page, fn, arg) => page.waitForFunction(fn, arg, { timeout: TIMEOUT });

// field id -> the error messages under it, for the fields that show some.
const errorsShown = (page) => page.evaluate(() => {
  const shown = {};
  for (const field of document.querySelectorAll(".field")) {
    const input = field.querySelector("input:not([type=hidden]), select, textarea");
    const messages = [...field.querySelectorAll(".field-error")].map((e) => e.textContent);
    if (messages.length) shown[input.id] = messages;
  }
  return shown;
});
const errorCount = (page, n) => until(page, (n) => document.querySelectorAll(".field-error").length === n, n);

const scenarios = {
  async signup() {
    const { page } = await open("/signup");
    const deadErrors = await page.evaluate(() => document.querySelectorAll(".field-error").length);
    // Typing in the email only: its error shows, the name (not visited yet) shows none.
    await page.fill("#user_email", "ann@");
    await errorCount(page, 1);
    const afterEmail = await errorsShown(page);
    await page.fill("#user_name", "A");
    await errorCount(page, 2);
    const afterName = await errorsShown(page);
    await page.fill("#user_name", "Ann");
    await page.fill("#user_email", "ann@example.com");
    await errorCount(page, 0);
    await until(page, () => document.querySelector("#user_email").getAttribute("aria-invalid") === null);
    const fixed = await errorsShown(page);
    // A nested list: two addresses added by a button, each with its hidden _persistent_id.
    await page.click("#add");
    await until(page, () => document.querySelectorAll("input[name$='[city]']").length === 1);
    await page.click("#add");
    await until(page, () => document.querySelectorAll("input[name$='[city]']").length === 2);
    const cities = await page.$$eval("input[name$='[city]']", (inputs) => inputs.map((i) => i.name));
    const hiddenIds = await page.$$eval("input[name$='[_persistent_id]']", (inputs) => inputs.map((i) => i.value));
    await page.fill("#user_addresses_1_city", "Oslo");
    await page.click("#save");
    await errorCount(page, 1);
    const submitted = await errorsShown(page);
    await page.fill("#user_addresses_0_city", "Rome");
    await page.click("#save");
    await until(page, () => document.querySelector("#saved").textContent !== "");
    const saved = await text(page, "#saved");
    await page.close();
    return { deadErrors, afterEmail, afterName, fixed, cities, hiddenIds, submitted, saved };
  },

  async submitAll() {
    const { page } = await open("/signup");
    await page.click("#save");
    await errorCount(page, 2);
    const shown = await errorsShown(page);
    await page.close();
    return shown;
  },

  async flash() {
    // on_mount puts a flash and redirects on the dead render: the 302 carries it to /signup.
    const { page, dead, response } = await open("/guarded");
    const status = await response.request().redirectedFrom().response().then((r) => r.status());
    const path = await page.evaluate(() => location.pathname);
    const shown = /<p id="flash">([^<]*)<\/p>/.exec(dead)?.[1];
    const connectedShown = await text(page, "#flash");
    await page.close();
    return { status, path, shown, connectedShown };
  },

  async url() {
    const { page, dead } = await open("/search?q=1");
    const deadUri = /<p id="uri">([^<]*)<\/p>/.exec(dead)?.[1];
    const joined = await text(page, "#uri");
    await page.click("#next");
    await until(page, () => document.querySelector("#uri").textContent.endsWith("?q=2"));
    const patched = await text(page, "#uri");
    await page.close();
    return { dead: deadUri, joined, patched };
  },

  async title() {
    const { page: first } = await open("/untitled");
    const loaded = await first.evaluate(() => document.title);
    await first.close();
    const { page } = await open("/titled");
    const before = await page.evaluate(() => document.title);
    await page.evaluate(() => { window.samePage = true; });
    await page.click("#go");  // live navigation: same page, another view
    await page.waitForSelector("#untitled", { timeout: TIMEOUT });
    await until(page, () => document.title === "Untitled");
    const navigated = await page.evaluate(() => document.title);
    const samePage = await page.evaluate(() => window.samePage === true);
    await page.close();
    return { loaded, before, navigated, samePage };
  },

  async hook() {
    // The hook comes from default_layout(hooks=...); the view replies to its pushEvent.
    const { page } = await open("/titled");
    await until(page, () => document.querySelector("#hooked").dataset.reply !== undefined);
    const mounted = await page.evaluate(() => window.stampMounted);
    const reply = await page.getAttribute("#hooked", "data-reply");
    await until(page, () => document.querySelector("#stamps").textContent === "1");
    const stamps = await text(page, "#stamps");
    await page.close();
    return { mounted, reply, stamps };
  },

  async upload() {
    const { page } = await open("/files");
    const file = (name, content) => ({ name, mimeType: "text/plain", buffer: Buffer.from(content) });
    // Three files, max_entries=2, auto_upload: the first two upload at once, the upload says too many.
    await page.setInputFiles("#up input[type=file]", [file("a.txt", "first"), file("b.txt", "second"), file("c.txt", "third")]);
    await until(page, () => document.querySelector("#upload-errors").textContent === "too_many_files"
      && [...document.querySelectorAll(".entry .progress")].filter((p) => p.textContent === "100").length === 2);
    const tooMany = await text(page, "#upload-errors");
    const uploaded = await page.$$eval(".entry", (entries) => entries.map((e) => [
      e.querySelector(".name").textContent, e.querySelector(".progress").textContent,
    ]));
    // The user takes the third file back, then saves: both uploaded files are there.
    await page.click("#entry-c\\.txt .cancel");
    await until(page, () => document.querySelectorAll(".entry").length === 2);
    const afterCancel = await page.$$eval(".entry .name", (names) => names.map((n) => n.textContent));
    const errorsAfterCancel = await text(page, "#upload-errors");
    await page.click("#submit");
    await until(page, () => document.querySelector("#stored").textContent !== "");
    const stored = await text(page, "#stored");
    await page.close();
    return { tooMany, uploaded, afterCancel, errorsAfterCancel, stored };
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
