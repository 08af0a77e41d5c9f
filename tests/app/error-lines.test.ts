/** A bad input reaches the user as one line that names it once, with a status that blames the request. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { startBridge, AssetUrls, type Bridge } from '../../src-main/bridge/server.ts';
import { newToken } from '../../src-main/bridge/auth.ts';
import { Studio } from '../../src-main/engine/studio/studio.ts';
import { failureText } from '../../src-renderer/lib/format.ts';
import { tempDir, tinyModelsDir } from '../helpers/cli.ts';
import { writeTestPhoto } from '../helpers/photos.ts';

let work: string;
let studio: Studio;
let bridge: Bridge;

before(async () => {
  work = await tempDir('neurmap-error-lines-');
  const token = newToken();
  const assets = new AssetUrls(token);
  studio = new Studio({ userDataDir: path.join(work, 'user'), modelsDir: await tinyModelsDir(), assetUrl: (p) => assets.url(p) });
  bridge = await startBridge({ studio, token, assets, uploadDir: path.join(work, 'uploads') });
});

after(async () => {
  await bridge.close();
  await studio.dispose();
});

interface Envelope {
  ok: boolean;
  value?: unknown;
  error?: { code: string; message: string };
}

async function post(route: string, body: unknown): Promise<{ status: number; body: Envelope }> {
  const res = await fetch(`${bridge.url}${route}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${bridge.token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Envelope };
}

test('the bridge answers a file that is not a photo with 422 and the one line the CLI prints', async () => {
  const file = path.join(work, 'notaphoto.jpg');
  await fs.writeFile(file, 'these are my notes, not a photo\n');
  assert.equal((await post('/fs/pick', { kind: 'open', paths: [file] })).status, 200);
  const r = await post('/api/openImage', { args: [file] });
  assert.equal(r.status, 422);
  assert.equal(r.body.error?.code, 'not-an-image');
  assert.equal(r.body.error?.message, 'notaphoto.jpg: not an image (it contains text; expected JPEG, PNG, TIFF, WebP, HEIC/HEIF or AVIF)');
});

test('the bridge answers a batch whose output folder is a file with 422 and one line', async () => {
  const input = path.join(work, 'photos');
  await writeTestPhoto(path.join(input, 'a.jpg'));
  const output = path.join(work, 'out');
  await fs.mkdir(output);
  await post('/fs/pick', { kind: 'folder', purpose: 'batch-input', path: input });
  await post('/fs/pick', { kind: 'folder', purpose: 'batch-output', path: output });
  // Chosen as a folder, then replaced by a file before the batch starts.
  await fs.rmdir(output);
  await fs.writeFile(output, 'x');
  const r = await post('/api/startBatch', {
    args: [{ inputDir: input, outputDir: output, recursive: false, format: 'jpeg', quality: 90, suffix: '-deblurred', skipExisting: false, strength: 1, protectSharp: false }],
  });
  assert.equal(r.status, 422);
  assert.equal(r.body.error?.message, `output folder ${output} is a file, not a folder`);
});

test('a toast names the file once when the message already starts with its name', () => {
  assert.equal(failureText('notaphoto.jpg', 'notaphoto.jpg: not an image (it contains text)'), 'notaphoto.jpg: not an image (it contains text)');
  assert.equal(failureText('Batch', 'input folder /x: does not exist'), 'Batch: input folder /x: does not exist');
  assert.equal(failureText(undefined, 'no model'), 'no model');
});
