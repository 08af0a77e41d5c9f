import fs from 'node:fs/promises';
import path from 'node:path';
import crypto from 'node:crypto';

/** A temp name beside the target, so the final rename stays on one file system (and is atomic). */
export function tempPathFor(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.tmp-${crypto.randomBytes(6).toString('hex')}`);
}

/** Removes temp files of `target` that a killed process left behind (none exist while a write is in flight elsewhere). */
export async function removeTempFilesFor(target: string): Promise<void> {
  const prefix = `.${path.basename(target)}.tmp-`;
  const dir = path.dirname(target);
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  await Promise.all(names.filter((n) => n.startsWith(prefix)).map((n) => fs.rm(path.join(dir, n), { force: true })));
}

/**
 * Writes a file so that readers see either the old content or the whole new one, never a part:
 * write a temp file in the same folder, fsync, rename over the target. The temp file is removed on failure.
 */
export async function writeFileAtomic(target: string, data: Uint8Array | string): Promise<void> {
  await withTempFile(target, async (tmp) => {
    const handle = await fs.open(tmp, 'wx');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
  });
}

/** Runs `produce(tempPath)`, then renames the temp file over `target`; on any error the temp file is gone and the target untouched. */
export async function withTempFile(target: string, produce: (tmp: string) => Promise<void>): Promise<void> {
  const tmp = tempPathFor(target);
  try {
    await produce(tmp);
    await fs.rename(tmp, target);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
}
