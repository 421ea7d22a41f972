// Recording in the browser: getUserMedia + MediaRecorder, as the microphone widget records,
// with a level meter. The recording goes to the kernel once, whole, as one binary buffer.

import { pickMime, refusalMessage, unavailableReason } from './errors';

export class MicrophoneError extends Error {}

export interface IRecorded {
  buffer: ArrayBuffer;
  mime: string;
}

export class Recording {
  private chunks: Blob[] = [];
  private audioCtx: AudioContext | null = null;
  private raf = 0;
  private timer = 0;
  private stopped: Promise<IRecorded>;

  private constructor(
    private stream: MediaStream,
    private recorder: MediaRecorder,
    mime: string,
    onLevel: (level: number) => void,
    maxSeconds: number,
    onAutoStop: () => void
  ) {
    this.stopped = new Promise((resolve, reject) => {
      recorder.ondataavailable = e => {
        if (e.data.size) {
          this.chunks.push(e.data);
        }
      };
      recorder.onstop = async () => {
        this.release(onLevel);
        try {
          const blob = new Blob(this.chunks, { type: mime });
          resolve({ buffer: await blob.arrayBuffer(), mime });
        } catch (err) {
          reject(err);
        }
      };
    });
    this.meter(onLevel);
    recorder.start();
    this.timer = window.setTimeout(() => {
      if (this.recording) {
        onAutoStop();
      }
    }, maxSeconds * 1000);
  }

  // Opens the microphone and starts recording; throws MicrophoneError with a message to show.
  static async start(
    maxSeconds: number,
    onLevel: (level: number) => void,
    onAutoStop: () => void
  ): Promise<Recording> {
    const reason = unavailableReason(window as unknown as Parameters<typeof unavailableReason>[0]);
    if (reason) {
      throw new MicrophoneError(reason);
    }
    let stream: MediaStream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch (err) {
      throw new MicrophoneError(refusalMessage(err));
    }
    const mime = pickMime(m => MediaRecorder.isTypeSupported(m));
    const recorder = new MediaRecorder(stream, mime ? { mimeType: mime } : undefined);
    return new Recording(stream, recorder, mime || recorder.mimeType, onLevel, maxSeconds, onAutoStop);
  }

  get recording(): boolean {
    return this.recorder.state === 'recording';
  }

  // Stops and gives the whole recording.
  stop(): Promise<IRecorded> {
    if (this.recorder.state !== 'inactive') {
      this.recorder.stop();
    }
    return this.stopped;
  }

  private meter(onLevel: (level: number) => void): void {
    this.audioCtx = new AudioContext();
    const analyser = this.audioCtx.createAnalyser();
    this.audioCtx.createMediaStreamSource(this.stream).connect(analyser);
    const data = new Uint8Array(analyser.fftSize);
    const tick = () => {
      analyser.getByteTimeDomainData(data);
      let peak = 0;
      for (const v of data) {
        peak = Math.max(peak, Math.abs(v - 128));
      }
      onLevel(Math.min(1, (peak / 128) * 2));
      this.raf = requestAnimationFrame(tick);
    };
    tick();
  }

  private release(onLevel: (level: number) => void): void {
    window.clearTimeout(this.timer);
    cancelAnimationFrame(this.raf);
    this.stream.getTracks().forEach(t => t.stop());
    void this.audioCtx?.close();
    this.audioCtx = null;
    onLevel(0);
  }
}
