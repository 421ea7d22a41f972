// The %%voice cell the extension writes below the active cell, from the transcript and the
// settings (Settings Editor: "Voice (bivoice-jupyter)").

export const PLANNERS = ['', 'offline', 'llm', 'auto'] as const;
export type Planner = (typeof PLANNERS)[number];

export interface ISettings {
  speechModel: string; // '' = the kernel's ($BIVOICE_SPEECH_MODEL, else tiny.en)
  limit: number; // rows; 0 = the magic's default (%config VoiceMagics.limit)
  planner: Planner; // '' = the magic's default (%config VoiceMagics.planner)
  maxSeconds: number; // seconds: recording stops by itself after this
}

export const DEFAULT_SETTINGS: ISettings = {
  speechModel: '',
  limit: 0,
  planner: '',
  maxSeconds: 30
};

// Settings as JupyterLab's registry gives them (composite, possibly partial) -> ISettings.
export function readSettings(raw: Record<string, unknown> | null | undefined): ISettings {
  const r = raw ?? {};
  const limit = Number(r.limit);
  const maxSeconds = Number(r.maxSeconds);
  const planner = String(r.planner ?? '') as Planner;
  return {
    speechModel: typeof r.speechModel === 'string' ? r.speechModel.trim() : '',
    limit: Number.isInteger(limit) && limit > 0 ? limit : 0,
    planner: PLANNERS.includes(planner) ? planner : '',
    maxSeconds: Number.isFinite(maxSeconds) && maxSeconds > 0 ? Math.min(maxSeconds, 120) : DEFAULT_SETTINGS.maxSeconds
  };
}

// The cell: the magic line with the options that differ from the magic's defaults, then the
// transcript on one line (the magic reads the cell body as the question, without expansion).
export function voiceCellSource(transcript: string, settings: ISettings): string {
  const words = transcript.replace(/\s+/g, ' ').trim();
  if (!words) {
    throw new Error('There is no transcript to ask.');
  }
  const options: string[] = [];
  if (settings.limit > 0) {
    options.push(`--limit ${settings.limit}`);
  }
  if (settings.planner) {
    options.push(`--planner ${settings.planner}`);
  }
  return [['%%voice', ...options].join(' '), words].join('\n');
}

export const LOAD_EXTENSION = '%load_ext bivoice_jupyter';
