// One HTTP(S) GET, directly or through the proxy the environment names: an absolute-URI request
// to the proxy for http URLs, a CONNECT tunnel with TLS inside it for https ones (the proxy sees
// only the host name). Redirects are followed here, a bounded number of times.
import * as http from 'node:http';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { describeProxy, proxyAuthorization, proxyFor } from './proxy';

export interface GetOptions {
  headers?: Record<string, string>;
  env?: NodeJS.ProcessEnv;
  /** No byte for this long (connecting, or mid-body) ends the request. */
  idleTimeoutMs?: number;
  /** Redirects followed before giving up. */
  maxRedirects?: number;
  /** Certificates trusted besides Node's bundle (a lab's TLS-inspecting proxy; the tests' server). */
  ca?: string | Buffer;
  signal?: AbortSignal;
}

/** Why a request failed; `network` errors (not HTTP answers) are worth a retry once bytes flowed. */
export class HttpGetError extends Error {
  override name = 'HttpGetError';
  constructor(message: string, readonly network: boolean, readonly status?: number) {
    super(message);
  }
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

function bareHost(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '');
}

function portOf(url: URL): number {
  return Number(url.port || (url.protocol === 'https:' ? 443 : 80));
}

/** A sentence for a socket-level failure, naming where it happened. */
export function describeNetworkError(err: NodeJS.ErrnoException, url: URL, proxy: URL | null): string {
  const where = proxy ? `the proxy ${describeProxy(proxy)}` : `${url.host}`;
  switch (err.code) {
    case 'ECONNREFUSED': return `connection refused by ${where}`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN': return `cannot resolve ${proxy ? proxy.hostname : url.hostname} (offline, or DNS blocked)`;
    case 'ETIMEDOUT':
    case 'HISTOSCOPE_IDLE': return `no answer from ${where} for ${err.message}`;
    case 'ECONNRESET': return `the connection to ${where} was cut`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH': return `no route to ${where} (offline, or a firewall)`;
    case 'ABORT_ERR': return 'stopped';
    default:
      if (err.code && /CERT|SELF_SIGNED|TLS|SSL/i.test(err.code)) {
        return `the TLS certificate of ${url.host} was not accepted (${err.code}); a proxy that inspects https needs its certificate in NODE_EXTRA_CA_CERTS`;
      }
      return `${err.code ? err.code + ': ' : ''}${err.message}`;
  }
}

function idleError(ms: number): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`${ms / 1000} s`);
  err.code = 'HISTOSCOPE_IDLE';
  return err;
}

/** Opens a CONNECT tunnel through `proxy` to `target`'s host and port. */
function tunnel(proxy: URL, target: URL, o: GetOptions): Promise<net.Socket> {
  const authority = `${target.hostname}:${portOf(target)}`;
  const auth = proxyAuthorization(proxy);
  return new Promise((resolve, reject) => {
    const req = http.request({
      hostname: bareHost(proxy), port: portOf(proxy), method: 'CONNECT', path: authority, agent: false, signal: o.signal,
      headers: { host: authority, ...(auth ? { 'proxy-authorization': auth } : {}) },
    });
    req.setTimeout(o.idleTimeoutMs ?? 30_000, () => req.destroy(idleError(o.idleTimeoutMs ?? 30_000)));
    req.once('connect', (res, socket) => {
      req.setTimeout(0);
      if (res.statusCode === 200) return resolve(socket);
      socket.destroy();
      reject(new HttpGetError(`the proxy ${describeProxy(proxy)} refused the tunnel to ${authority}: HTTP ${res.statusCode} ${res.statusMessage ?? ''}`.trim(), false, res.statusCode));
    });
    req.once('error', (err: NodeJS.ErrnoException) => reject(o.signal?.aborted ? err : new HttpGetError(describeNetworkError(err, target, proxy), true)));
    req.end();
  });
}

/** One request, no redirects: resolves with the response head, the body still to read. */
async function getOnce(url: URL, o: GetOptions): Promise<http.IncomingMessage> {
  const proxy = proxyFor(url, o.env ?? process.env);
  const idle = o.idleTimeoutMs ?? 30_000;
  const headers: Record<string, string> = { 'user-agent': 'histoscope', accept: '*/*', ...o.headers };
  let options: http.RequestOptions;
  // A refused certificate can reach the request as a bare 'socket hang up'; the TLS error says why.
  let tlsError: NodeJS.ErrnoException | null = null;
  if (url.protocol === 'https:') {
    const socket = proxy ? await tunnel(proxy, url, o) : undefined;
    options = {
      // No agent: with one (even agent: false) Node opens its own plain socket and ignores createConnection.
      hostname: bareHost(url), port: portOf(url), path: url.pathname + url.search, headers,
      // Through a tunnel the TLS session runs inside the proxy's socket; the certificate is the origin's.
      createConnection: () => {
        const secure = tls.connect({ socket, host: bareHost(url), port: portOf(url), servername: net.isIP(bareHost(url)) ? undefined : bareHost(url), ca: o.ca });
        secure.once('error', (err) => { tlsError = err; });
        return secure;
      },
    };
  } else if (url.protocol === 'http:') {
    const auth = proxy ? proxyAuthorization(proxy) : undefined;
    options = proxy
      ? { hostname: bareHost(proxy), port: portOf(proxy), path: url.href, agent: false, headers: { ...headers, host: url.host, ...(auth ? { 'proxy-authorization': auth } : {}) } }
      : { hostname: bareHost(url), port: portOf(url), path: url.pathname + url.search, headers, agent: false };
  } else {
    throw new HttpGetError(`Expected an http:// or https:// URL but received ${url.href}`, false);
  }
  return new Promise((resolve, reject) => {
    const req = http.request({ ...options, signal: o.signal });
    let response: http.IncomingMessage | null = null;
    req.setTimeout(idle, () => {
      // Mid-body, the response carries the reason to whoever reads it (else it only says 'aborted').
      const err = idleError(idle);
      response?.destroy(err);
      req.destroy(err);
    });
    req.once('response', (res) => {
      response = res;
      res.once('error', () => undefined);
      resolve(res);
    });
    // Ctrl-C (the signal) stays an AbortError, which callers tell apart from a failed download.
    req.once('error', (err: NodeJS.ErrnoException) => reject(o.signal?.aborted ? err : new HttpGetError(describeNetworkError(tlsError ?? err, url, proxy), true)));
    req.end();
  });
}

export interface GetResult {
  response: http.IncomingMessage;
  /** The URL that answered, after redirects. */
  url: URL;
}

/** GET `url`, following up to `maxRedirects` (default 5) redirects; any status other than a redirect is returned. */
export async function httpGet(url: URL, o: GetOptions = {}): Promise<GetResult> {
  const max = o.maxRedirects ?? 5;
  let current = url;
  for (let hops = 0; ; hops++) {
    const response = await getOnce(current, o);
    const location = response.headers.location;
    if (!REDIRECTS.has(response.statusCode ?? 0) || !location) return { response, url: current };
    response.resume();
    if (hops >= max) throw new HttpGetError(`more than ${max} redirects from ${url.href} (last to ${location})`, false);
    current = new URL(location, current);
  }
}
