import fs from 'node:fs/promises';
import path from 'node:path';
import { removeTempFilesFor, writeFileAtomic } from '../fs/atomic-file.ts';

export const MANIFEST_NAME = '.neurmap-batch.json';

interface ManifestData {
  version: 1;
  /** What decides the output bytes; a resume with other settings starts over. */
  settingsKey: string;
  /** Finished files by input path relative to the input folder. */
  done: Record<string, { output: string; sourceSize: number; sourceMtimeMs: number }>;
  /** The file being written when the job stopped: its output, if present, is complete (writes are atomic). */
  started: string | null;
}

/**
 * What a batch has finished, kept in the output folder and rewritten atomically after every file,
 * so a cancelled or killed batch resumes without losing a file or doing one twice.
 */
export class BatchManifest {
  private constructor(
    readonly file: string,
    private data: ManifestData,
  ) {}

  static async open(outputDir: string, settingsKey: string): Promise<BatchManifest> {
    const file = path.join(outputDir, MANIFEST_NAME);
    await removeTempFilesFor(file);
    let data: ManifestData = { version: 1, settingsKey, done: {}, started: null };
    try {
      const parsed = JSON.parse(await fs.readFile(file, 'utf8')) as ManifestData;
      if (parsed.version === 1 && parsed.settingsKey === settingsKey && parsed.done) data = parsed;
    } catch {
      // No manifest yet, or an unreadable one: a fresh start is the safe reading.
    }
    return new BatchManifest(file, data);
  }

  get finishedCount(): number {
    return Object.keys(this.data.done).length;
  }

  /** True when `rel` finished in an earlier run, its source is unchanged and its output still exists. */
  async isDone(rel: string, sourcePath: string): Promise<boolean> {
    const entry = this.data.done[rel];
    if (!entry) return false;
    const [src, out] = await Promise.all([fs.stat(sourcePath).catch(() => null), fs.stat(entry.output).catch(() => null)]);
    return !!src && !!out && src.size === entry.sourceSize && src.mtimeMs === entry.sourceMtimeMs;
  }

  /** The file that was in flight when an earlier run stopped. */
  get interrupted(): string | null {
    return this.data.started;
  }

  async markStarted(rel: string): Promise<void> {
    this.data.started = rel;
    await this.save();
  }

  async markDone(rel: string, sourcePath: string, output: string): Promise<void> {
    const st = await fs.stat(sourcePath);
    this.data.done[rel] = { output, sourceSize: st.size, sourceMtimeMs: st.mtimeMs };
    this.data.started = null;
    await this.save();
  }

  async clearStarted(): Promise<void> {
    if (this.data.started === null) return;
    this.data.started = null;
    await this.save();
  }

  private async save(): Promise<void> {
    await writeFileAtomic(this.file, JSON.stringify(this.data, null, 1));
  }
}
