#!/usr/bin/env node
// Runs the compiled CLI (npm ci / npm run build produce dist/).
'use strict';
const path = require('node:path');
const fs = require('node:fs');
const cli = path.join(__dirname, '..', 'dist', 'src', 'cli.js');
if (!fs.existsSync(cli)) {
  process.stderr.write('histoscope: the TypeScript is not built yet; run `npm ci` or `npm run build` first.\n');
  process.exit(1);
}
require(cli).buildProgram().parseAsync(process.argv).catch((err) => {
  process.stderr.write(`histoscope: ${String(err && err.message).split('\n')[0]}\n`);
  process.exitCode = 1;
});
