// A stand-in for download.pytorch.org on 127.0.0.1 for the weights tests: serves files under
// /models/ with Range support, and can misbehave on purpose (cut a body, ignore ranges, redirect).
// Also a minimal forward proxy (absolute-URI GETs and CONNECT tunnels) that records its use.
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface ServerBehaviour {
  /** Cut the connection after this many body bytes, on the next `cutTimes` (default 1) requests. */
  cutAfter?: number;
  cutTimes?: number;
  /** Answer 200 with the whole file even when asked for a range. */
  ignoreRange?: boolean;
  /** Send this many body bytes on the next request, then nothing more, leaving the connection open. */
  stallAfter?: number;
}

export interface RequestLog {
  path: string;
  range: string | undefined;
}

export interface FileServer {
  base: string;
  port: number;
  requests: RequestLog[];
  behaviour: ServerBehaviour;
  close(): Promise<void>;
}

function handler(files: Map<string, Buffer>, log: RequestLog[], behaviour: ServerBehaviour): http.RequestListener {
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    log.push({ path: url.pathname, range: req.headers.range });
    if (url.pathname.startsWith('/loop/')) {
      res.writeHead(302, { location: url.pathname }).end();
      return;
    }
    if (url.pathname.startsWith('/moved/')) {
      res.writeHead(302, { location: '/models/' + url.pathname.slice('/moved/'.length) }).end();
      return;
    }
    const body = files.get(url.pathname.replace(/^\/models\//, ''));
    if (!url.pathname.startsWith('/models/') || !body) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    let start = 0;
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (m && !behaviour.ignoreRange) {
      start = Number(m[1]);
      if (start >= body.length) {
        res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
        return;
      }
      res.writeHead(206, { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}`, 'content-length': body.length - start });
    } else {
      res.writeHead(200, { 'content-length': body.length, 'content-type': 'application/octet-stream' });
    }
    const rest = body.subarray(start);
    if (behaviour.stallAfter !== undefined) {
      res.write(rest.subarray(0, behaviour.stallAfter));
      behaviour.stallAfter = undefined;
      return;
    }
    if (behaviour.cutAfter !== undefined && (behaviour.cutTimes ?? 1) > 0) {
      behaviour.cutTimes = (behaviour.cutTimes ?? 1) - 1;
      res.write(rest.subarray(0, behaviour.cutAfter), () => res.socket?.destroy());
      return;
    }
    res.end(rest);
  };
}

async function listen(server: http.Server | https.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

function closer(server: http.Server | net.Server): () => Promise<void> {
  return () => new Promise((resolve) => {
    (server as http.Server).closeAllConnections?.();
    server.close(() => resolve());
  });
}

/** Serves `files` (name → bytes) under /models/ on 127.0.0.1; https when `tls` is given. */
export async function startFileServer(files: Record<string, Buffer>, tls?: { key: string; cert: string }): Promise<FileServer> {
  const requests: RequestLog[] = [];
  const behaviour: ServerBehaviour = {};
  const listener = handler(new Map(Object.entries(files)), requests, behaviour);
  const server = tls ? https.createServer(tls, listener) : http.createServer(listener);
  const port = await listen(server);
  return { base: `${tls ? 'https' : 'http'}://127.0.0.1:${port}/models/`, port, requests, behaviour, close: closer(server) };
}

export interface ProxyServer {
  url: string;
  /** `GET http://…` request targets and `CONNECT host:port` authorities, in order. */
  seen: string[];
  close(): Promise<void>;
}

/** A forward proxy on 127.0.0.1 that only relays to 127.0.0.1. */
export async function startProxy(): Promise<ProxyServer> {
  const seen: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const target = new URL(req.url ?? '');
    if (target.hostname !== '127.0.0.1') return void res.writeHead(403).end();
    const upstream = http.request({ hostname: '127.0.0.1', port: target.port, path: target.pathname, headers: { ...req.headers, host: target.host } }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    upstream.end();
  });
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    seen.push(`CONNECT ${req.url}`);
    const [host, port] = (req.url ?? '').split(':');
    if (host !== '127.0.0.1') return void client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
    const upstream = net.connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
  });
  const port = await listen(server);
  const close = closer(server);
  return { url: `http://127.0.0.1:${port}`, seen, close: () => { for (const s of sockets) s.destroy(); return close(); } };
}

/** A port on 127.0.0.1 with nothing listening (it was free a moment ago). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
