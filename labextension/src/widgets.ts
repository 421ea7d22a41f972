// The toolbar microphone (one per notebook) and the status bar indicator.

import { NotebookPanel } from '@jupyterlab/notebook';
import { Widget } from '@lumino/widgets';
import { VoiceController } from './controller';

const MIC_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="16" height="16" aria-hidden="true">' +
  '<path class="jp-icon3" fill="#616161" d="M12 14a3 3 0 0 0 3-3V5a3 3 0 0 0-6 0v6a3 3 0 0 0 3 3zm5-3a5 5 0 0 1-10 0H5' +
  'a7 7 0 0 0 6 6.92V21h2v-3.08A7 7 0 0 0 19 11h-2z"/></svg>';

export class MicButton extends Widget {
  private button: HTMLButtonElement;
  private bar: HTMLDivElement;
  private text: HTMLSpanElement;

  constructor(private controller: VoiceController, private panel: NotebookPanel) {
    super();
    this.addClass('bivoice-toolbar-mic');
    this.button = document.createElement('button');
    this.button.className = 'jp-ToolbarButtonComponent bivoice-toolbar-button';
    this.button.setAttribute('aria-label', 'Ask by voice');
    this.button.innerHTML = MIC_SVG;
    const level = document.createElement('div');
    level.className = 'bivoice-level';
    this.bar = document.createElement('div');
    level.appendChild(this.bar);
    this.text = document.createElement('span');
    this.text.className = 'bivoice-toolbar-status';
    this.node.append(this.button, level, this.text);

    // Click toggles; a long press is hold-to-talk (pointer down starts, pointer up stops).
    this.button.addEventListener('pointerdown', e => {
      if (e.button === 0) {
        this.controller.press(this.panel);
      }
    });
    const release = () => this.controller.release();
    this.button.addEventListener('pointerup', release);
    this.button.addEventListener('pointerleave', release);
    this.button.addEventListener('click', e => {
      if (e.detail === 0) {
        this.controller.toggle(this.panel); // Enter or Space on the focused button
      }
    });
    controller.stateChanged.connect(this.update, this);
    this.update();
  }

  dispose(): void {
    this.controller.stateChanged.disconnect(this.update, this);
    super.dispose();
  }

  update(): void {
    const mine = this.controller.panel === this.panel;
    const status = mine ? this.controller.status : 'idle';
    this.node.dataset.status = status;
    this.button.classList.toggle('bivoice-recording', status === 'listening');
    this.bar.style.width = `${mine ? Math.round(this.controller.level * 100) : 0}%`;
    this.text.textContent = mine && status !== 'idle' && status !== 'error' ? this.controller.label : '';
    this.button.title =
      status === 'listening'
        ? 'Listening: click to stop (or let go when holding)'
        : status === 'error'
          ? `Ask by voice: ${this.controller.message}`
          : 'Ask by voice: click to record and again to stop, or hold to talk';
  }
}

export class VoiceStatus extends Widget {
  constructor(private controller: VoiceController) {
    super();
    this.addClass('bivoice-statusbar');
    controller.stateChanged.connect(this.update, this);
    this.update();
  }

  update(): void {
    const { status } = this.controller;
    this.node.dataset.status = status;
    this.node.textContent = status === 'idle' ? '' : `Voice: ${status === 'error' ? 'error' : this.controller.label}`;
    this.node.title = this.controller.status === 'error' ? this.controller.message : this.controller.label;
  }
}
