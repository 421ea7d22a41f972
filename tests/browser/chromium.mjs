// Shared by the drivers (voice.mjs, lab.mjs): Debian's Chromium with a fake microphone playing
// a WAV once, and a notebook opened in a running JupyterLab with its kernel idle.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

export async function launch(opts) {
  const profile = mkdtempSync(join(tmpdir(), "bivoice-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: opts.chromium || "/usr/bin/chromium",
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--use-fake-ui-for-media-stream",
      "--use-fake-device-for-media-stream",
      // %noloop: play the question once (without it Chromium loops the file)
      `--use-file-for-fake-audio-capture=${opts.wav}%noloop`,
    ],
  });
  const close = async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  };
  return { context, close };
}

// One driver run: the browser, its first page, the result object every driver prints (with
// timed steps) and the page's console errors.
export async function session(opts) {
  const started = Date.now();
  const steps = [];
  const step = (name) => steps.push([name, (Date.now() - started) / 1000]);
  const { context, close } = await launch(opts);
  const page = context.pages()[0] || (await context.newPage());
  const consoleErrors = [];
  page.on("console", (m) => m.type() === "error" && consoleErrors.push(m.text()));
  return { context, close, page, result: { ok: false, steps }, step, consoleErrors };
}

// Ends a driver run: the screenshot (JupyterLab's "get notified about news?" toast dismissed
// first: it would cover a corner), the browser closed, the result printed as one JSON line, and
// the exit status.
export async function finish({ page, close, result, consoleErrors }, opts) {
  result.consoleErrors = consoleErrors.slice(0, 10);
  await page.locator(".jp-toast-button", { hasText: "No" }).first().click({ timeout: 1000 }).catch(() => {});
  await page.waitForTimeout(500);
  if (opts.screenshot) await page.screenshot({ path: opts.screenshot, fullPage: true }).catch(() => {});
  await close();
  console.log(JSON.stringify(result));
  process.exit(result.ok ? 0 : 1);
}

// Opens the notebook and waits until its kernel is idle: in JupyterLab (?reset: no tabs or
// kernels from an earlier run come back), or in Notebook 7 when opts.app is "notebook" (the same
// server serves /notebooks/...; both apps expose `window.jupyterapp` when told to).
export async function openNotebook(context, page, opts) {
  await context.grantPermissions(["microphone"], { origin: opts.base });
  const path = opts.app === "notebook" ? `notebooks/${opts.notebook}?` : `lab/tree/${opts.notebook}?reset&`;
  await page.goto(`${opts.base}/${path}token=${opts.token}`);
  await page.waitForFunction(
    () => {
      const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
      const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
      return k && k.status === "idle";
    },
    null,
    { timeout: 60_000 },
  );
}
