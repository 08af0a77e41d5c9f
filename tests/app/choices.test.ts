/** The editor offers only choices that work: "Use" on models that can be selected, providers that load. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Studio } from '../../src-main/engine/studio/studio.ts';
import type { SystemInfo } from '../../src-shared/contract/types.ts';
import { providerOptions } from '../../src-renderer/lib/providers.ts';
import { tempDir, tinyModelsDir } from '../helpers/cli.ts';

let studio: Studio;

before(async () => {
  const work = await tempDir('neurmap-choices-');
  studio = new Studio({ userDataDir: path.join(work, 'user'), modelsDir: await tinyModelsDir(), assetUrl: (p) => `asset:${p}` });
});

after(() => studio.dispose());

test('"Use" is offered for exactly the models that selecting accepts, never the motion model', async () => {
  const models = await studio.listModels();
  assert.deepEqual(models.map((m) => [m.id, m.selectable]), [['fast', true], ['motion', false]]);
  for (const m of models) {
    if (m.selectable) await studio.selectModel(m.id);
    else await assert.rejects(studio.selectModel(m.id), /cannot be selected for deblurring/);
  }
});

test('Settings shows a provider that failed to load in this run as unavailable, with the reason the System panel gives', async () => {
  const sys = await studio.systemInfo();
  const options = providerOptions(sys);
  for (const failed of sys.executionProvider.skipped) {
    assert.equal(options.find((o) => o.id === failed.name)?.unavailable, `fails to load: ${failed.reason}`);
  }
  // The machine: CUDA listed by onnxruntime-node, its provider libraries not installed.
  const cudaFails: SystemInfo = {
    ...sys,
    executionProvider: { active: 'CPU', available: ['cpu', 'cuda'], skipped: [{ name: 'cuda', reason: 'Failed to load shared library' }] },
  };
  assert.deepEqual(
    providerOptions(cudaFails).map((o) => [o.id, o.unavailable]),
    [
      ['auto', null],
      ['cuda', 'fails to load: Failed to load shared library'],
      ['dml', 'not part of ONNX Runtime on this platform'],
      ['coreml', 'not part of ONNX Runtime on this platform'],
      ['cpu', null],
    ],
  );
  const cudaLoads: SystemInfo = { ...sys, executionProvider: { active: 'CUDA', available: ['cpu', 'cuda'], skipped: [] } };
  assert.equal(providerOptions(cudaLoads).find((o) => o.id === 'cuda')?.unavailable, null);
});
