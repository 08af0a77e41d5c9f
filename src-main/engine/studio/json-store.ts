import fs from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../fs/atomic-file.ts';

/** A small JSON document in the user data folder (settings, recent files), written atomically. */
export class JsonStore<T> {
  constructor(
    private readonly file: string,
    private readonly parse: (raw: unknown) => T,
    private readonly fallback: () => T,
  ) {}

  async read(): Promise<T> {
    try {
      return this.parse(JSON.parse(await fs.readFile(this.file, 'utf8')));
    } catch {
      // Missing or damaged: the defaults are the safe reading; the next write repairs the file.
      return this.fallback();
    }
  }

  async write(value: T): Promise<void> {
    await fs.mkdir(path.dirname(this.file), { recursive: true });
    await writeFileAtomic(this.file, JSON.stringify(value, null, 2) + '\n');
  }
}
