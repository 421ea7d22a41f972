// One voice question at a time, from any notebook: record in the browser, transcribe in the
// kernel (the `bivoice` comm), then write `%%voice` + transcript below the active cell and run
// it, so the answer renders exactly as the magic renders it.

import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import { NotebookActions, NotebookPanel } from '@jupyterlab/notebook';
import { Kernel } from '@jupyterlab/services';
import { ISignal, Signal } from '@lumino/signaling';
import { ISettings, LOAD_EXTENSION, voiceCellSource } from './cell';
import { KernelError, VoiceComm, connect } from './kernel';
import { PressAction, PressTracker } from './press';
import { STATUS_LABELS, Status, audioMessage } from './protocol';
import { MicrophoneError, Recording } from './recorder';

const BUSY: Status[] = ['checking', 'transcribing', 'planning', 'querying'];

export class VoiceController {
  status: Status = 'idle';
  message = ''; // the error, or the last transcript
  level = 0; // 0..1, the microphone's peak while listening
  panel: NotebookPanel | null = null;

  private recording: Recording | null = null;
  private stopWhenStarted = false;
  private tracker = new PressTracker();
  private comms = new Map<string, VoiceComm>();
  private changed = new Signal<this, void>(this);

  constructor(private settings: () => ISettings) {}

  get stateChanged(): ISignal<this, void> {
    return this.changed;
  }

  get label(): string {
    return this.status === 'error' ? this.message : STATUS_LABELS[this.status];
  }

  get isRecording(): boolean {
    return this.status === 'listening' || (this.status === 'checking' && !this.stopWhenStarted);
  }

  // A press of the toolbar button or the shortcut: a short one toggles, a long one is hold-to-talk.
  press(panel: NotebookPanel, now = Date.now()): PressAction {
    const action = this.tracker.down(this.isRecording, now);
    if (action === 'start') {
      void this.start(panel);
    } else if (action === 'stop') {
      void this.finish();
    }
    return action;
  }

  release(now = Date.now()): void {
    if (this.tracker.up(now) === 'stop') {
      void this.finish();
    }
  }

  // The command palette: start, or stop what is recording.
  toggle(panel: NotebookPanel): void {
    if (this.isRecording) {
      void this.finish();
    } else {
      void this.start(panel);
    }
  }

  async start(panel: NotebookPanel): Promise<void> {
    if (BUSY.includes(this.status) || this.status === 'listening') {
      return;
    }
    this.panel = panel;
    this.stopWhenStarted = false;
    this.set('checking');
    try {
      const comm = await this.comm(panel);
      if (!comm) {
        this.set('idle');
        return;
      }
      this.recording = await Recording.start(
        this.settings().maxSeconds,
        level => {
          this.level = level;
          this.changed.emit();
        },
        () => void this.finish()
      );
      this.set('listening');
      if (this.stopWhenStarted) {
        await this.finish(); // let go before the microphone opened
      }
    } catch (err) {
      this.fail(err);
    }
  }

  async finish(): Promise<void> {
    if (this.status === 'checking') {
      this.stopWhenStarted = true;
      return;
    }
    const recording = this.recording;
    const panel = this.panel;
    if (!recording || !panel || this.status !== 'listening') {
      return;
    }
    this.recording = null;
    try {
      const { buffer, mime } = await recording.stop();
      // our own status first: the kernel's replies come after it
      this.set('transcribing');
      const comm = await this.comm(panel);
      if (!comm) {
        throw new KernelError('The kernel no longer has the bivoice extension loaded (was it restarted?). Try again.');
      }
      const text = await comm.transcribe(audioMessage(mime, buffer.byteLength, this.settings().speechModel), buffer, reply => {
        if (reply.type === 'status') {
          this.set(reply.status);
        }
      });
      this.set('planning', text);
      const ok = await insertAndRun(panel, voiceCellSource(text, this.settings()));
      if (ok) {
        this.set('done', text);
      } else {
        this.set('error', `The %%voice cell for \u201c${text}\u201d failed: its output says why.`);
      }
    } catch (err) {
      this.fail(err);
    }
  }

  private async comm(panel: NotebookPanel): Promise<VoiceComm | null> {
    const session = panel.sessionContext;
    await session.ready;
    const kernel = session.session?.kernel;
    if (!kernel) {
      throw new KernelError('This notebook has no kernel. Start one (Kernel \u25b8 Change Kernel) and try again.');
    }
    const known = this.comms.get(kernel.id);
    if (known?.isOpen) {
      return known;
    }
    this.watch(kernel);
    let comm = await connect(kernel);
    if (!comm) {
      const choice = await showDialog({
        title: 'Load bivoice-jupyter in this kernel?',
        body:
          'This kernel has not loaded the bivoice extension, which transcribes what you say. ' +
          `Add a cell with ${LOAD_EXTENSION} below the active cell and run it?`,
        buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Load it' })]
      });
      if (!choice.button.accept) {
        return null;
      }
      if (!(await insertAndRun(panel, LOAD_EXTENSION))) {
        throw new KernelError(
          `${LOAD_EXTENSION} failed (its cell shows why). Install bivoice-jupyter in the kernel's environment (pip install bivoice-jupyter) and try again.`
        );
      }
      comm = await connect(kernel);
      if (!comm) {
        throw new KernelError(
          'The kernel loaded bivoice_jupyter but it has no "bivoice" comm target: install the same version of bivoice-jupyter in the kernel as in JupyterLab.'
        );
      }
    }
    comm.onStage = status => {
      // only while the cell the button ran is answering: planning, then querying
      if (this.status === 'planning' || this.status === 'querying') {
        this.set(status, this.message);
      }
    };
    this.comms.set(kernel.id, comm);
    return comm;
  }

  private watched = new WeakSet<Kernel.IKernelConnection>();

  private watch(kernel: Kernel.IKernelConnection): void {
    if (this.watched.has(kernel)) {
      return;
    }
    this.watched.add(kernel);
    kernel.statusChanged.connect((k, status) => {
      if (status === 'restarting' || status === 'autorestarting' || status === 'dead') {
        this.comms.get(k.id)?.abandon('The kernel restarted or died while transcribing. Try again.');
        this.comms.delete(k.id);
      }
    });
  }

  private fail(err: unknown): void {
    const known = err instanceof KernelError || err instanceof MicrophoneError;
    const message = known ? (err as Error).message : `internal error: ${String(err)}`;
    if (this.recording) {
      void this.recording.stop();
      this.recording = null;
    }
    this.set('error', message);
    Notification.error(`Ask by voice: ${message}`, { autoClose: 10_000 });
    if (!known) {
      console.error('bivoice-jupyter:', err);
    }
  }

  private set(status: Status, message = ''): void {
    this.status = status;
    this.message = message;
    if (status !== 'listening') {
      this.level = 0;
    }
    this.changed.emit();
  }
}

// A new code cell below the active one, with `source`, run; true when it ran without error.
export async function insertAndRun(panel: NotebookPanel, source: string): Promise<boolean> {
  const notebook = panel.content;
  NotebookActions.insertBelow(notebook);
  const cell = notebook.activeCell;
  if (!cell) {
    return false;
  }
  if (cell.model.type !== 'code') {
    NotebookActions.changeCellType(notebook, 'code');
  }
  notebook.activeCell!.model.sharedModel.setSource(source);
  return NotebookActions.run(notebook, panel.sessionContext);
}
