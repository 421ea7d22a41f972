// The bivoice microphone. Records with getUserMedia + MediaRecorder and sends each recording to
// the kernel once, as one binary buffer: model.send({type: "audio", mime, size}, undefined, [buf]).
// A corrected transcript goes back as model.send({type: "text", text}).
//
// Click Record to start and again to stop; or hold the button (or the hold key while the widget
// has focus) and let go to stop. The kernel answers through widget state (status, transcript,
// error) and an Output widget below; nothing here waits on a cell.

const HOLD_MS = 350; // a press longer than this is hold-to-talk: letting go stops the recording

export function pickMime() {
  const options = ["audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/webm", "audio/mp4"];
  if (typeof MediaRecorder === "undefined") return "";
  return options.find((m) => MediaRecorder.isTypeSupported(m)) || "";
}

// Why the microphone cannot be used, in words a person can act on ("" when it can).
export function unavailableReason(win) {
  if (!win.isSecureContext) {
    return "The microphone needs a secure page: open Jupyter over https, or on localhost / 127.0.0.1.";
  }
  if (!win.navigator.mediaDevices || !win.navigator.mediaDevices.getUserMedia) {
    return "This browser gives pages no microphone (no navigator.mediaDevices).";
  }
  if (typeof win.MediaRecorder === "undefined") return "This browser cannot record audio (no MediaRecorder).";
  return "";
}

export function refusalMessage(err) {
  const name = (err && err.name) || "Error";
  if (name === "NotAllowedError" || name === "SecurityError") {
    return "The browser refused the microphone. Allow it for this page (the icon in the address bar) and try again.";
  }
  if (name === "NotFoundError" || name === "OverconstrainedError") return "No microphone was found on this computer.";
  if (name === "NotReadableError") return "The microphone is in use by another program, or the system blocked it.";
  return `The microphone could not be opened: ${name}${err && err.message ? `: ${err.message}` : ""}`;
}

const LABELS = {
  idle: "",
  listening: "listening\u2026",
  transcribing: "transcribing\u2026",
  planning: "planning\u2026",
  querying: "querying\u2026",
  done: "",
  error: "",
};

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text) node.textContent = text;
  return node;
}

function render({ model, el: host }) {
  const root = el("div", "bivoice-mic");
  root.tabIndex = 0; // focusable, so the hold key reaches it
  // JupyterLab's shortcuts (Enter, Space, letters in command mode) stop at this element: keys
  // typed here are ours (Lumino honours the attribute on any ancestor of the key's target).
  root.setAttribute("data-lm-suppress-shortcuts", "true");
  const row = el("div", "bivoice-row");
  const button = el("button", "bivoice-record", "Record");
  button.title = "Click to record, click again to stop; or hold to talk";
  const level = el("div", "level");
  const bar = el("div");
  level.appendChild(bar);
  const status = el("span", "status");
  row.append(button, level, status);

  const edit = el("div", "bivoice-edit");
  const text = el("input", "bivoice-transcript");
  text.type = "text";
  // Always there: the transcript to correct, or a typed question where no microphone can be used.
  text.placeholder = "the transcript appears here: correct it (or type a question) and press Ask";
  text.setAttribute("aria-label", "transcript");
  const ask = el("button", "bivoice-ask", "Ask");
  ask.title = "ask the question as written in the box";
  edit.append(text, ask);
  const error = el("div", "error");
  error.setAttribute("role", "alert");
  root.append(row, edit, error);
  host.appendChild(root);

  let recorder = null;
  let stream = null;
  let audioCtx = null;
  let timer = null;
  let raf = null;
  let pressedAt = 0;
  let starting = false;

  function show() {
    const s = model.get("status");
    status.textContent = LABELS[s] === undefined ? s : LABELS[s];
    status.dataset.status = s;
    root.dataset.status = s;
    const t = model.get("transcript");
    if (document.activeElement !== text || s === "planning") text.value = t;
    error.textContent = model.get("error");
    const busy = s === "transcribing" || s === "planning" || s === "querying";
    ask.disabled = busy;
  }
  model.on("change:status", show);
  model.on("change:transcript", show);
  model.on("change:error", show);
  show();

  function setState(values) {
    for (const [k, v] of Object.entries(values)) model.set(k, v);
    model.save_changes();
  }

  function meter() {
    const analyser = audioCtx.createAnalyser();
    audioCtx.createMediaStreamSource(stream).connect(analyser);
    const data = new Uint8Array(analyser.fftSize);
    const tick = () => {
      analyser.getByteTimeDomainData(data);
      let peak = 0;
      for (const v of data) peak = Math.max(peak, Math.abs(v - 128));
      bar.style.width = `${Math.min(100, (peak / 128) * 200)}%`;
      raf = requestAnimationFrame(tick);
    };
    tick();
  }

  function cleanup() {
    if (timer) clearTimeout(timer);
    if (raf) cancelAnimationFrame(raf);
    if (stream) stream.getTracks().forEach((t) => t.stop());
    if (audioCtx) audioCtx.close();
    bar.style.width = "0%";
    timer = raf = stream = audioCtx = recorder = null;
    button.textContent = "Record";
    button.classList.remove("recording");
  }

  async function start() {
    if (starting || (recorder && recorder.state === "recording")) return;
    const reason = unavailableReason(window);
    if (reason) {
      setState({ status: "error", error: reason });
      return;
    }
    starting = true;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch (err) {
      starting = false;
      setState({ status: "error", error: refusalMessage(err) });
      return;
    }
    const mime = pickMime();
    const chunks = [];
    recorder = new MediaRecorder(stream, { mimeType: mime });
    recorder.ondataavailable = (e) => e.data.size && chunks.push(e.data);
    recorder.onstop = async () => {
      const blob = new Blob(chunks, { type: mime });
      const buffer = await blob.arrayBuffer();
      cleanup();
      // Update our own status first, or it could land after the kernel's.
      setState({ status: "transcribing", error: "", transcript: "" });
      model.send({ type: "audio", mime, size: buffer.byteLength }, undefined, [buffer]);
    };
    audioCtx = new AudioContext();
    meter();
    recorder.start();
    starting = false;
    button.textContent = "Stop";
    button.classList.add("recording");
    setState({ status: "listening", error: "" });
    timer = setTimeout(stop, model.get("max_seconds") * 1000);
  }

  function stop() {
    if (recorder && recorder.state === "recording") recorder.stop();
  }

  function recording() {
    return starting || (recorder && recorder.state === "recording");
  }

  // Click toggles; a long press is hold-to-talk (pointer down starts, pointer up stops).
  button.addEventListener("pointerdown", (e) => {
    if (e.button !== 0) return;
    if (recording()) {
      pressedAt = 0;
      stop();
    } else {
      pressedAt = Date.now();
      start();
    }
  });
  const release = () => {
    if (pressedAt && Date.now() - pressedAt >= HOLD_MS) stop();
    pressedAt = 0;
  };
  button.addEventListener("pointerup", release);
  button.addEventListener("pointerleave", release);
  // Keyboard: Enter or Space on the focused button toggles (as a click would)
  button.addEventListener("click", (e) => {
    if (e.detail !== 0) return; // a pointer click, handled above
    if (recording()) stop();
    else start();
  });

  // The hold key (default Space) while the widget, not the text box, has focus.
  const isHoldKey = (e) => e.key === model.get("hold_key") || e.code === model.get("hold_key");
  root.addEventListener("keydown", (e) => {
    if (e.target === text || e.target === button || !isHoldKey(e)) return;
    e.preventDefault();
    e.stopPropagation(); // not a notebook shortcut
    if (!e.repeat) start();
  });
  root.addEventListener("keyup", (e) => {
    if (e.target === text || e.target === button || !isHoldKey(e)) return;
    e.preventDefault();
    e.stopPropagation();
    stop();
  });

  // A corrected transcript: ask again from the text, no audio.
  function askText() {
    const value = text.value.trim();
    if (!value) return;
    setState({ status: "planning", error: "", transcript: value });
    model.send({ type: "text", text: value });
  }
  ask.addEventListener("click", askText);
  text.addEventListener("keydown", (e) => {
    e.stopPropagation(); // typing here must not run notebook shortcuts
    if (e.key === "Enter") {
      e.preventDefault();
      askText();
    }
  });

  return () => {
    stop();
    cleanup();
  };
}

export default { render };
