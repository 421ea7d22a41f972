// Click or hold: a short press (under HOLD_MS) toggles recording; a longer one is hold-to-talk
// (letting go stops). The same rule as the microphone widget (bivoice_jupyter/widgets/microphone.js),
// for the toolbar button and the keyboard shortcut alike.

export const HOLD_MS = 350;

export type PressAction = 'start' | 'stop' | 'none';

export class PressTracker {
  // null: not pressed; 'stopping': this press stopped a recording (its release does nothing more);
  // a number: when this press started one (ms)
  private press: number | 'stopping' | null = null;

  // A press (pointer down, shortcut key down). `recording`: whether recording is on now.
  down(recording: boolean, now: number): PressAction {
    if (this.press !== null) {
      return 'none'; // key auto-repeat, or a second pointer: the press is already counted
    }
    if (recording) {
      this.press = 'stopping';
      return 'stop';
    }
    this.press = now;
    return 'start';
  }

  // The release of that press.
  up(now: number): PressAction {
    const at = this.press;
    this.press = null;
    return typeof at === 'number' && now - at >= HOLD_MS ? 'stop' : 'none';
  }

  get pressed(): boolean {
    return this.press !== null;
  }
}
