// A hostile-input corpus for `histoscope predict`, generated here: broken, mistyped, oversized and
// lying files, special files (a named pipe, a socket, a device), symbolic links and bash's
// process substitution. The CLI takes what the web API takes and nothing else: every refusal is a
// row with a sentence (no stack, no hang), the other inputs are still predicted, and the exit code
// says some inputs failed.
import { expect } from 'chai';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import sharp from 'sharp';

import { PREDICT_SOME_FAILED, registerInferCommands } from '../../src/cli/infer-commands';
import { expandInputs, ModelRegistry, predictFiles, type PredictionRow } from '../../src/infer';
import { readInputFile } from '../../src/infer/expand-inputs';
import { screenshotPng } from '../helpers/ood-images';
import { runCommands } from '../helpers/run-cli';
import { pngDeclaring } from '../web/http-helpers';
import { breakhisName, installModel, tissuePng, tmpDir } from './model-fixture';

const REPO = path.resolve(__dirname, '..', '..');

describe('hostile inputs: histoscope predict', () => {
  let modelsDir: string;
  let dir: string;
  let registry: ModelRegistry;
  let socketServer: net.Server;
  const at = (name: string): string => path.join(dir, name);

  before(async function () {
    if (process.platform !== 'linux') {
      process.stderr.write(`      (skipped: the CLI hostile-input corpus uses FIFOs, sockets and bash process substitution as Linux has them; this is ${process.platform})\n`);
      this.skip();
    }
    modelsDir = tmpDir('hostile-cli-models');
    await installModel(modelsDir, '100X');
    registry = new ModelRegistry({ modelsDir });
    dir = tmpDir('hostile-cli');
    const good = await tissuePng(70, 46, 4);
    fs.writeFileSync(at('good.png'), good);
    fs.writeFileSync(at('good.jpg'), await sharp(good).jpeg().toBuffer());
    fs.writeFileSync(at('gif.png'), Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;', 'latin1'));
    fs.writeFileSync(at('script.png'), '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');
    fs.writeFileSync(at('notes.png'), 'these are notes, not a picture\n');
    fs.writeFileSync(at('empty.png'), '');
    fs.writeFileSync(at('cut.png'), good.subarray(0, 80));
    fs.writeFileSync(at('bomb.png'), pngDeclaring(50000, 50000));
    fs.writeFileSync(at('bitmap.jpg'), Buffer.concat([Buffer.from('BM'), Buffer.alloc(60)]));
    fs.writeFileSync(at('scan.tif'), Buffer.from([0x49, 0x49, 0x2a, 0, 8, 0, 0, 0, 0, 0]));
    fs.closeSync(fs.openSync(at('huge.png'), 'w'));
    fs.truncateSync(at('huge.png'), 21 * 1024 * 1024); // sparse: refused from its size, never read
    execFileSync('mkfifo', [at('pipe.png')]);
    socketServer = net.createServer();
    await new Promise<void>((resolve) => socketServer.listen(at('sock.png'), resolve));
    // A folder with a symlinked image, a broken link and a link back up the tree.
    fs.mkdirSync(at('linked'));
    fs.symlinkSync(at('good.png'), at('linked/via-link.png'));
    fs.symlinkSync(at('gone.png'), at('linked/broken.png'));
    fs.symlinkSync(at('linked'), at('linked/loop'));
  });
  after(async () => {
    registry?.dispose();
    await new Promise((resolve) => socketServer?.close(resolve));
  });

  const rowsByName = (rows: PredictionRow[]): Map<string, PredictionRow> => new Map(rows.map((r) => [path.basename(r.path), r]));

  it('refuses, file by file, what the web API refuses, with a sentence and without hanging', async function () {
    this.timeout(30_000);
    const names = ['good.png', 'good.jpg', 'gif.png', 'script.png', 'notes.png', 'empty.png', 'cut.png', 'bomb.png', 'bitmap.jpg', 'scan.tif',
      'huge.png', 'pipe.png', 'sock.png'];
    const started = Date.now();
    const result = await predictFiles({ inputs: [...names.map(at), '/dev/null'], registry, magnification: '100X', decodeCache: 'off' });
    expect(Date.now() - started, 'a named pipe must not be waited on').to.be.below(15_000);
    const rows = rowsByName(result.rows);
    const expected: Record<string, RegExp> = {
      'gif.png': /is not an image this program accepts: it is a GIF image, judged by its content, not its name\. Only PNG and JPEG/,
      'script.png': /it is an SVG drawing/,
      'notes.png': /it is a text file/,
      'empty.png': /is empty \(0 bytes\)/,
      'cut.png': /cut\.png/,
      'bomb.png': /50000 × 50000 pixels \(2500 megapixels\), above the limit of 40 megapixels/,
      'bitmap.jpg': /it is a BMP image/,
      'scan.tif': /it is a TIFF image/,
      'huge.png': /is 21 MB, above the limit of 20 MB/,
      'pipe.png': /is a named pipe \(FIFO\), not an image file; it was not opened/,
      'sock.png': /is a socket, not an image file/,
      null: /\/dev\/null is a device, not an image file/,
    };
    for (const [name, message] of Object.entries(expected)) {
      const row = rows.get(name)!;
      expect(row, name).to.not.equal(undefined);
      expect(row.error, name).to.match(message).and.match(/\.$/);
      expect(row.error, name).not.to.match(/\bat \w+ \(|Error:|node_modules/);
      expect(row.probabilityMalignant, name).to.equal(null);
    }
    for (const name of ['good.png', 'good.jpg']) expect(rows.get(name)!.error, name).to.equal('');
    expect(result.summary).to.include({ files: 14, predicted: 2, errors: 12 });
  });

  it('follows symbolic links in folders, reports broken ones, and walks a link loop once', async () => {
    const walked = await expandInputs([at('linked')]);
    expect(walked.files.map((f) => path.relative(dir, f))).to.deep.equal(['linked/via-link.png']);
    expect(walked.unmatched.map((u) => u.reason)).to.deep.equal([`The file ${at('linked/broken.png')} is a symbolic link to ${at('gone.png')}, which does not exist.`]);
    const result = await predictFiles({ inputs: [at('linked')], registry, magnification: '100X', decodeCache: 'off' });
    expect(result.rows.map((r) => [path.basename(r.path), r.error === ''])).to.deep.equal([['broken.png', false], ['via-link.png', true]]);
  });

  it('reads an open pipe (what bash passes for <(cat img.png)) as a stream, and gives up on a silent one', async () => {
    // An inherited pipe descriptor, as bash passes /dev/fd/63: here the read end of a FIFO opened by hand.
    const fifo = at('inherited.fifo');
    execFileSync('mkfifo', [fifo]);
    const png = fs.readFileSync(at('good.png'));
    const readEnd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    const writeEnd = fs.openSync(fifo, fs.constants.O_WRONLY);
    fs.writeSync(writeEnd, png);
    fs.closeSync(writeEnd);
    expect((await readInputFile(`/dev/fd/${readEnd}`)).equals(png)).to.equal(true);
    // A writer that never writes: refused after the silence bound, not waited on forever.
    const silentRead = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    const silentWrite = fs.openSync(fifo, fs.constants.O_WRONLY);
    try {
      const started = Date.now();
      const err = await readInputFile(`/proc/self/fd/${silentRead}`, { streamTimeoutMs: 300 }).then(() => undefined, (e: Error) => e);
      expect(err?.message).to.match(/^Nothing more arrived from \/proc\/self\/fd\/\d+ for 0\.3 s; it was given up\.$/);
      expect(Date.now() - started).to.be.below(3000);
    } finally {
      fs.closeSync(silentWrite);
    }
  });

  it('exits 0 when every input is predicted and 3 when some failed, writing every row', async () => {
    const run = (...args: string[]): ReturnType<typeof runCommands> => runCommands([registerInferCommands], 'predict', '--models', modelsDir, '--mag', '100X', ...args);
    const ok = await run(at('good.png'));
    expect(ok.code, ok.err).to.equal(0);
    const out = path.join(dir, 'mixed.csv');
    const mixed = await run(at('good.png'), at('gif.png'), at('pipe.png'), '--out', out);
    expect(mixed.code).to.equal(PREDICT_SOME_FAILED).and.equal(3);
    expect(mixed.err).to.match(/1 of 3 images predicted \(2 errors\)/);
    expect(fs.readFileSync(out, 'utf8').trim().split('\n')).to.have.length(4);
  });

  it('prints out-of-distribution warnings on stderr and in the CSV, and takes --method for --gradcam', async () => {
    fs.writeFileSync(path.join(dir, 'screen.png'), await screenshotPng());
    const cams = path.join(dir, 'cams-pp');
    const r = await runCommands([registerInferCommands], 'predict', '--models', modelsDir, '--mag', '100X', at('screen.png'),
      '--gradcam', cams, '--method', 'gradcam++');
    expect(r.code, r.err).to.equal(0);
    expect(r.err).to.match(/1 image may not be like the training images \(column ood_warnings\):\n {2}.*screen\.png: The image is 1280×1150 pixels/);
    const [header, row] = r.out.trim().split('\n');
    expect(header).to.match(/,ood_warnings,ood_messages,gradcam_method,precision$/);
    expect(row).to.match(/,size;not-he;uniform,.*,gradcam\+\+,fp32$/);
    const bad = await runCommands([registerInferCommands], 'predict', '--models', modelsDir, '--mag', '100X', at('screen.png'), '--method', 'cam');
    expect(bad.code).to.equal(1);
    expect(bad.err).to.match(/--method expects gradcam or gradcam\+\+, got "cam"/);
  });

  it('runs in the precision --precision asks for, and says so in the rows, on stderr and for a bad value', async () => {
    const r = await runCommands([registerInferCommands], 'predict', '--models', modelsDir, '--mag', '100X', at('screen.png'), '--precision', 'bf16');
    expect(r.code, r.err).to.equal(0);
    expect(r.err).to.match(/NOTE: computed in bf16 \(column precision\)/);
    const [, row] = r.out.trim().split('\n');
    expect(row).to.match(/Computed in bf16; this model's card metrics were measured in fp32\./);
    expect(row.endsWith(',bf16')).to.equal(true);
    const bad = await runCommands([registerInferCommands], 'predict', '--models', modelsDir, '--mag', '100X', at('screen.png'), '--precision', 'fp16');
    expect(bad.code).to.equal(1);
    expect(bad.err).to.match(/Expected one of 'fp32', 'bf16' for --precision but received 'fp16'/);
  });

  it('takes bash process substitution end to end: histoscope predict <(cat img.png)', async function () {
    this.timeout(90_000);
    const out = path.join(dir, 'substituted.csv');
    const cli = path.join(REPO, 'src', 'cli.ts');
    const script = `exec node --import tsx ${JSON.stringify(cli)} predict --models ${JSON.stringify(modelsDir)} --mag 100X ` +
      `<(cat ${JSON.stringify(at('good.png'))}) ${JSON.stringify(at(breakhisName('100X')))} --out ${JSON.stringify(out)}`;
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn('bash', ['-c', script], { cwd: REPO, stdio: 'ignore' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 80_000);
      child.on('exit', (c) => { clearTimeout(timer); resolve(c); });
    });
    expect(code).to.equal(PREDICT_SOME_FAILED); // the second input does not exist
    const rows = fs.readFileSync(out, 'utf8').trim().split('\n');
    expect(rows[1]).to.match(/^\/dev\/fd\/\d+,100X,0\.\d+,(benign|malignant),/);
    expect(rows[2]).to.match(/does not exist/);
  });
});
