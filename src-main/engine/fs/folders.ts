import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { writeFailureReason } from '../image/errors.ts';

/** A folder the user gave cannot serve its purpose (input missing, output not writable): one line naming it. */
export class FolderError extends Error {
  override readonly name = 'FolderError';
  readonly code = 'bad-folder';
}

function reasonOf(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return writeFailureReason(e) ?? e.code ?? e.message;
}

/**
 * Creates the output folder (and its parents) and proves it takes files by writing and removing an empty probe:
 * access(W_OK) answers yes to root on folders that refuse new files (/sys, some mounts), which would otherwise
 * surface later as a raw EACCES on the first temp file.
 */
export async function prepareOutputFolder(dir: string): Promise<void> {
  const st = await fs.stat(dir).catch(() => null);
  if (st && !st.isDirectory()) throw new FolderError(`output folder ${dir} is a file, not a folder`);
  if (!st) {
    await fs.mkdir(dir, { recursive: true }).catch((err: unknown) => {
      throw new FolderError(`output folder ${dir} cannot be created (${reasonOf(err)})`);
    });
  }
  const probe = path.join(dir, `.neurmap-probe-${crypto.randomBytes(6).toString('hex')}`);
  try {
    await fs.writeFile(probe, '', { flag: 'wx' });
  } catch (err) {
    throw new FolderError(`output folder ${dir} is not writable (${reasonOf(err)})`);
  }
  await fs.rm(probe, { force: true });
}
