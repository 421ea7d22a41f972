import { HOLD_MS, PressTracker } from '../src/press';

describe('click or hold', () => {
  it('a click starts, and the next click stops', () => {
    const p = new PressTracker();
    expect(p.down(false, 1000)).toBe('start');
    expect(p.up(1100)).toBe('none'); // a short press: keep recording
    expect(p.down(true, 5000)).toBe('stop');
    expect(p.up(5050)).toBe('none');
    expect(p.pressed).toBe(false);
  });

  it('a long press is hold-to-talk: letting go stops', () => {
    const p = new PressTracker();
    expect(p.down(false, 1000)).toBe('start');
    expect(p.up(1000 + HOLD_MS)).toBe('stop');
  });

  it('ignores key auto-repeat while the shortcut is held', () => {
    const p = new PressTracker();
    expect(p.down(false, 0)).toBe('start');
    expect(p.down(true, 30)).toBe('none');
    expect(p.down(true, 60)).toBe('none');
    expect(p.up(2000)).toBe('stop');
  });

  it('a release without a press does nothing', () => {
    expect(new PressTracker().up(10_000)).toBe('none');
  });
});
