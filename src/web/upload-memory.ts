// Memory for the bytes of large uploads, mapped for each upload alone (a WebAssembly.Memory)
// rather than taken from the malloc heap. The native core tunes glibc for tensor reuse so that the
// heap never shrinks (M_TRIM_THRESHOLD 1 GiB, no mmap: native/core/runtime.cc); uploads held in
// that heap kept a burst's peak resident forever. Mapped memory returns to the OS as soon as V8
// collects its last view, and one collection is asked for once a burst is over.
import * as v8 from 'node:v8';
import { runInNewContext } from 'node:vm';

// Node has WebAssembly; this project's TypeScript libs do not declare it.
declare const WebAssembly: { Memory: new (descriptor: { initial: number }) => { buffer: ArrayBuffer } };

const PAGE = 65536;
/** Below this, the heap is fine (and faster). */
const MAPPED_FROM = 1024 * 1024;

export function uploadBuffer(bytes: number): Buffer {
  if (bytes < MAPPED_FROM) return Buffer.allocUnsafe(bytes);
  try {
    const memory = new WebAssembly.Memory({ initial: Math.ceil(bytes / PAGE) });
    return Buffer.from(memory.buffer, 0, bytes);
  } catch {
    return Buffer.allocUnsafe(bytes); // address space refused (ulimit -v): the heap still works
  }
}

/** Buffer.concat into an uploadBuffer. */
export function concatUpload(chunks: readonly Buffer[], total: number): Buffer {
  const out = uploadBuffer(total);
  let at = 0;
  for (const c of chunks) at += c.copy(out, at);
  return out;
}

let collector: (() => void) | null | undefined;

/** V8's full collection, exposed at run time; null where that is refused. */
function fullCollection(): (() => void) | null {
  if (collector === undefined) {
    try {
      v8.setFlagsFromString('--expose-gc');
      collector = runInNewContext('gc') as () => void;
    } catch {
      collector = null;
    }
  }
  return collector;
}

/**
 * After a burst, once no upload is in flight: nothing else would make V8 collect the last
 * uploads' buffers while the server is idle, so ask for one collection (a few ms) to unmap them.
 */
export function releaseAfterBurst(delayMs = 1000): NodeJS.Timeout {
  const timer = setTimeout(() => fullCollection()?.(), delayMs);
  timer.unref();
  return timer;
}
