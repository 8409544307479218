// Downloading weights against a local server on 127.0.0.1: success, full-hash refusal, resume
// after a cut connection (in the same call and in the next), servers that ignore ranges or
// answer 416, redirects, 404, refused connections, proxies (absolute URIs and CONNECT).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect } from 'chai';
import { FetchWeightsError, fetchWeights, type WeightsEntry } from '../../src/weights';
import { tmpDir } from '../helpers/tmp-dir';
import { entryFor, servedBytes } from './fixture';
import { closedPort, type FileServer, startFileServer, startProxy } from './weights-server';

async function failure(p: Promise<unknown>): Promise<Error> {
  return p.then(() => expect.fail('expected a failure'), (e: Error) => e);
}

describe('weights fetch (local server)', function () {
  this.timeout(60_000);
  let data: Buffer;
  let entry: WeightsEntry;
  let server: FileServer;
  let env: NodeJS.ProcessEnv;
  let cache: string;

  before(async () => {
    data = servedBytes();
    entry = entryFor(data);
    server = await startFileServer({ [entry.file]: data });
  });
  after(() => server.close());
  beforeEach(() => {
    const root = tmpDir('fetch');
    cache = path.join(root, 'cache');
    // Explicit environment: no proxy of this machine, no real torch hub cache.
    env = { HISTOSCOPE_CACHE: cache, TORCH_HOME: path.join(root, 'torch'), HISTOSCOPE_WEIGHTS_MIRROR: server.base };
    server.requests.length = 0;
    Object.assign(server.behaviour, { cutAfter: undefined, cutTimes: undefined, ignoreRange: undefined, stallAfter: undefined });
  });

  const fetch = (extra: Partial<Parameters<typeof fetchWeights>[1]> = {}, catalogue = [entry]) =>
    fetchWeights(entry.id, { env, catalogue, idleTimeoutMs: 5000, ...extra });

  it('downloads into the cache under the torchvision name, verified on the whole sha256, with progress', async () => {
    const seen: number[] = [];
    const r = await fetch({ onProgress: (received) => seen.push(received) });
    expect(r).to.deep.include({ status: 'downloaded', file: path.join(cache, entry.file), sha256: entry.sha256, bytes: data.length, resumedFrom: 0 });
    expect(fs.readFileSync(r.file).equals(data)).to.equal(true);
    expect(fs.readdirSync(cache)).to.deep.equal([entry.file]);
    expect(seen.at(-1)).to.equal(data.length);
    // A second fetch finds it and downloads nothing.
    server.requests.length = 0;
    expect((await fetch()).status).to.equal('present');
    expect(server.requests).to.have.length(0);
  });

  it('refuses a file whose sha256 differs and leaves nothing in the cache', async () => {
    const wrong = { ...entry, sha256: entry.sha256.replace(/^./, (c) => (c === '0' ? '1' : '0')) };
    const err = await failure(fetch({}, [wrong]));
    expect(err).to.be.instanceOf(FetchWeightsError);
    expect(err.message).to.include(`expected ${wrong.sha256}`).and.include(entry.sha256).and.include('nothing was kept').and.include('To install it by hand');
    expect(fs.readdirSync(cache)).to.deep.equal([]);
  });

  it('resumes with a Range request when the server cuts the body', async () => {
    server.behaviour.cutAfter = 100_000;
    const notices: string[] = [];
    const r = await fetch({ onNotice: (m) => notices.push(m) });
    expect(r.status).to.equal('downloaded');
    expect(fs.readFileSync(r.file).equals(data)).to.equal(true);
    expect(server.requests.map((q) => q.range)).to.have.length(2);
    expect(server.requests[0].range).to.equal(undefined);
    const resumedAt = Number(/^bytes=(\d+)-$/.exec(server.requests[1].range ?? '')?.[1]);
    expect(resumedAt).to.be.greaterThan(0).and.at.most(100_000);
    expect(notices.join('\n')).to.match(/resuming/);
  });

  it('gives up on a stalled body after the idle timeout and resumes', async () => {
    server.behaviour.stallAfter = 30_000;
    const notices: string[] = [];
    const r = await fetch({ idleTimeoutMs: 300, onNotice: (m) => notices.push(m) });
    expect(fs.readFileSync(r.file).equals(data)).to.equal(true);
    expect(notices.join('\n')).to.match(/stopped after \d+ bytes \(no data for 0\.3 s\); resuming/);
    expect(server.requests[1].range).to.match(/^bytes=[1-9]\d*-$/);
  });

  it('stops on its signal (Ctrl-C) keeping what arrived, and the next fetch continues from there', async () => {
    server.behaviour.stallAfter = 30_000;
    const controller = new AbortController();
    const stop = setTimeout(() => controller.abort(), 300);
    const err = await failure(fetch({ signal: controller.signal }));
    clearTimeout(stop);
    expect(err.name).to.equal('AbortError');
    const part = path.join(cache, `${entry.file}.part`);
    expect(fs.statSync(part).size).to.equal(30_000);
    expect(fs.existsSync(path.join(cache, `.${entry.file}.lock`))).to.equal(false);
    const r = await fetch();
    expect(r.resumedFrom).to.equal(30_000);
    expect(fs.readFileSync(r.file).equals(data)).to.equal(true);
  });

  it('keeps a partial download when the server keeps failing, and the next fetch continues it', async () => {
    server.behaviour.cutAfter = 50_000;
    server.behaviour.cutTimes = 2;
    const err = await failure(fetch({ maxAttempts: 2 }));
    expect(err.message).to.match(/bytes received are kept in .*\.part/);
    const part = path.join(cache, `${entry.file}.part`);
    const kept = fs.statSync(part).size;
    expect(kept).to.be.greaterThan(0).and.lessThan(data.length);
    expect(fs.existsSync(path.join(cache, entry.file))).to.equal(false);
    server.requests.length = 0;
    const r = await fetch();
    expect(r.resumedFrom).to.equal(kept);
    expect(server.requests.map((q) => q.range)).to.deep.equal([`bytes=${kept}-`]);
    expect(fs.readFileSync(r.file).equals(data)).to.equal(true);
    expect(fs.existsSync(part)).to.equal(false);
  });

  it('starts over when the server ignores the range (200), and takes a complete part on 416', async () => {
    const part = path.join(cache, `${entry.file}.part`);
    fs.mkdirSync(cache, { recursive: true });
    fs.writeFileSync(part, Buffer.alloc(1000, 7));
    server.behaviour.ignoreRange = true;
    const notices: string[] = [];
    expect((await fetch({ onNotice: (m) => notices.push(m) })).status).to.equal('downloaded');
    expect(notices.join('\n')).to.match(/ignored the Range request/);
    expect(fs.readFileSync(path.join(cache, entry.file)).equals(data)).to.equal(true);

    fs.rmSync(path.join(cache, entry.file));
    fs.writeFileSync(part, data);
    server.behaviour.ignoreRange = false;
    server.requests.length = 0;
    const r = await fetch();
    expect(r.status).to.equal('downloaded');
    expect(server.requests.map((q) => q.range)).to.deep.equal([`bytes=${data.length}-`]);
    expect(fs.readFileSync(r.file).equals(data)).to.equal(true);
  });

  it('downloads again from the start once when a resumed file fails the hash', async () => {
    const part = path.join(cache, `${entry.file}.part`);
    fs.mkdirSync(cache, { recursive: true });
    fs.writeFileSync(part, Buffer.alloc(5000, 1));
    const r = await fetch();
    expect(server.requests.map((q) => q.range)).to.deep.equal(['bytes=5000-', undefined]);
    expect(fs.readFileSync(r.file).equals(data)).to.equal(true);
  });

  it('follows redirects, a bounded number of times', async () => {
    const moved = `${server.base.replace(/models\/$/, 'moved/')}`;
    const r = await fetch({ env: { ...env, HISTOSCOPE_WEIGHTS_MIRROR: moved } });
    expect(r.url).to.equal(server.base + entry.file);
    fs.rmSync(r.file);
    const loop = server.base.replace(/models\/$/, 'loop/');
    const err = await failure(fetch({ env: { ...env, HISTOSCOPE_WEIGHTS_MIRROR: loop } }));
    expect(err.message).to.match(/more than 5 redirects/);
  });

  it('404 and a refused connection say what happened and how to install the file by hand', async () => {
    const missing = await failure(fetch({}, [{ ...entry, file: 'resnet50-absent.pth' }]));
    expect(missing.message).to.match(/HTTP 404 Not Found from http:\/\/127\.0\.0\.1:\d+\/models\/resnet50-absent\.pth/);
    const port = await closedPort();
    const refused = await failure(fetch({ env: { ...env, HISTOSCOPE_WEIGHTS_MIRROR: `http://127.0.0.1:${port}/models/` } }));
    expect(refused).to.be.instanceOf(FetchWeightsError);
    expect(refused.message).to.include(`connection refused by 127.0.0.1:${port}`);
    // The manual steps name torchvision's URL (not the mirror), the cache path and the full hash.
    expect(refused.message).to.include(`https://download.pytorch.org/models/${entry.file}`)
      .and.include(path.join(cache, entry.file)).and.include(entry.sha256).and.include('HTTPS_PROXY');
    expect(fs.readdirSync(cache)).to.deep.equal([]);
  });

  it('refuses to run beside another live download of the same file', async () => {
    fs.mkdirSync(cache, { recursive: true });
    fs.writeFileSync(path.join(cache, `.${entry.file}.lock`), String(process.pid));
    expect((await failure(fetch())).message).to.match(/Another Histoscope process \(pid \d+\) is downloading/);
    // A lock left by a process that is gone is taken over.
    fs.writeFileSync(path.join(cache, `.${entry.file}.lock`), '999999999');
    expect((await fetch()).status).to.equal('downloaded');
    expect(fs.readdirSync(cache)).to.deep.equal([entry.file]);
  });

  it('uses a verified copy in torch hub\'s cache without downloading, and replaces a damaged one in ours', async () => {
    const hub = path.join(env.TORCH_HOME!, 'hub', 'checkpoints');
    fs.mkdirSync(hub, { recursive: true });
    fs.writeFileSync(path.join(hub, entry.file), data);
    const r = await fetch();
    expect(r).to.deep.include({ status: 'present', file: path.join(hub, entry.file) });
    expect(server.requests).to.have.length(0);
    fs.rmSync(path.join(hub, entry.file));
    fs.mkdirSync(cache, { recursive: true });
    fs.writeFileSync(path.join(cache, entry.file), 'damaged');
    const notices: string[] = [];
    expect((await fetch({ onNotice: (m) => notices.push(m) })).status).to.equal('downloaded');
    expect(notices.join('\n')).to.match(/not torchvision's file/);
    expect(fs.readFileSync(path.join(cache, entry.file)).equals(data)).to.equal(true);
  });

  it('goes through HTTP_PROXY with an absolute URI, and not for NO_PROXY hosts', async () => {
    const proxy = await startProxy();
    try {
      const r = await fetch({ env: { ...env, HTTP_PROXY: proxy.url } });
      expect(r.status).to.equal('downloaded');
      expect(proxy.seen).to.deep.equal([`GET ${server.base}${entry.file}`]);
      fs.rmSync(r.file);
      proxy.seen.length = 0;
      expect((await fetch({ env: { ...env, http_proxy: proxy.url, NO_PROXY: 'localhost,127.0.0.1' } })).status).to.equal('downloaded');
      expect(proxy.seen).to.deep.equal([]);
    } finally {
      await proxy.close();
    }
  });

  it('tunnels https through HTTPS_PROXY with CONNECT (TLS checked against the server\'s certificate)', async function () {
    const dir = tmpDir('tls');
    const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'),
      '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { encoding: 'utf8' });
    if (made.error || made.status !== 0) {
      console.log('      skipped: the https proxy test needs openssl to make a certificate');
      return this.skip();
    }
    const tls = { key: fs.readFileSync(path.join(dir, 'key.pem'), 'utf8'), cert: fs.readFileSync(path.join(dir, 'cert.pem'), 'utf8') };
    const secure = await startFileServer({ [entry.file]: data }, tls);
    const proxy = await startProxy();
    try {
      const viaProxy = { ...env, HISTOSCOPE_WEIGHTS_MIRROR: secure.base, HTTPS_PROXY: proxy.url };
      // Without trusting the certificate the download is refused: TLS is checked end to end.
      const untrusted = await failure(fetch({ env: viaProxy }));
      expect(untrusted.message).to.match(/TLS certificate of 127\.0\.0\.1:\d+ was not accepted/);
      const r = await fetch({ env: viaProxy, ca: tls.cert });
      expect(r.status).to.equal('downloaded');
      expect(fs.readFileSync(r.file).equals(data)).to.equal(true);
      expect(proxy.seen).to.deep.equal([`CONNECT 127.0.0.1:${secure.port}`, `CONNECT 127.0.0.1:${secure.port}`]);
      // And directly, without a proxy.
      fs.rmSync(r.file);
      expect((await fetch({ env: { ...viaProxy, HTTPS_PROXY: undefined }, ca: tls.cert })).status).to.equal('downloaded');
      expect(proxy.seen).to.have.length(2);
    } finally {
      await proxy.close();
      await secure.close();
    }
  });
});
