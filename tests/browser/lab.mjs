// The JupyterLab extension in a real browser: Debian's Chromium with the fake microphone playing
// a spoken question. Opens a notebook whose kernel has NOT loaded bivoice_jupyter, runs its
// setup cell, clicks the toolbar microphone, accepts the offer to load the extension, lets the
// question play, clicks again to stop, and waits for the new `%%voice` cell and its chart.
// Prints one JSON line.
//
//   node lab.mjs '{"base": "http://127.0.0.1:PORT", "token": "...", "notebook": "lab.ipynb",
//                  "wav": "/abs/question.wav", "speechSeconds": 3.2, "screenshot": "/abs/out.png"}'
//
// Used by tests/test_labextension.py; run `npm ci` here first (no browser is downloaded).
import { finish, openNotebook, session } from "./chromium.mjs";

const opts = JSON.parse(process.argv[2]);
const { context, close, page, result, step, consoleErrors } = await session(opts);
const mic = page.locator(".jp-NotebookPanel-toolbar .bivoice-toolbar-mic").first();
const status = () => mic.getAttribute("data-status");
const sources = () =>
  page.evaluate(() => {
    const cells = window.jupyterapp.shell.currentWidget.content.model.cells;
    return Array.from({ length: cells.length }, (_, i) => cells.get(i).sharedModel.getSource());
  });

try {
  await openNotebook(context, page, opts);
  step("notebook open, kernel idle");
  result.secureContext = await page.evaluate(() => window.isSecureContext);
  result.command = await page.evaluate(() => {
    const c = window.jupyterapp.commands;
    const binding = c.keyBindings.find((b) => b.command === "bivoice:ask-by-voice");
    return { label: c.label("bivoice:ask-by-voice"), keys: binding ? binding.keys : [] };
  });

  // The setup cell (loads the demo table; does not %load_ext): run it, staying on it.
  await page.locator(".jp-Notebook .jp-Cell").first().locator(".jp-InputArea-editor").click();
  await page.keyboard.press("Control+Enter");
  await page.locator(".jp-Notebook .jp-Cell").first().locator(".jp-InputPrompt", { hasText: "[1]:" })
    .waitFor({ timeout: 90_000 });
  step("setup cell ran");

  await mic.waitFor({ timeout: 30_000 });
  await mic.locator("button").click(); // a click: recording until the next click
  // The kernel has not loaded the extension: the button offers to.
  const dialog = page.locator(".jp-Dialog");
  await dialog.waitFor({ timeout: 20_000 });
  result.dialog = await dialog.locator(".jp-Dialog-header").textContent();
  await dialog.locator("button.jp-mod-accept").click();
  step("offered to load the extension; accepted");
  await page.locator('.bivoice-toolbar-mic[data-status="listening"]').waitFor({ timeout: 60_000 });
  step("listening");
  result.statusBar = await page.locator(".bivoice-statusbar").textContent();
  await page.waitForTimeout(Math.round((opts.speechSeconds + 0.7) * 1000));
  await mic.locator("button").click();
  step("stopped");
  const seen = new Set();
  const deadline = Date.now() + 120_000;
  for (;;) {
    const s = await status();
    seen.add(s);
    if (s === "done" || s === "error") break;
    if (Date.now() > deadline) throw new Error(`still ${s} after 120 s`);
    await page.waitForTimeout(100);
  }
  result.seen = [...seen];
  result.status = await status();
  result.title = await mic.locator("button").getAttribute("title");
  step("answered");

  result.sources = await sources();
  // The answer renders as the magic renders it: a Plotly chart in the %%voice cell's output.
  const voiceCell = page.locator(".jp-Notebook .jp-Cell").nth(result.sources.findIndex((s) => s.startsWith("%%voice")));
  const chart = voiceCell.locator(".jp-OutputArea .js-plotly-plot").first();
  await chart.waitFor({ timeout: 30_000 }).catch(() => {});
  result.chart = (await chart.count()) > 0 && (await chart.isVisible());
  result.chartTitle = result.chart ? await chart.locator(".gtitle").first().textContent().catch(() => "") : "";
  result.ok = result.status === "done" && result.chart;
} catch (err) {
  result.failure = String(err && err.stack ? err.stack : err);
  result.lastStatus = await status().catch(() => null);
  result.lastTitle = await mic.locator("button").getAttribute("title").catch(() => null);
  result.sources = await sources().catch(() => null);
} finally {
  await finish({ page, close, result, consoleErrors }, opts);
}
