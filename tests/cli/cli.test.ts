import { spawn } from 'node:child_process';
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { NEURMAP_BIN, runCli, tinyModelsDir, tempDir } from '../helpers/cli.ts';
import { writeBadInputs, writeShakenPhoto, writeTestPhoto } from '../helpers/photos.ts';

let models: string;
let work: string;
let env: Record<string, string>;

before(async () => {
  models = await tinyModelsDir();
  work = await tempDir();
  env = { NEURMAP_MODELS_DIR: models, NEURMAP_USER_DATA: path.join(work, 'user') };
});

test('without a command it prints usage and exits 2', async () => {
  const r = await runCli([], env);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /usage: neurmap <command>/);
});

test('an unknown command or option is a usage error (exit 2)', async () => {
  assert.equal((await runCli(['frobnicate'], env)).code, 2);
  const r = await runCli(['deblur', 'x.jpg', '--out', work, '--strength', '5'], env);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--strength must be a number from 0 to 2/);
});

test('the MAP core\'s parts are chosen with --prior and --refiner; a missing learned prior cannot run (exit 3)', async () => {
  const bad = await runCli(['deblur', 'x.jpg', '--out', work, '--prior', 'sharpest'], env);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--prior must be hand-made or learned, got 'sharpest'/);
  const both = await runCli(['deblur', 'x.jpg', '--out', work, '--model', 'fast', '--refiner'], env);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /--model runs a network instead of the MAP core/);
  const missing = await runCli(['deblur', 'x.jpg', '--out', work, '--prior', 'learned'], env);
  assert.equal(missing.code, 3);
  assert.match(missing.stderr, /the learned prior is not installed/);
  assert.equal(missing.stderr.trim().split('\n').length, 1);
});

test('info reports versions, execution providers and the training backend', async () => {
  const r = await runCli(['info', '--json'], env);
  assert.equal(r.code, 0);
  const info = JSON.parse(r.stdout);
  assert.ok(info.versions.onnxruntime && info.versions.sharp);
  assert.ok(info.executionProviders.available.includes('cpu'));
  assert.equal(info.trainingBackend.name, 'wasm');
  assert.deepEqual(info.learnedParts, { prior: false, refiner: false });
  assert.deepEqual(info.models.map((m: { id: string }) => m.id).sort(), ['fast', 'motion']);
});

test('deblur needs no network: with no model installed the MAP core deblurs', async () => {
  const empty = await tempDir('neurmap-nomodels-');
  const out = path.join(work, 'out-nomodel');
  const photo = await writeTestPhoto(path.join(work, 'in', 'a.jpg'));
  const r = await runCli(['deblur', photo, '--out', out], { ...env, NEURMAP_MODELS_DIR: empty });
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await fs.readdir(out)).length, 1);
});

test('deblur with a network asked for by name that is not installed says so, exits 3 and writes nothing', async () => {
  const empty = await tempDir('neurmap-nomodels-');
  const out = path.join(work, 'out-nomodel-named');
  const photo = await writeTestPhoto(path.join(work, 'in', 'a.jpg'));
  const r = await runCli(['deblur', photo, '--out', out, '--model', 'fast'], { ...env, NEURMAP_MODELS_DIR: empty });
  assert.equal(r.code, 3);
  assert.match(r.stderr, /no deblur model "fast"/);
  assert.deepEqual(await fs.readdir(out).catch(() => []), []);
});

test('deblur writes the output with the camera EXIF kept and the original untouched', async () => {
  const photo = await writeTestPhoto(path.join(work, 'in', 'b.jpg'));
  const before = await fs.readFile(photo);
  const out = path.join(work, 'out-ok');
  const r = await runCli(['deblur', photo, '--out', out, '--strength', '0.7'], env);
  assert.equal(r.code, 0, r.stderr);
  const meta = await sharp(path.join(out, 'b-deblurred.jpg')).metadata();
  assert.equal(meta.width, 96);
  assert.ok(meta.exif && meta.exif.includes(Buffer.from('TestCam')));
  assert.deepEqual(await fs.readFile(photo), before);
});

test('each bad input gets one clear line, the others are still processed, and the exit code is 1', async () => {
  const bad = await writeBadInputs(path.join(work, 'bad'));
  const good = await writeTestPhoto(path.join(work, 'bad', 'good.jpg'));
  const missing = path.join(work, 'bad', 'missing.jpg');
  const out = path.join(work, 'out-bad');
  const r = await runCli(['deblur', bad.truncated, bad.empty, bad.text, bad.tiny, missing, good, '--out', out], env);
  assert.equal(r.code, 1);
  const lines = r.stderr.trim().split('\n');
  const lineFor = (name: string) => lines.filter((l) => l.includes(name));
  assert.match(lineFor('truncated.jpg')[0], /truncated|corrupt/);
  assert.match(lineFor('empty.jpg')[0], /empty|0 bytes|zero/i);
  assert.match(lineFor('notes.jpg')[0], /not an image/);
  assert.match(lineFor('one-pixel.png')[0], /too small|at least/);
  assert.match(lineFor('missing.jpg')[0], /does not exist/);
  for (const name of ['truncated.jpg', 'empty.jpg', 'notes.jpg', 'one-pixel.png', 'missing.jpg']) assert.equal(lineFor(name).length, 1, name);
  assert.deepEqual(await fs.readdir(out), ['good-deblurred.jpg']);
});

test('an output folder that cannot be written stops the command before any work (exit 3)', async () => {
  const photo = await writeTestPhoto(path.join(work, 'in', 'c.jpg'));
  const blocker = path.join(work, 'a-file');
  await fs.writeFile(blocker, 'x');
  const r = await runCli(['deblur', photo, '--out', path.join(blocker, 'out')], env);
  assert.equal(r.code, 3);
  assert.match(r.stderr, /output folder .* cannot be created/);
});

test('outputs are named NAME-deblurred.EXT, as the app names them; --suffix changes it and --suffix "" keeps the name', async () => {
  const photo = await writeTestPhoto(path.join(work, 'in', 'named.jpg'));
  const out = path.join(work, 'out-names');
  assert.equal((await runCli(['deblur', photo, '--out', out], env)).code, 0);
  assert.equal((await runCli(['deblur', photo, '--out', out, '--suffix=-sharp'], env)).code, 0);
  assert.equal((await runCli(['deblur', photo, '--out', out, '--suffix', ''], env)).code, 0);
  assert.deepEqual((await fs.readdir(out)).sort(), ['named-deblurred.jpg', 'named-sharp.jpg', 'named.jpg']);
  const folder = path.join(work, 'in-batch-names');
  await writeTestPhoto(path.join(folder, 'p.jpg'));
  const batchOut = path.join(work, 'out-batch-names');
  assert.equal((await runCli(['batch', folder, '--out', batchOut], env)).code, 0);
  assert.deepEqual((await fs.readdir(batchOut)).filter((f) => !f.startsWith('.')), ['p-deblurred.jpg']);
});

test('an output folder that refuses new files stops deblur and batch with one clean line (exit 3)', async () => {
  const photo = await writeTestPhoto(path.join(work, 'in', 'f.jpg'));
  // Root may write anywhere the permission bits say no, but not into sysfs; others get a read-only folder.
  let refusing = '/sys/kernel';
  if (process.getuid?.() !== 0 || !(await fs.stat(refusing).catch(() => null))) {
    refusing = path.join(work, 'read-only');
    await fs.mkdir(refusing, { mode: 0o555 });
  }
  for (const args of [['deblur', photo], ['batch', path.dirname(photo)]]) {
    const r = await runCli([...args, '--out', refusing], env);
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stderr.trim(), `neurmap ${args[0]}: output folder ${refusing} is not writable (permission denied)`);
  }
});

test('--out naming a file says it is a file (exit 3)', async () => {
  const photo = await writeTestPhoto(path.join(work, 'in', 'g.jpg'));
  const file = path.join(work, 'not-a-folder.txt');
  await fs.writeFile(file, 'x');
  for (const args of [['deblur', photo], ['batch', path.dirname(photo)]]) {
    const r = await runCli([...args, '--out', file], env);
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stderr.trim(), `neurmap ${args[0]}: output folder ${file} is a file, not a folder`);
  }
});

test('an output that exists is refused unless --overwrite is given', async () => {
  const photo = await writeTestPhoto(path.join(work, 'in', 'd.jpg'));
  const out = path.join(work, 'out-exists');
  assert.equal((await runCli(['deblur', photo, '--out', out], env)).code, 0);
  const again = await runCli(['deblur', photo, '--out', out], env);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /exists/);
  assert.equal((await runCli(['deblur', photo, '--out', out, '--overwrite'], env)).code, 0);
});

test('motion writes a heat map and the blur trace, and prints the kernels, quiver grid and blur score as JSON', async () => {
  // a vertical 10 px streak: half-extent 5 px along (0, 1)
  const photo = await writeShakenPhoto(path.join(work, 'in', 'e.jpg'), { width: 200, height: 120, streakPx: 10, angleDeg: 90 });
  const heat = path.join(work, 'heat.png');
  const trace = path.join(work, 'trace.png');
  const r = await runCli(['motion', photo, '--out', heat, '--trace', trace, '--json'], env);
  assert.equal(r.code, 0, r.stderr);
  const res = JSON.parse(r.stdout);
  assert.ok(Math.abs(res.blurScore - 5) < 1, `score ${res.blurScore}`);
  const cell = res.grid.cells[0];
  assert.ok(Math.abs(cell.u) < 1 && Math.abs(cell.v - 5) < 1, `${cell.u}, ${cell.v}`);
  assert.equal(res.kernels.length, res.regions.cols * res.regions.rows);
  for (const k of res.kernels) {
    assert.equal(k.kernel.length, k.size * k.size);
    assert.ok(Math.abs(k.kernel.reduce((a: number, b: number) => a + b, 0) - 1) < 1e-3);
  }
  const meta = await sharp(heat).metadata();
  assert.deepEqual([meta.width, meta.height, meta.format], [200, 120, 'png']);
  assert.equal((await sharp(trace).metadata()).format, 'png');
});

test('a reader that stops early (`| head`) ends the output quietly: no crash, no error line', async () => {
  const photo = await writeShakenPhoto(path.join(work, 'in', 'pipe.jpg'), { width: 200, height: 120, streakPx: 10 });
  const child = spawn(process.execPath, [NEURMAP_BIN, 'motion', photo, '--json'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy(); // the reader is gone before the command writes
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const code = await new Promise((resolve) => child.on('close', resolve));
  assert.equal(stderr, '');
  assert.equal(code, 0);
});

test('triage ranks a sharp photo before the same scene shaken', async () => {
  const dir = path.join(work, 'triage');
  await writeShakenPhoto(path.join(dir, 'shaken.jpg'), { width: 200, height: 120, streakPx: 15, seed: 3 });
  await writeShakenPhoto(path.join(dir, 'still.jpg'), { width: 200, height: 120, streakPx: 1, seed: 3 });
  const r = await runCli(['triage', dir, '--json'], env);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).photos.map((p: { file: string }) => p.file), ['still.jpg', 'shaken.jpg']);
});
