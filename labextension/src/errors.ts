// Why the microphone cannot be used, in words a person can act on. The same messages as the
// microphone widget (bivoice_jupyter/widgets/microphone.js).

export interface IMediaWindow {
  isSecureContext: boolean;
  navigator: { mediaDevices?: { getUserMedia?: unknown } };
  MediaRecorder?: unknown;
}

export function unavailableReason(win: IMediaWindow): string {
  if (!win.isSecureContext) {
    return 'The microphone needs a secure page: open Jupyter over https, or on localhost / 127.0.0.1.';
  }
  if (!win.navigator.mediaDevices || !win.navigator.mediaDevices.getUserMedia) {
    return 'This browser gives pages no microphone (no navigator.mediaDevices).';
  }
  if (typeof win.MediaRecorder === 'undefined') {
    return 'This browser cannot record audio (no MediaRecorder).';
  }
  return '';
}

export function refusalMessage(err: unknown): string {
  const e = err as { name?: string; message?: string } | null;
  const name = (e && e.name) || 'Error';
  if (name === 'NotAllowedError' || name === 'SecurityError') {
    return 'The browser refused the microphone. Allow it for this page (the icon in the address bar) and try again.';
  }
  if (name === 'NotFoundError' || name === 'OverconstrainedError') {
    return 'No microphone was found on this computer.';
  }
  if (name === 'NotReadableError') {
    return 'The microphone is in use by another program, or the system blocked it.';
  }
  return `The microphone could not be opened: ${name}${e && e.message ? `: ${e.message}` : ''}`;
}

export const MIME_CHOICES = ['audio/webm;codecs=opus', 'audio/ogg;codecs=opus', 'audio/webm', 'audio/mp4'];

export function pickMime(isTypeSupported: ((mime: string) => boolean) | undefined): string {
  if (!isTypeSupported) {
    return '';
  }
  return MIME_CHOICES.find(m => isTypeSupported(m)) || '';
}
