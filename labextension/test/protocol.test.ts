import { COMM_TARGET, STATUS_LABELS, audioMessage, kernelProblem, parseReply } from '../src/protocol';

describe('messages to the kernel', () => {
  it('has the microphone widget shape, with the model only when one is chosen', () => {
    expect(audioMessage('audio/webm;codecs=opus', 61234)).toEqual({
      type: 'audio',
      mime: 'audio/webm;codecs=opus',
      size: 61234
    });
    expect(audioMessage('audio/ogg', 10, '  small.en ')).toEqual({ type: 'audio', mime: 'audio/ogg', size: 10, model: 'small.en' });
    expect(audioMessage('audio/ogg', 10, '   ')).not.toHaveProperty('model');
  });

  it('goes to the bivoice comm target the IPython extension registers', () => {
    expect(COMM_TARGET).toBe('bivoice');
  });
});

describe('replies from the kernel', () => {
  it.each([
    [{ type: 'ready', version: '0.1.0' }, { type: 'ready', version: '0.1.0' }],
    [{ type: 'status', status: 'transcribing' }, { type: 'status', status: 'transcribing' }],
    [
      { type: 'transcript', text: 'total revenue by region', language: 'en', duration_s: 3.1, seconds: 0.9 },
      { type: 'transcript', text: 'total revenue by region', language: 'en', duration_s: 3.1, seconds: 0.9 }
    ],
    [{ type: 'error', message: 'I heard nothing.' }, { type: 'error', message: 'I heard nothing.' }]
  ])('reads %j', (data, reply) => {
    expect(parseReply(data)).toEqual(reply);
  });

  it.each([null, 'text', { type: 'status', status: 'dancing' }, { type: 'transcript' }, { type: 'level', value: 3 }])(
    'turns %j into an error that says what came and what to do',
    data => {
      const reply = parseReply(data);
      expect(reply.type).toBe('error');
      expect(reply.type === 'error' && reply.message).toMatch(/does not understand.*same version/);
    }
  );

  it('labels every status the indicator shows', () => {
    for (const s of ['listening', 'transcribing', 'planning', 'querying'] as const) {
      expect(STATUS_LABELS[s]).toMatch(/\u2026$/);
    }
  });
});

describe('kernel language', () => {
  it('accepts Python', () => {
    expect(kernelProblem('python')).toBe('');
    expect(kernelProblem('Python')).toBe('');
  });

  it('says so when the kernel is not Python', () => {
    expect(kernelProblem('R')).toMatch(/runs R, not Python.*Change Kernel/);
    expect(kernelProblem(undefined)).toMatch(/needs a Python kernel/);
  });
});
