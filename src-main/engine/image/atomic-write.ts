import { link, open, realpath, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { tempPathFor } from '../fs/atomic-file.ts';
import { ImageError, writeError } from './errors.ts';

/**
 * Files written all at once or not at all: the content goes to a temp file in the target's own
 * folder (`.name.tmp-<random>`), is flushed to disk, then takes the target's name in one step.
 * On any failure the temp file is removed and the target is as it was (absent or untouched).
 * The source photo is never written over, and an existing target only when asked.
 */
export interface AtomicWriteOptions {
  /** Replace an existing target (never the source). Default false: an existing target is an 'exists' error. */
  overwrite?: boolean;
  /** The photo being edited: a target that is this very file (same path, link or hard link) is refused. */
  sourcePath?: string;
}

/** Writes the content into the open temp file. */
export type Producer = (file: FileHandle) => Promise<void>;

function errno(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : undefined;
}

async function statOrNull(path: string) {
  try {
    return await stat(path);
  } catch (e) {
    if (errno(e) === 'ENOENT') return null;
    throw e;
  }
}

/**
 * Check, before any work, that `target` may be written: not the source, not existing (unless
 * `overwrite`), not a folder, in a folder that exists. Throws the ImageError the user should see.
 */
export async function checkWritableTarget(target: string, opts: AtomicWriteOptions = {}): Promise<void> {
  const abs = resolve(target);
  let existing;
  try {
    existing = await statOrNull(abs);
  } catch (e) {
    throw writeError(target, e);
  }
  if (opts.sourcePath) {
    const src = await statOrNull(resolve(opts.sourcePath)).catch(() => null);
    const sameFile = existing && src && existing.dev === src.dev && existing.ino === src.ino;
    const samePath = await Promise.all([realpath(abs).catch(() => abs), realpath(resolve(opts.sourcePath)).catch(() => resolve(opts.sourcePath!))]).then(
      ([a, b]) => a === b,
    );
    if (sameFile || samePath) {
      throw new ImageError('same-as-source', target, 'this is the original photo: choose another name (the original is never overwritten)');
    }
  }
  if (existing?.isDirectory()) throw new ImageError('not-writable', target, 'cannot write the file: a folder has that name');
  if (existing && !opts.overwrite) {
    throw new ImageError('exists', target, 'the file already exists (choose another name or allow overwriting)');
  }
  const folder = dirname(abs);
  let dirStat;
  try {
    dirStat = await stat(folder);
  } catch (e) {
    throw writeError(target, e);
  }
  if (!dirStat.isDirectory()) throw writeError(target, Object.assign(new Error('not a folder'), { code: 'ENOTDIR' }));
}

async function syncFolder(folder: string): Promise<void> {
  // make the rename itself durable; not possible on every platform (Windows), so best effort
  let fh: FileHandle | undefined;
  try {
    fh = await open(folder, 'r');
    await fh.sync();
  } catch {
    // ignore
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

/** Give the finished temp file the target's name without replacing anything that appeared meanwhile. */
async function commitNoClobber(tmp: string, target: string): Promise<void> {
  try {
    await link(tmp, target); // fails with EEXIST if the target appeared since the check
  } catch (e) {
    const code = errno(e);
    if (code === 'EEXIST') throw new ImageError('exists', target, 'the file already exists (choose another name or allow overwriting)');
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'ENOSYS' || code === 'EXDEV' || code === 'EMLINK') {
      // file systems without hard links (FAT, some network shares): check, then rename
      if (await statOrNull(target)) throw new ImageError('exists', target, 'the file already exists (choose another name or allow overwriting)');
      await rename(tmp, target);
      return;
    }
    throw e;
  }
  await unlink(tmp).catch(() => undefined);
}

/**
 * Write `target` atomically: `produce` fills a temp file in the same folder, which is flushed
 * (fsync) and renamed over the target. Returns the size written.
 */
export async function atomicWrite(target: string, produce: Producer, opts: AtomicWriteOptions = {}): Promise<number> {
  await checkWritableTarget(target, opts);
  const abs = resolve(target);
  const tmp = tempPathFor(abs);
  let fh: FileHandle | undefined;
  let committed = false;
  try {
    try {
      fh = await open(tmp, 'wx', 0o666);
    } catch (e) {
      throw writeError(target, e);
    }
    await produce(fh);
    await fh.sync();
    const { size } = await fh.stat();
    await fh.close();
    fh = undefined;
    if (opts.overwrite) await rename(tmp, abs);
    else await commitNoClobber(tmp, abs);
    committed = true;
    await syncFolder(dirname(abs));
    return size;
  } catch (e) {
    throw e instanceof ImageError ? e : writeError(target, e);
  } finally {
    if (fh) await fh.close().catch(() => undefined);
    if (!committed) await unlink(tmp).catch(() => undefined);
  }
}
