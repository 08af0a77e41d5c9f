import fs from 'node:fs/promises';
import path from 'node:path';
import { hasPhotoExtension } from '../../../src-shared/photo-files.ts';


/** Files that operating systems and sync tools leave in photo folders. */
const SYSTEM_FILES = new Set(['thumbs.db', '.ds_store', 'desktop.ini', 'ehthumbs.db', '.picasa.ini', 'icon\r']);

export function isSystemFile(name: string): boolean {
  const lower = name.toLowerCase();
  return SYSTEM_FILES.has(lower) || lower.startsWith('._') || lower.startsWith('.');
}

export function isPhotoFile(name: string): boolean {
  return !isSystemFile(name) && hasPhotoExtension(name);
}

export interface ScanOptions {
  recursive: boolean;
  /** Folders never entered, e.g. an output folder inside the input folder (no endless recursion). */
  exclude?: string[];
}

/** Photo paths relative to `root`, sorted, with forward slashes. */
export async function scanPhotoFolder(root: string, opts: ScanOptions): Promise<string[]> {
  const excluded = new Set((opts.exclude ?? []).map((p) => path.resolve(p)));
  const found: string[] = [];
  async function walk(dir: string): Promise<void> {
    const entries = await fs.readdir(dir, { withFileTypes: true });
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (opts.recursive && !isSystemFile(entry.name) && !excluded.has(path.resolve(full))) await walk(full);
      } else if (entry.isFile() && isPhotoFile(entry.name)) {
        found.push(path.relative(root, full).split(path.sep).join('/'));
      }
    }
  }
  await walk(root);
  return found.sort();
}
