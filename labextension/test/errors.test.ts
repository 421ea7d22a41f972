import { pickMime, refusalMessage, unavailableReason } from '../src/errors';

const page = (over: object) => ({
  isSecureContext: true,
  navigator: { mediaDevices: { getUserMedia: () => null } },
  MediaRecorder: function MediaRecorder() {},
  ...over
});

describe('why the microphone cannot be used', () => {
  it('needs a secure page', () => {
    expect(unavailableReason(page({ isSecureContext: false }))).toMatch(/secure page.*https.*127\.0\.0\.1/);
  });

  it('needs getUserMedia and MediaRecorder', () => {
    expect(unavailableReason(page({ navigator: {} }))).toMatch(/no navigator.mediaDevices/);
    expect(unavailableReason(page({ MediaRecorder: undefined }))).toMatch(/no MediaRecorder/);
    expect(unavailableReason(page({}))).toBe('');
  });

  it.each([
    ['NotAllowedError', /refused the microphone.*Allow it/],
    ['NotFoundError', /No microphone was found/],
    ['NotReadableError', /in use by another program/],
    ['AbortError', /could not be opened: AbortError: boom/]
  ])('explains %s', (name, message) => {
    expect(refusalMessage({ name, message: 'boom' })).toMatch(message);
  });
});

describe('recording format', () => {
  it('prefers webm/opus, as the kernel decodes it', () => {
    expect(pickMime(() => true)).toBe('audio/webm;codecs=opus');
    expect(pickMime(m => m === 'audio/mp4')).toBe('audio/mp4');
    expect(pickMime(() => false)).toBe('');
    expect(pickMime(undefined)).toBe('');
  });
});
