// bivoice-jupyter's JupyterLab extension: ask by voice from the notebook toolbar, the command
// palette ("Ask by voice") or a shortcut held to talk (Alt V by default); see ../README.md.

import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { DocumentRegistry } from '@jupyterlab/docregistry';
import { INotebookModel, INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStatusBar } from '@jupyterlab/statusbar';
import { DisposableDelegate, IDisposable } from '@lumino/disposable';
import { DEFAULT_SETTINGS, ISettings, readSettings } from './cell';
import { VoiceController } from './controller';
import { MicButton, VoiceStatus } from './widgets';

export const PLUGIN_ID = 'bivoice-jupyter:plugin';
export const COMMAND = 'bivoice:ask-by-voice';

class ButtonExtension implements DocumentRegistry.IWidgetExtension<NotebookPanel, INotebookModel> {
  constructor(private controller: VoiceController) {}

  createNew(panel: NotebookPanel): IDisposable {
    const button = new MicButton(this.controller, panel);
    panel.toolbar.insertAfter('cellType', 'bivoice-mic', button) || panel.toolbar.addItem('bivoice-mic', button);
    return new DisposableDelegate(() => button.dispose());
  }
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'Ask by voice from the notebook toolbar',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [ICommandPalette, ISettingRegistry, IStatusBar],
  activate: (
    app: JupyterFrontEnd,
    tracker: INotebookTracker,
    palette: ICommandPalette | null,
    registry: ISettingRegistry | null,
    statusBar: IStatusBar | null
  ) => {
    let settings: ISettings = { ...DEFAULT_SETTINGS };
    const controller = new VoiceController(() => settings);
    if (registry) {
      registry
        .load(PLUGIN_ID)
        .then(loaded => {
          const read = () => {
            settings = readSettings(loaded.composite as Record<string, unknown>);
          };
          read();
          loaded.changed.connect(read);
        })
        .catch(err => console.error('bivoice-jupyter: the settings did not load', err));
    }

    app.commands.addCommand(COMMAND, {
      label: 'Ask by voice',
      caption: 'Record a question; its %%voice cell and answer appear below the active cell',
      isEnabled: () => tracker.currentWidget !== null,
      execute: args => {
        const panel = tracker.currentWidget;
        if (!panel) {
          return;
        }
        if (!args.hold) {
          controller.toggle(panel); // the palette: run it again (or click the button) to stop
          return;
        }
        // The shortcut: held down, it records until a key of it is let go; tapped, it toggles.
        if (controller.press(panel) !== 'none') {
          const up = () => {
            window.removeEventListener('keyup', up, true);
            controller.release();
          };
          window.addEventListener('keyup', up, true);
        }
      }
    });
    palette?.addItem({ command: COMMAND, category: 'Notebook Operations' });
    app.docRegistry.addWidgetExtension('Notebook', new ButtonExtension(controller));
    statusBar?.registerStatusItem('bivoice-jupyter:status', {
      item: new VoiceStatus(controller),
      align: 'left',
      rank: 4,
      isActive: () => true
    });
  }
};

export default plugin;
