/**
 * `npm run test:hardware`: the hardware-in-the-loop suite (test-hardware/), kept out of
 * `npm test` (jest.config.js roots only test/). It needs SMETS1_TEST_PORT_A / _B (README
 * "Hardware set-up") and runs one file at a time: two serial ports are one resource.
 */
const base = require('./jest.config.js');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  roots: ['<rootDir>/test-hardware'],
  maxWorkers: 1,
  testTimeout: 300000,
};
