/**
 * The desktop app's Node bundles (vite.config.ts) as the packaged app loads them: the engine host runs the real
 * Studio from its bundle under plain Node (no tsx, no sources), and the worker modules lie beside it (training,
 * the MAP core's deconvolution, ONNX Runtime sessions), so they run on worker threads in the packaged app too.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { viteBuild } from '../../src-main/bridge/build.ts';
import { createHostedStudio } from '../../src-main/studio-host/client.ts';
import { forkNodeHost } from '../../src-main/studio-host/node-process.ts';
import { tinyDeblur, colourMotion } from '../helpers/tiny-onnx.ts';
import { writeTestPhoto } from '../helpers/photos.ts';

const root = path.resolve(import.meta.dirname, '..', '..');
const distMain = path.join(root, 'dist', 'main');
let tmp: string;

before(async () => {
  tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'neurmap-bundles-'));
  await viteBuild('host');
  await viteBuild('trainer-worker');
  await viteBuild('map-worker');
  await viteBuild('onnx-worker');
});

after(async () => {
  await fsp.rm(tmp, { recursive: true, force: true });
});

test('the engine host bundle serves the real Studio under plain Node', async () => {
  const modelsDir = path.join(tmp, 'models');
  await fsp.mkdir(modelsDir);
  await tinyDeblur(7, 4, 0.12).save(path.join(modelsDir, 'deblur.onnx'));
  await colourMotion(4).save(path.join(modelsDir, 'motion.onnx'));
  const photo = await writeTestPhoto(path.join(tmp, 'photo.jpg'));
  const studio = createHostedStudio({
    spawn: () => forkNodeHost(path.join(distMain, 'studio-host.js')),
    settings: { userDataDir: path.join(tmp, 'user'), modelsDir, assetUrl: { prefix: 'a://', suffix: '' } },
  });
  try {
    const info = await studio.openImage(photo);
    const result = await studio.deblur(info.id, 'bundle-job');
    assert.equal(result.imageId, info.id);
    const models = await studio.listModels();
    assert.ok(models.some((m) => m.task === 'deblur' && m.selected));
    // The selected network's ONNX session runs on its thread from the onnx-worker bundle.
    assert.match((await studio.systemInfo()).executionProvider.active, /^(CPU|CUDA|DML|COREML)$/);
  } finally {
    await studio.dispose();
  }
});

for (const [what, file] of [
  ['trainer', 'parallel-worker.js'],
  ['MAP core', 'map-worker.js'],
  ['ONNX Runtime session', 'onnx-worker.js'],
] as const) {
  test(`the ${what} worker is its own file beside the host bundle (where the engine looks for it)`, () => {
    const worker = path.join(distMain, file);
    assert.ok(fs.existsSync(worker));
    const src = fs.readFileSync(worker, 'utf8');
    assert.doesNotMatch(src, /from ['"]\.\.?\//, 'the worker bundle stands alone (no relative imports)');
  });
}
