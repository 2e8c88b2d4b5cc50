/** Reading inputs and writing outputs for commands: files, or stdin/stdout for `-`. */
import { readFile, writeFile, rename } from 'node:fs/promises';
import { UsageError } from './args.js';

export async function readInput(path: string | undefined): Promise<Uint8Array> {
  if (path === undefined || path === '-') {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    const b = Buffer.concat(chunks);
    return new Uint8Array(b.buffer, b.byteOffset, b.length);
  }
  try {
    const b = await readFile(path);
    return new Uint8Array(b.buffer, b.byteOffset, b.length);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new UsageError(`cannot read '${path}': ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
  }
}

/** Writes to a file (via a temporary file and rename, so a failed run leaves no half file) or stdout. */
export async function writeOutput(path: string | undefined, data: Uint8Array | string): Promise<void> {
  if (path === undefined || path === '-') {
    await new Promise<void>((resolve, reject) => {
      process.stdout.write(typeof data === 'string' ? data : Buffer.from(data.buffer, data.byteOffset, data.length), (e) => (e ? reject(e) : resolve()));
    });
    return;
  }
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

/** True when the bytes look like XML text rather than WBXML. */
export function looksLikeXml(b: Uint8Array): boolean {
  let i = 0;
  if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) i = 3;
  while (i < b.length && (b[i] === 0x20 || b[i] === 0x09 || b[i] === 0x0a || b[i] === 0x0d)) i++;
  return b[i] === 0x3c;
}
