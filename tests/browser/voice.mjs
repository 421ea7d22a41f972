// A person at the microphone, in a real browser: Debian's Chromium, driven by playwright-core,
// with Chromium's fake microphone playing a spoken question. Opens a notebook in a running
// JupyterLab, runs its cells (the last one is `%voice`), clicks Record, waits while the question
// plays, clicks Stop, and waits for the transcript and a Plotly chart. Prints one JSON line.
//
//   node voice.mjs '{"base": "http://127.0.0.1:PORT", "token": "...", "notebook": "voice.ipynb",
//                    "wav": "/abs/question.wav", "speechSeconds": 3.2, "screenshot": "/abs/out.png"}'
//
// Used by tests/test_browser.py; run `npm ci` here first (no browser is downloaded).
import { finish, openNotebook, session } from "./chromium.mjs";

const opts = JSON.parse(process.argv[2]);
const { context, close, page, result, step, consoleErrors } = await session(opts);

try {
  await openNotebook(context, page, opts);
  step("notebook open, kernel idle");
  result.secureContext = await page.evaluate(() => window.isSecureContext);

  // Run every cell as a person does: click into the first, then Shift+Enter through them.
  const cells = page.locator(".jp-Notebook .jp-Cell");
  const count = await cells.count();
  await cells.first().locator(".jp-InputArea-editor").click();
  for (let i = 1; i <= count; i++) {
    await page.keyboard.press("Shift+Enter");
    await page
      .locator(".jp-Notebook .jp-Cell")
      .nth(i - 1)
      .locator(".jp-InputPrompt", { hasText: `[${i}]:` })
      .waitFor({ timeout: 90_000 });
  }
  step(`ran ${count} cells`);

  const mic = page.locator(".bivoice-mic").first();
  await mic.waitFor({ timeout: 30_000 });
  const record = mic.locator("button.bivoice-record");
  await record.click(); // a click: recording until the next click (a long press would be hold-to-talk)
  await page.locator('.bivoice-mic[data-status="listening"]').waitFor({ timeout: 15_000 });
  step("listening");
  await page.waitForTimeout(Math.round((opts.speechSeconds + 0.7) * 1000));
  await record.click();
  step("stopped");
  await page.waitForFunction(
    () => {
      const s = document.querySelector(".bivoice-mic")?.dataset.status;
      return s === "done" || s === "error";
    },
    null,
    { timeout: 90_000 },
  );
  step("answered");
  result.status = await mic.getAttribute("data-status");
  result.error = await mic.locator(".error").textContent();
  result.transcript = await mic.locator("input.bivoice-transcript").inputValue();
  // The answer's Output widget sits right under the microphone: its chart is a Plotly plot.
  const chart = page.locator(".jp-OutputArea .js-plotly-plot, .jp-OutputArea .plotly-graph-div").first();
  await chart.waitFor({ timeout: 30_000 }).catch(() => {});
  result.chart = (await chart.count()) > 0 && (await chart.isVisible());
  result.chartTitle = result.chart ? await chart.locator(".gtitle").first().textContent().catch(() => "") : "";
  step("chart checked");
  if (opts.screenshot) await page.screenshot({ path: opts.screenshot.replace(/\.png$/, "-spoken.png") });

  // Hold to talk: press, hold past the click threshold, let go: listening, then transcribing.
  // (The fake microphone has played its file by now: this one hears silence, "I heard nothing".)
  const boxOf = await record.boundingBox();
  await page.mouse.move(boxOf.x + boxOf.width / 2, boxOf.y + boxOf.height / 2);
  await page.mouse.down();
  await page.locator('.bivoice-mic[data-status="listening"]').waitFor({ timeout: 15_000 });
  await page.waitForTimeout(1000);
  await page.mouse.up();
  await page.waitForFunction(() => document.querySelector(".bivoice-mic").dataset.status !== "listening", null,
    { timeout: 10_000 });
  result.afterHold = await mic.getAttribute("data-status");
  await page.waitForFunction(
    () => ["done", "error"].includes(document.querySelector(".bivoice-mic").dataset.status), null, { timeout: 60_000 });
  step("hold to talk");
  // Fix the transcript by hand and ask again: a "text" message, re-planned without audio.
  const box = mic.locator("input.bivoice-transcript");
  await box.fill(opts.corrected);
  await box.press("Enter"); // as a person would; the Ask button does the same
  result.afterAsk = await mic.getAttribute("data-status");
  await page.waitForFunction(
    (q) => {
      const root = document.querySelector(".bivoice-mic");
      const title = document.querySelector(".jp-OutputArea .js-plotly-plot .gtitle");
      return root.dataset.status === "done" && title && title.textContent.includes(q);
    },
    opts.corrected,
    { timeout: 60_000 },
  );
  result.corrected = await page.locator(".jp-OutputArea .js-plotly-plot .gtitle").first().textContent();
  step("corrected transcript answered");

  result.ok = result.status === "done" && result.chart;
} catch (err) {
  result.failure = String(err && err.stack ? err.stack : err);
  result.lastStatus = await page.locator(".bivoice-mic").first().getAttribute("data-status").catch(() => null);
  result.lastError = await page.locator(".bivoice-mic .error").first().textContent().catch(() => null);
} finally {
  await finish({ page, close, result, consoleErrors }, opts);
}
