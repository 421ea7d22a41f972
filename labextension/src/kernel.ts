// The kernel end: the `bivoice` comm target that `%load_ext bivoice_jupyter` registers.

import { Kernel, KernelMessage } from '@jupyterlab/services';
import { COMM_TARGET, IAudioMessage, Reply, Status, kernelProblem, parseReply } from './protocol';

const READY_TIMEOUT_MS = 15_000;

export class KernelError extends Error {}

// Connects to the comm target; resolves with the comm, or with null when the kernel has no such
// target (the extension is not loaded: the kernel closes the comm at once).
export async function connect(kernel: Kernel.IKernelConnection): Promise<VoiceComm | null> {
  const info = await kernel.info;
  const problem = kernelProblem(info.language_info?.name);
  if (problem) {
    throw new KernelError(problem);
  }
  const comm = kernel.createComm(COMM_TARGET);
  const answer = new Promise<VoiceComm | null>((resolve, reject) => {
    const timer = window.setTimeout(() => {
      reject(
        new KernelError(
          'The kernel did not answer within 15 s. Wait for the running cell to finish (or interrupt it) and try again.'
        )
      );
    }, READY_TIMEOUT_MS);
    comm.onClose = () => {
      window.clearTimeout(timer);
      resolve(null);
    };
    comm.onMsg = msg => {
      window.clearTimeout(timer);
      const reply = parseReply(msg.content.data);
      if (reply.type === 'ready') {
        resolve(new VoiceComm(comm));
      } else {
        reject(new KernelError(reply.type === 'error' ? reply.message : 'The kernel did not greet the extension.'));
      }
    };
  });
  comm.open({});
  return answer;
}

// One open comm: sends a recording, hands on the kernel's status and resolves with its transcript.
export class VoiceComm {
  private pending: {
    resolve: (text: string) => void;
    reject: (err: Error) => void;
    onStatus: (reply: Reply) => void;
  } | null = null;
  private closed = false;
  // The stages of the %%voice cell the button ran (planning, querying): the kernel sends them
  // while that cell runs, when no recording is waiting for its transcript.
  onStage: ((status: Status) => void) | null = null;

  constructor(private comm: Kernel.IComm) {
    comm.onMsg = (msg: KernelMessage.ICommMsgMsg) => this.receive(parseReply(msg.content.data));
    comm.onClose = () => {
      this.closed = true;
      this.pending?.reject(new KernelError('The kernel closed the connection (was it restarted?). Try again.'));
      this.pending = null;
    };
  }

  // The kernel went away: fail what is waiting, and never use this comm again.
  abandon(message: string): void {
    this.closed = true;
    this.pending?.reject(new KernelError(message));
    this.pending = null;
  }

  get isOpen(): boolean {
    return !this.closed && !this.comm.isDisposed;
  }

  transcribe(message: IAudioMessage, buffer: ArrayBuffer, onStatus: (reply: Reply) => void): Promise<string> {
    if (this.pending) {
      return Promise.reject(new KernelError('A recording is already being transcribed.'));
    }
    const result = new Promise<string>((resolve, reject) => {
      this.pending = { resolve, reject, onStatus };
    });
    this.comm.send(message as unknown as KernelMessage.ICommMsgMsg['content']['data'], undefined, [buffer]);
    return result;
  }

  private receive(reply: Reply): void {
    const pending = this.pending;
    if (!pending) {
      if (reply.type === 'status') {
        this.onStage?.(reply.status);
      }
      return;
    }
    if (reply.type === 'transcript') {
      this.pending = null;
      pending.resolve(reply.text);
    } else if (reply.type === 'error') {
      this.pending = null;
      pending.reject(new KernelError(reply.message));
    } else {
      pending.onStatus(reply);
    }
  }
}
