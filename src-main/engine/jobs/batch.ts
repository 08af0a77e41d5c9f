import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { BatchManifest } from './batch-manifest.ts';
import { removeTempFilesFor } from '../fs/atomic-file.ts';
import { FolderError, prepareOutputFolder } from '../fs/folders.ts';
import { EtaEstimator } from './eta.ts';
import { scanPhotoFolder } from './scan-folder.ts';
import { outputExtension } from './output-format.ts';
import { failureLine } from './failure-line.ts';
import type { ExportFormat } from '../image/index.ts';

export interface BatchSettings {
  inputDir: string;
  outputDir: string;
  recursive: boolean;
  format: ExportFormat;
  /** JPEG/WebP quality 1–100. */
  quality: number;
  /** Appended to each output's base name, e.g. "-deblurred". */
  suffix: string;
  /** Leave outputs that already exist alone (otherwise they are replaced). */
  skipExisting: boolean;
  /** Anything else that changes the output bytes (model, strength…), for the resume check. */
  processing: Record<string, unknown>;
}

export type FileStatus = 'done' | 'skipped' | 'failed';

export interface BatchProgress {
  /** Index of the current file (0-based) and the total. */
  index: number;
  total: number;
  file: string;
  /** Fraction of the current file done, 0..1. */
  fileFraction: number;
  status: 'running' | FileStatus;
  error?: string;
  done: number;
  skipped: number;
  failed: number;
  etaSeconds: number | null;
}

export interface BatchSummary {
  total: number;
  done: number;
  skipped: number;
  failed: Array<{ file: string; error: string }>;
  cancelled: boolean;
  /** Set when the job stopped early because the output cannot take more files (disk full, read-only). */
  stoppedBy: string | null;
  manifest: string;
}

/** Turns one photo into its output; must write atomically and honour the signal. */
export type ProcessFile = (
  input: string,
  output: string,
  ctx: { signal: AbortSignal; onFraction: (f: number) => void; overwrite: boolean },
) => Promise<void>;

/** Errors that no later file can escape: the job stops at once instead of failing every file. */
const FATAL_OUTPUT_CODES = new Set(['ENOSPC', 'EDQUOT', 'EROFS', 'not-writable', 'disk-full']);

export function outputPathFor(settings: BatchSettings, rel: string): string {
  const parsed = path.parse(rel);
  return path.join(settings.outputDir, parsed.dir, `${parsed.name}${settings.suffix}${outputExtension(settings.format)}`);
}

export function settingsKey(settings: BatchSettings): string {
  const { format, quality, suffix, processing } = settings;
  return crypto.createHash('sha256').update(JSON.stringify({ format, quality, suffix, processing })).digest('hex').slice(0, 16);
}

/**
 * Whether outputs land among the inputs: the output folder is the input folder, or (subfolders included) one of
 * its subfolders, whose own photos would be originals.
 */
function outputOverlapsInput(settings: BatchSettings): boolean {
  const input = path.resolve(settings.inputDir);
  const output = path.resolve(settings.outputDir);
  if (input === output) return true;
  const rel = path.relative(input, output);
  return settings.recursive && rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel);
}

/** Checks that stop a batch before it starts: they would fail every file (or overwrite the originals). */
export async function validateBatchFolders(settings: BatchSettings): Promise<void> {
  const input = path.resolve(settings.inputDir);
  const output = path.resolve(settings.outputDir);
  const st = await fs.stat(input).catch((err: NodeJS.ErrnoException) => {
    throw new FolderError(`input folder ${input}: ${err.code === 'ENOENT' ? 'does not exist' : err.message}`);
  });
  if (!st.isDirectory()) throw new FolderError(`input folder ${input} is not a folder`);
  if (settings.suffix === '' && outputOverlapsInput(settings)) {
    throw new FolderError(
      `the output folder is ${input === output ? 'the input folder' : 'inside the input folder (subfolders included)'} and no name suffix is set: outputs could replace the originals`,
    );
  }
  await prepareOutputFolder(output);
}

/**
 * Exports a whole folder: per-file progress and ETA, cancel, resume from the manifest after a cancel
 * or a crash, one bad file never stops the batch, a summary of failures at the end.
 */
export async function runBatch(
  settings: BatchSettings,
  processFile: ProcessFile,
  opts: { signal?: AbortSignal; onProgress?: (p: BatchProgress) => void; sizeOf?: (abs: string) => Promise<number> } = {},
): Promise<BatchSummary> {
  await validateBatchFolders(settings);
  const signal = opts.signal ?? new AbortController().signal;
  const inputDir = path.resolve(settings.inputDir);
  const scanned = await scanPhotoFolder(inputDir, { recursive: settings.recursive, exclude: [settings.outputDir] });
  // Writing into the input folder: this batch's earlier outputs are results, not photos to deblur again.
  const ownOutput = `${settings.suffix}${outputExtension(settings.format)}`;
  const files = inputDir === path.resolve(settings.outputDir) ? scanned.filter((rel) => !rel.endsWith(ownOutput)) : scanned;
  const manifest = await BatchManifest.open(path.resolve(settings.outputDir), settingsKey(settings));
  // The file in flight when a run was killed may have left its temp file: the next write starts clean.
  if (manifest.interrupted) await removeTempFilesFor(outputPathFor(settings, manifest.interrupted));
  const sizes = await Promise.all(files.map((f) => (opts.sizeOf ?? fileSize)(path.join(inputDir, f))));
  const eta = new EtaEstimator(sizes.reduce((a, b) => a + b, 0));
  const summary: BatchSummary = { total: files.length, done: 0, skipped: 0, failed: [], cancelled: false, stoppedBy: null, manifest: manifest.file };
  const report = (index: number, file: string, status: BatchProgress['status'], fileFraction: number, error?: string) =>
    opts.onProgress?.({
      index,
      total: files.length,
      file,
      fileFraction,
      status,
      error,
      done: summary.done,
      skipped: summary.skipped,
      failed: summary.failed.length,
      etaSeconds: eta.secondsLeft(),
    });

  for (let index = 0; index < files.length; index++) {
    if (signal.aborted) {
      summary.cancelled = true;
      break;
    }
    const rel = files[index];
    const input = path.join(inputDir, rel);
    const output = outputPathFor(settings, rel);
    const resumedDone = await manifest.isDone(rel, input);
    // A file in flight when a run was killed: its output exists only if the atomic rename happened, so it is complete.
    const finishedBeforeKill = manifest.interrupted === rel && (await exists(output));
    if (resumedDone || finishedBeforeKill || (settings.skipExisting && (await exists(output)))) {
      if (finishedBeforeKill) await manifest.markDone(rel, input, output);
      summary.skipped++;
      eta.skip(sizes[index]);
      report(index, rel, 'skipped', 1);
      continue;
    }
    eta.begin(sizes[index]);
    report(index, rel, 'running', 0);
    try {
      await fs.mkdir(path.dirname(output), { recursive: true });
      await manifest.markStarted(rel);
      await processFile(input, output, {
        signal,
        onFraction: (f) => {
          eta.update(f);
          report(index, rel, 'running', f);
        },
        overwrite: true,
      });
      await manifest.markDone(rel, input, output);
      summary.done++;
      eta.end();
      report(index, rel, 'done', 1);
    } catch (err) {
      if (signal.aborted) {
        await manifest.clearStarted().catch(() => undefined);
        summary.cancelled = true;
        break;
      }
      const message = failureLine(rel, err);
      if (isFatalOutputError(err)) {
        summary.stoppedBy = `${rel}: ${message}`;
        summary.failed.push({ file: rel, error: message });
        report(index, rel, 'failed', 1, message);
        await manifest.clearStarted().catch(() => undefined);
        break;
      }
      await manifest.clearStarted();
      summary.failed.push({ file: rel, error: message });
      eta.drop();
      report(index, rel, 'failed', 1, message);
    }
  }
  return summary;
}

function isFatalOutputError(err: unknown): boolean {
  for (let e = err as { code?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (e.code && FATAL_OUTPUT_CODES.has(e.code)) return true;
  }
  return false;
}

async function exists(p: string): Promise<boolean> {
  return fs.stat(p).then(
    () => true,
    () => false,
  );
}

async function fileSize(p: string): Promise<number> {
  return (await fs.stat(p)).size || 1;
}
