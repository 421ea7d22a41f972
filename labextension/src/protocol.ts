// The messages between the extension and the kernel's `bivoice` comm target
// (bivoice_jupyter/widgets/comm.py). The audio message has the microphone widget's shape
// (bivoice_jupyter/widgets/messages.py), plus the speech model chosen in the settings.

export const COMM_TARGET = 'bivoice';

export type Status =
  | 'idle'
  | 'checking'
  | 'listening'
  | 'transcribing'
  | 'planning'
  | 'querying'
  | 'done'
  | 'error';

export const STATUS_LABELS: Record<Status, string> = {
  idle: '',
  checking: 'connecting to the kernel\u2026',
  listening: 'listening\u2026',
  transcribing: 'transcribing\u2026',
  planning: 'planning\u2026',
  querying: 'querying\u2026',
  done: 'answered',
  error: 'error'
};

export interface IAudioMessage {
  type: 'audio';
  mime: string;
  size: number;
  model?: string;
}

export type Reply =
  | { type: 'ready'; version: string }
  | { type: 'status'; status: Status }
  | {
      type: 'transcript';
      text: string;
      language?: string;
      duration_s?: number;
      seconds?: number;
    }
  | { type: 'error'; message: string };

export function audioMessage(mime: string, size: number, model = ''): IAudioMessage {
  const msg: IAudioMessage = { type: 'audio', mime, size };
  if (model.trim()) {
    msg.model = model.trim();
  }
  return msg;
}

// A kernel message's data as a Reply; anything else is an error reply that says what came.
export function parseReply(data: unknown): Reply {
  const d = (data ?? {}) as Record<string, unknown>;
  switch (d.type) {
    case 'ready':
      return { type: 'ready', version: String(d.version ?? '') };
    case 'status':
      if (typeof d.status === 'string' && d.status in STATUS_LABELS) {
        return { type: 'status', status: d.status as Status };
      }
      break;
    case 'transcript':
      if (typeof d.text === 'string') {
        return {
          type: 'transcript',
          text: d.text,
          language: typeof d.language === 'string' ? d.language : undefined,
          duration_s: typeof d.duration_s === 'number' ? d.duration_s : undefined,
          seconds: typeof d.seconds === 'number' ? d.seconds : undefined
        };
      }
      break;
    case 'error':
      return { type: 'error', message: String(d.message ?? 'the kernel reported an error') };
  }
  return {
    type: 'error',
    message: `The kernel sent a message this extension does not understand: ${JSON.stringify(data)}. Use the same version of bivoice-jupyter in the kernel and in JupyterLab.`
  };
}

// Why this kernel cannot answer ("" when it can), from its kernel_info language name.
export function kernelProblem(language: string | undefined): string {
  if (!language) {
    return 'The kernel did not say which language it runs; asking by voice needs a Python kernel with bivoice-jupyter.';
  }
  if (language.toLowerCase() !== 'python') {
    return `This notebook's kernel runs ${language}, not Python: asking by voice needs a Python kernel with bivoice-jupyter installed. Change the kernel (Kernel \u25b8 Change Kernel).`;
  }
  return '';
}
