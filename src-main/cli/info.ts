import { parseArgs } from 'node:util';
import { engineInfo } from '../engine/system-info.ts';
import { baseModelsDir } from '../engine/paths.ts';
import { createModelRegistry } from '../engine/studio/locations.ts';
import { EXIT } from './exit-codes.ts';
import type { Command } from './command.ts';

export const info: Command = {
  summary: 'versions, execution providers, training backend, installed models',
  usage: '[--json]',
  async run(args) {
    const { values } = parseArgs({ args, options: { json: { type: 'boolean', default: false } } });
    const sys = await engineInfo();
    const registry = createModelRegistry();
    const entries = await registry.list();
    const models = entries.map((m) => ({ id: m.id, kind: m.refiner ? 'refiner' : m.kind, name: m.name, ok: m.ok, error: m.error, selected: m.selected }));
    const personal = entries.find((m) => m.selected && m.refiner);
    if (values.json) {
      process.stdout.write(JSON.stringify({ ...sys, models }, null, 2) + '\n');
      return EXIT.ok;
    }
    const lines = [
      `NeurMAP Studio ${sys.app}`,
      ...Object.entries(sys.versions).map(([k, v]) => `  ${k.padEnd(12)} ${v}`),
      `platform       ${sys.platform}, ${sys.threads} threads`,
      `inference      ONNX Runtime providers available: ${sys.executionProviders.available.join(', ')}; tried in order: ${sys.executionProviders.tryOrder.join(' → ')}`,
      `training       tfjs backend: ${sys.trainingBackend.name}${sys.trainingBackend.notes.length ? ` (${sys.trainingBackend.notes.join('; ')})` : ''}`,
      `MAP core       learned prior ${sys.learnedParts.prior ? 'installed (--prior learned)' : 'not installed'}; refiner ${personal ? `your personal model "${personal.name}" (selected: it refines every deblur)` : sys.learnedParts.refiner ? 'installed (--refiner)' : 'not installed'}`,
      `models         ${models.length === 0 ? `none installed in ${baseModelsDir()}` : `${models.length} installed (* = selected for deblurring)`}`,
      ...models.map((m) => `  ${m.selected ? '*' : ' '} ${m.id.padEnd(20)} ${m.kind.padEnd(7)} ${m.ok ? m.name : `unusable: ${m.error}`}`),
    ];
    process.stdout.write(lines.join('\n') + '\n');
    return EXIT.ok;
  },
};
