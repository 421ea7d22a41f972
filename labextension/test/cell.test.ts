import { DEFAULT_SETTINGS, LOAD_EXTENSION, readSettings, voiceCellSource } from '../src/cell';

describe('the %%voice cell', () => {
  it('is the magic and the transcript, with no options by default', () => {
    expect(voiceCellSource('  what was the total revenue by region ', DEFAULT_SETTINGS)).toBe(
      '%%voice\nwhat was the total revenue by region'
    );
  });

  it('carries the row limit and planner from the settings', () => {
    const settings = readSettings({ limit: 100, planner: 'auto', speechModel: 'small.en' });
    expect(voiceCellSource('top 5 products', settings)).toBe('%%voice --limit 100 --planner auto\ntop 5 products');
  });

  it('keeps the question on one line', () => {
    expect(voiceCellSource('total\nrevenue\t by  region', DEFAULT_SETTINGS)).toBe('%%voice\ntotal revenue by region');
  });

  it('refuses an empty transcript', () => {
    expect(() => voiceCellSource('  \n ', DEFAULT_SETTINGS)).toThrow('no transcript');
  });

  it('loads the IPython extension with the documented line', () => {
    expect(LOAD_EXTENSION).toBe('%load_ext bivoice_jupyter');
  });
});

describe('settings', () => {
  it('fall back to the defaults for missing or bad values', () => {
    expect(readSettings(undefined)).toEqual(DEFAULT_SETTINGS);
    expect(readSettings({ limit: -3, planner: 'magic', maxSeconds: 'x', speechModel: 7 })).toEqual(DEFAULT_SETTINGS);
    expect(readSettings({ limit: 2.5 }).limit).toBe(0);
  });

  it('cap a recording at 120 seconds', () => {
    expect(readSettings({ maxSeconds: 600 }).maxSeconds).toBe(120);
    expect(readSettings({ maxSeconds: 5 }).maxSeconds).toBe(5);
  });
});
