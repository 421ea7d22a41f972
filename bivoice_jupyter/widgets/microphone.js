// The bivoice microphone: record with getUserMedia + MediaRecorder, send the recording to the
// kernel once, as one binary buffer: model.send({type: "audio", mime, size}, callbacks, [buf]).
function pickMime() {
  const options = ["audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/webm", "audio/mp4"];
  if (typeof MediaRecorder === "undefined") return "";
  return options.find((m) => MediaRecorder.isTypeSupported(m)) || "";
}

function render({ model, el }) {
  const root = document.createElement("div");
  root.className = "bivoice-mic";
  const button = document.createElement("button");
  button.className = "bivoice-record";
  button.textContent = "Record";
  const level = document.createElement("div");
  level.className = "level";
  const bar = document.createElement("div");
  level.appendChild(bar);
  const status = document.createElement("span");
  status.className = "status";
  const transcript = document.createElement("span");
  transcript.className = "transcript";
  const error = document.createElement("span");
  error.className = "error";
  root.append(button, level, status, transcript, error);
  el.appendChild(root);

  let recorder = null;
  let stream = null;
  let audioCtx = null;
  let timer = null;
  let raf = null;

  function show() {
    status.textContent = model.get("status");
    const t = model.get("transcript");
    transcript.textContent = t ? `\u201c${t}\u201d` : "";
    error.textContent = model.get("error");
  }
  model.on("change:status", show);
  model.on("change:transcript", show);
  model.on("change:error", show);
  show();

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
    if (!window.isSecureContext || !navigator.mediaDevices) {
      model.set("error", "The microphone needs a secure page (https or localhost).");
      model.save_changes();
      return;
    }
    const mime = pickMime();
    if (!mime) {
      model.set("error", "This browser cannot record audio (no MediaRecorder).");
      model.save_changes();
      return;
    }
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch (err) {
      model.set("error", `The browser refused the microphone: ${err.name}`);
      model.set("status", "error");
      model.save_changes();
      return;
    }
    const chunks = [];
    recorder = new MediaRecorder(stream, { mimeType: mime });
    recorder.ondataavailable = (e) => e.data.size && chunks.push(e.data);
    recorder.onstop = async () => {
      const blob = new Blob(chunks, { type: mime });
      const buffer = await blob.arrayBuffer();
      cleanup();
      // Update our own status first, or it could land after the kernel's.
      model.set("status", "transcribing");
      model.set("error", "");
      model.save_changes();
      model.send({ type: "audio", mime, size: buffer.byteLength }, undefined, [buffer]);
    };
    audioCtx = new AudioContext();
    meter();
    recorder.start();
    button.textContent = "Stop";
    button.classList.add("recording");
    model.set("status", "listening");
    model.set("error", "");
    model.save_changes();
    timer = setTimeout(() => recorder && recorder.stop(), model.get("max_seconds") * 1000);
  }

  button.addEventListener("click", () => {
    if (recorder && recorder.state === "recording") recorder.stop();
    else start();
  });
  return cleanup;
}

export default { render };
