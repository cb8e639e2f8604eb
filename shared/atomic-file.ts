import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';

/**
 * Writes a file atomically: a temporary file next to it, fsync, then rename over the target, so a crash never leaves
 * half a file (readers see the old contents or the new, nothing between). Returns the number of bytes written.
 */
export function writeFileAtomic(path: string, contents: string | Uint8Array): number {
  const bytes = typeof contents === 'string' ? Buffer.from(contents) : contents;
  const temporary = `${path}.tmp-${process.pid}`;
  const fd = openSync(temporary, 'w');
  try {
    for (let offset = 0; offset < bytes.byteLength;) offset += writeSync(fd, bytes, offset);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
  return bytes.byteLength;
}
