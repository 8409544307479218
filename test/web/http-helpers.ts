// Shared pieces of the web tests: an app listening on an ephemeral port, multipart bodies built
// by hand (no extra packages), and a PNG header declaring any size with a correct CRC.
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { deflateSync } from 'node:zlib';

import { createApp } from '../../src/web/app';
import { createHttpServer } from '../../src/web/http-server';
import type { WebOptions } from '../../src/web/web-options';

export interface Running {
  url: string;
  close: () => Promise<void>;
}

export async function listen(options: Partial<WebOptions>): Promise<Running> {
  const app = createApp({ log: () => undefined, ...options });
  const server = createHttpServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

export function multipart(parts: { name: string; value?: string; file?: { name: string; type: string; data: Buffer } }[]): { body: Buffer; type: string } {
  const boundary = `----histoscope${Math.random().toString(16).slice(2)}`;
  const chunks: Buffer[] = [];
  for (const p of parts) {
    chunks.push(Buffer.from(`--${boundary}\r\n`));
    if (p.file) {
      chunks.push(Buffer.from(`Content-Disposition: form-data; name="${p.name}"; filename="${p.file.name}"\r\nContent-Type: ${p.file.type}\r\n\r\n`));
      chunks.push(p.file.data);
    } else {
      chunks.push(Buffer.from(`Content-Disposition: form-data; name="${p.name}"\r\n\r\n${p.value ?? ''}`));
    }
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), type: `multipart/form-data; boundary=${boundary}` };
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

export function crc32(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const typed = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typed));
  return Buffer.concat([length, typed, crc]);
}

/** A valid-looking RGB PNG declaring width×height, with a little IDAT: a decompression bomb's header. */
export function pngDeclaring(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit, truecolour, deflate, no filter, no interlace
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.alloc(1024))), chunk('IEND', Buffer.alloc(0))]);
}

export async function postImage(url: string, body: Buffer, type: string): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(url, { method: 'POST', body, headers: { 'content-type': type } });
  const text = await res.text();
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = { raw: text };
  }
  return { status: res.status, json, headers: res.headers };
}

export interface RawExchange {
  /** Everything the server sent, as latin1 text. */
  reply: string;
  /** A socket error the client saw (EPIPE, ECONNRESET) or 'timeout'; undefined when it closed cleanly. */
  error?: string;
}

/**
 * One request over a raw socket, as curl sends it: the head, then the body. With
 * `Expect: 100-continue` in the head the body is sent only after "100 Continue" (and not at all
 * when a final answer comes first). Once the answer is complete and the body sent (or never to be
 * sent), the client closes; resolves when the connection is closed, or after `timeoutMs`.
 */
export function rawExchange(url: string, head: string, body: Buffer = Buffer.alloc(0), timeoutMs = 10_000): Promise<RawExchange> {
  const { port, hostname } = new URL(url);
  const expectContinue = /^expect:\s*100-continue/im.test(head);
  return new Promise((resolve) => {
    let reply = '';
    let error: string | undefined;
    let sent = false;
    let written = false;
    const socket = net.connect(Number(port), hostname, () => {
      socket.write(head);
      if (!expectContinue) send();
    });
    const answered = (): boolean => {
      const end = reply.indexOf('\r\n\r\n');
      const length = /\r\ncontent-length: (\d+)/i.exec(reply)?.[1];
      return end >= 0 && !/^HTTP\/1\.1 100/.test(reply) && length !== undefined && reply.length >= end + 4 + Number(length);
    };
    const maybeClose = (): void => {
      if (answered() && (written || !sent)) socket.end();
    };
    const send = (): void => {
      if (sent) return;
      sent = true;
      socket.write(body, () => {
        written = true;
        maybeClose();
      });
    };
    socket.on('data', (d: Buffer) => {
      reply += d.toString('latin1');
      if (expectContinue && /^HTTP\/1\.1 100/.test(reply)) {
        reply = reply.replace(/^HTTP\/1\.1 100[^\r]*\r\n\r\n/, '');
        send();
      }
      maybeClose();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => { error = err.code ?? err.message; });
    const timer = setTimeout(() => { error = 'timeout'; socket.destroy(); }, timeoutMs);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ reply, error });
    });
  });
}

/** Starts an upload and stops sending after `first` bytes; the socket stays open until destroyed. */
export function stalledUpload(url: string, head: string, first: Buffer): Promise<net.Socket> {
  const { port, hostname } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => {
      socket.write(head);
      socket.write(first, () => resolve(socket));
    });
    socket.on('error', reject);
  });
}

export async function health(url: string): Promise<{ queue: Record<string, number>; uploads: { bytesInFlight: number; limit: number } }> {
  return (await (await fetch(`${url}/healthz`)).json()) as { queue: Record<string, number>; uploads: { bytesInFlight: number; limit: number } };
}

/** Polls `check` every 20 ms until it holds or `ms` pass (then one last check decides). */
export async function eventually(check: () => Promise<boolean>, ms = 3000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return check();
}
