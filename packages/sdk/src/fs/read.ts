/**
 * Reading a file a user hands us (or stdin, `-`) without trusting its size:
 * in chunks, refused as soon as it passes the limit — a `/dev/zero` or a
 * runaway pipe costs at most `max` bytes of memory, not all of it.
 */
import { closeSync, openSync, readSync } from 'node:fs';

/** The bytes of `file` (`-`: stdin); an Error "larger than N MiB" once more than `max` bytes arrive. */
export function readFileBounded(file: string, max: number): Buffer {
  const fd = file === '-' ? 0 : openSync(file, 'r');
  try {
    const chunks: Buffer[] = [];
    let size = 0;
    for (;;) {
      const chunk = Buffer.alloc(64 * 1024);
      let n: number;
      try {
        n = readSync(fd, chunk, 0, chunk.length, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
        // a non-blocking stdin with nothing yet: wait a little rather than spin
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
        continue;
      }
      if (n === 0) return Buffer.concat(chunks);
      size += n;
      if (size > max) throw new Error(`larger than ${max / 1024 / 1024} MiB`);
      chunks.push(chunk.subarray(0, n));
    }
  } finally {
    if (fd !== 0) closeSync(fd);
  }
}
