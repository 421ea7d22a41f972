// Unit tests of the extension's pure parts (no JupyterLab needed): message shapes, the %%voice
// cell, click-or-hold, the microphone's error messages. The whole extension runs in a real
// browser in tests/test_labextension.py.
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }] }
};
