import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { runBatch, type BatchSettings } from '../../src-main/engine/jobs/batch.ts';
import { deblurPhotoFile } from '../../src-main/engine/jobs/deblur-photo.ts';
import { MANIFEST_NAME } from '../../src-main/engine/jobs/batch-manifest.ts';
import { closeSessions, cachedSessions } from '../../src-main/engine/infer/session.ts';
import { SessionProvider } from '../../src-main/engine/infer/session-provider.ts';
import { runCli, tempDir, tinyModelsDir } from '../helpers/cli.ts';
import { writeTestPhoto } from '../helpers/photos.ts';

let models: string;
let env: Record<string, string>;

before(async () => {
  models = await tinyModelsDir();
  env = { NEURMAP_MODELS_DIR: models, NEURMAP_USER_DATA: await tempDir('neurmap-user-') };
});

async function photoFolder(count: number, opts: { width?: number; height?: number } = {}): Promise<string> {
  const dir = await tempDir('neurmap-batch-in-');
  for (let i = 0; i < count; i++) await writeTestPhoto(path.join(dir, i % 3 === 2 ? 'nested' : '', `p${String(i).padStart(2, '0')}.jpg`), { seed: i, ...opts });
  return dir;
}

async function mtimes(dir: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const e of await fs.readdir(dir, { recursive: true, withFileTypes: true })) {
    // Outputs only: not the manifest, nor a temp file a killed run was writing.
    if (e.isFile() && e.name !== MANIFEST_NAME && !e.name.includes('.tmp-')) out.set(path.relative(dir, path.join(e.parentPath, e.name)), (await fs.stat(path.join(e.parentPath, e.name))).mtimeMs);
  }
  return out;
}

function settings(inputDir: string, outputDir: string, extra: Partial<BatchSettings> = {}): BatchSettings {
  return { inputDir, outputDir, recursive: true, format: 'png', quality: 90, suffix: '-sharp', skipExisting: false, processing: { strength: 1 }, ...extra };
}

const network = () => ({ kind: 'network' as const, models: { deblur: path.join(models, 'deblur.onnx'), deblurId: 'fast', motion: path.join(models, 'motion.onnx'), refiner: false } });
const defaultSessions = new SessionProvider();
after(() => defaultSessions.close());
const process_ = (fmt: 'png' | 'jpeg' | 'webp' | 'tiff', quality = 90, sessions = defaultSessions) => (input: string, output: string, ctx: { signal: AbortSignal; overwrite: boolean; onFraction: (f: number) => void }) =>
  deblurPhotoFile(network(), input, output, { strength: 1, protectSharp: false, format: fmt, quality, overwrite: ctx.overwrite, signal: ctx.signal, onFraction: ctx.onFraction, sessions }).then(() => undefined);

test('a batch mirrors the folder tree, honours format and suffix, skips system files and survives a bad file', async () => {
  const input = await photoFolder(4);
  await fs.writeFile(path.join(input, 'Thumbs.db'), 'x');
  await fs.writeFile(path.join(input, '.DS_Store'), 'x');
  await fs.writeFile(path.join(input, 'broken.jpg'), 'not a photo');
  const output = await tempDir('neurmap-batch-out-');
  const events: string[] = [];
  const summary = await runBatch(settings(input, output, { format: 'webp', quality: 40 }), process_('webp', 40), { onProgress: (p) => p.status !== 'running' && events.push(`${p.status} ${p.file}`) });
  assert.equal(summary.total, 5);
  assert.equal(summary.done, 4);
  assert.equal(summary.failed.length, 1);
  assert.match(summary.failed[0].error, /broken\.jpg: not an image/);
  const files = [...(await mtimes(output)).keys()].sort();
  assert.deepEqual(files, ['nested/p02-sharp.webp', 'p00-sharp.webp', 'p01-sharp.webp', 'p03-sharp.webp']);
  const meta = await sharp(path.join(output, 'p00-sharp.webp')).metadata();
  assert.equal(meta.format, 'webp');
  assert.ok(meta.exif?.includes(Buffer.from('TestCam')), 'EXIF kept');
  assert.ok(events.includes('failed broken.jpg'));
  await closeSessions();
});

test('a batch run uses the provider and thread count chosen in Settings, through the one session cache', async () => {
  await closeSessions();
  const input = await photoFolder(2);
  const output = await tempDir('neurmap-batch-out-');
  const chosen = new SessionProvider(() => ({ executionProvider: 'cpu', threads: 3 }));
  const summary = await runBatch(settings(input, output), process_('png', 90, chosen));
  assert.equal(summary.done, 2);
  const uses = chosen.uses.filter((u) => u.kind === 'network');
  assert.equal(uses.length, 2, 'every file opens its session through the provider');
  for (const u of uses) assert.deepEqual([u.provider, u.threads], ['cpu', 3]);
  // One session for the model, opened with the chosen provider only (auto would have tried CUDA first).
  const open = (await cachedSessions()).filter((s) => s.file.endsWith('deblur.onnx'));
  assert.equal(open.length, 1);
  assert.deepEqual(open[0].attempts.map((a) => a.provider), ['cpu']);
  // The MAP core takes its worker threads from the same provider.
  const mapChosen = new SessionProvider(() => ({ executionProvider: 'cpu', threads: 2 }));
  await runBatch(settings(input, await tempDir('neurmap-batch-out-')), (i, o, ctx) =>
    deblurPhotoFile({ kind: 'map', parts: {} }, i, o, { strength: 1, protectSharp: false, format: 'png', overwrite: ctx.overwrite, signal: ctx.signal, onFraction: ctx.onFraction, sessions: mapChosen }).then(() => undefined),
  );
  assert.deepEqual(mapChosen.uses, [{ kind: 'map', provider: 'cpu', threads: 2 }, { kind: 'map', provider: 'cpu', threads: 2 }]);
  await Promise.all([chosen.close(), mapChosen.close()]);
});

test('running a finished batch again resumes: nothing is redone', async () => {
  const input = await photoFolder(3);
  const output = await tempDir('neurmap-batch-out-');
  await runBatch(settings(input, output), process_('png'));
  const first = await mtimes(output);
  const again = await runBatch(settings(input, output), process_('png'));
  assert.equal(again.done, 0);
  assert.equal(again.skipped, 3);
  assert.deepEqual(await mtimes(output), first);
  await closeSessions();
});

test('cancel stops after the current file and a later run finishes the rest', async () => {
  const input = await photoFolder(4);
  const output = await tempDir('neurmap-batch-out-');
  const controller = new AbortController();
  const first = await runBatch(settings(input, output), process_('png'), {
    signal: controller.signal,
    onProgress: (p) => p.status === 'done' && controller.abort(),
  });
  assert.equal(first.cancelled, true);
  assert.equal(first.done, 1);
  const rest = await runBatch(settings(input, output), process_('png'));
  assert.equal(rest.done, 3);
  assert.equal(rest.skipped, 1);
  await closeSessions();
});

test('an output folder inside the input folder is never read back as input', async () => {
  const input = await photoFolder(2);
  const output = path.join(input, 'deblurred');
  await runBatch(settings(input, output), process_('png'));
  const second = await runBatch(settings(input, output, { skipExisting: true }), process_('png'));
  assert.equal(second.total, 2);
  await closeSessions();
});

test('the output folder being the input folder without a suffix is refused before anything is written', async () => {
  const input = await photoFolder(1);
  await assert.rejects(runBatch(settings(input, input, { suffix: '' }), process_('png')), /could replace the originals/);
});

test('an output folder inside the input folder, subfolders included, without a suffix is refused before anything is written', async () => {
  const input = await photoFolder(1);
  const output = path.join(input, 'results');
  await assert.rejects(
    runBatch(settings(input, output, { suffix: '' }), process_('png')),
    /the output folder is inside the input folder \(subfolders included\) and no name suffix is set: outputs could replace the originals/,
  );
  await assert.rejects(fs.stat(output), { code: 'ENOENT' }, 'nothing was created');
  // Without subfolders the output folder's own photos are not originals of this batch.
  const flat = await runBatch(settings(input, output, { suffix: '', recursive: false }), process_('png'));
  assert.equal(flat.done, 1);
  await closeSessions();
});

test('a batch writing into its input folder never reads its own outputs back as photos', async () => {
  const input = await tempDir('neurmap-batch-in-');
  await writeTestPhoto(path.join(input, 'a.jpg'), { seed: 1 });
  const first = await runBatch(settings(input, input, { skipExisting: true }), process_('png'));
  assert.equal(first.done, 1);
  const again = await runBatch(settings(input, input, { skipExisting: true }), process_('png'));
  assert.equal(again.total, 1, 'a-sharp.png is a result, not an input');
  assert.deepEqual((await fs.readdir(input)).filter((f) => !f.startsWith('.')).sort(), ['a-sharp.png', 'a.jpg']);
  await closeSessions();
});

test('kill -9 in the middle of a CLI batch, then resume: no file lost, none done twice', async () => {
  const input = await photoFolder(9, { width: 640, height: 480 });
  const output = await tempDir('neurmap-batch-out-');
  let done = 0;
  const run = runCli(['batch', input, '--out', output, '-r', '--format', 'png'], env, {
    onStderr: (chunk) => {
      done += (chunk.match(/^done /gm) ?? []).length;
      if (done >= 3) run.kill('SIGKILL');
    },
  });
  const killed = await run;
  assert.equal(killed.signal, 'SIGKILL', `the batch finished before it could be killed: ${killed.stderr}`);
  const before = await mtimes(output);
  assert.ok(before.size >= 3 && before.size < 9, `${before.size} outputs at the kill`);
  const resumed = await runCli(['batch', input, '--out', output, '-r', '--format', 'png'], env);
  assert.equal(resumed.code, 0, resumed.stderr);
  const after = await mtimes(output);
  assert.equal(after.size, 9, 'no file lost');
  for (const [file, t] of before) assert.equal(after.get(file), t, `${file} was written again`);
  const leftovers = (await fs.readdir(output, { recursive: true })).filter((f) => String(f).includes('.tmp-'));
  assert.deepEqual(leftovers, [], 'no temp files left');
});

function tryMount(dir: string, opts: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', opts, 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

test('a full disk stops the batch with a clear error; finished files stay intact and the manifest consistent', async (t) => {
  const output = await tempDir('neurmap-full-');
  if (!tryMount(output, 'size=160k')) return t.skip('mounting a small tmpfs needs root in a container that allows it');
  try {
    const input = await photoFolder(8, { width: 160, height: 120 });
    const summary = await runBatch(settings(input, output), process_('png'));
    assert.ok(summary.stoppedBy, 'the job stopped');
    assert.match(summary.stoppedBy!, /disk is full|no space/i);
    assert.ok(summary.done >= 1 && summary.done < 8, `${summary.done} done`);
    const manifest = JSON.parse(await fs.readFile(path.join(output, MANIFEST_NAME), 'utf8'));
    for (const entry of Object.values(manifest.done) as Array<{ output: string }>) {
      await sharp(entry.output).metadata(); // every recorded output is a whole, readable image
    }
    assert.equal(Object.keys(manifest.done).length, summary.done);
    const leftovers = (await fs.readdir(output)).filter((f) => f.includes('.tmp-'));
    assert.deepEqual(leftovers, []);
  } finally {
    execFileSync('umount', [output]);
    await closeSessions();
  }
});

test('a read-only output folder is refused before any work', async (t) => {
  const output = await tempDir('neurmap-ro-');
  if (!tryMount(output, 'size=1m,ro')) return t.skip('mounting a read-only tmpfs needs root in a container that allows it');
  try {
    const input = await photoFolder(1);
    await assert.rejects(runBatch(settings(input, output), process_('png')), /not writable/);
  } finally {
    execFileSync('umount', [output]);
  }
});
