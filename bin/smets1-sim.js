#!/usr/bin/env node
'use strict';
let cli;
try {
  cli = require('../dist/cli/main.js');
} catch (e) {
  if (e && e.code === 'MODULE_NOT_FOUND' && String(e.message).includes('dist/cli/main')) {
    console.error('smets1-sim: not built yet. Run `npm run build` (or `npm start`, which builds first).');
    process.exit(70);
  }
  throw e;
}
cli.main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(`smets1-sim: ${err && err.message ? err.message : err}`);
    process.exitCode = 70;
  },
);
