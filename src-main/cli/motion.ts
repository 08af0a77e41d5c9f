import path from 'node:path';
import { parseArgs } from 'node:util';
import { decodeImage, exportImage } from '../engine/image/index.ts';
import { estimateMotion, heatMap, renderQuiverOverlay } from '../engine/infer/motion.ts';
import { closeSessions, openSession } from '../engine/infer/session.ts';
import { formatForSource } from '../engine/jobs/output-format.ts';
import { CannotRunError, EXIT, UsageError } from './exit-codes.ts';
import { failureLine, modelsForCommand } from './options.ts';
import type { Command } from './command.ts';

export const motion: Command = {
  summary: 'estimate the per-pixel motion blur of a photo (heat map, quiver plot, blur score)',
  usage: '<file> [--out FILE] [--quiver] [--json] [--overwrite]',
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        out: { type: 'string', short: 'o' },
        quiver: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        overwrite: { type: 'boolean', default: false },
      },
    });
    if (positionals.length !== 1) throw new UsageError('give exactly one photo');
    if (!values.out && !values.json) throw new UsageError('nothing to do: give --out FILE and/or --json');
    const file = path.resolve(positionals[0]);
    const models = await modelsForCommand();
    if (!models.motion) throw new CannotRunError('no motion model is installed (expected motion.onnx beside the deblur model)');
    try {
      const photo = await decodeImage(file);
      const session = await openSession(models.motion, { role: 'motion' });
      const result = await estimateMotion(session, photo.raster, {
        onProgress: (p) => process.stderr.isTTY && process.stderr.write(`\restimating motion ${Math.round(p.fraction * 100)}%`),
      });
      if (process.stderr.isTTY) process.stderr.write('\n');
      const heat = heatMap(result.field);
      if (values.out) {
        const picture = values.quiver ? await renderQuiverOverlay(photo.raster, result.grid) : heat.raster;
        const out = path.resolve(values.out);
        await exportImage(picture, null, { path: out, format: formatForSource(out), overwrite: values.overwrite, sourcePath: file });
        process.stderr.write(`${positionals[0]} → ${values.out} (${values.quiver ? 'quiver over the photo' : `heat map, 0–${heat.maxPx} px`})\n`);
      }
      if (values.json) {
        const { grid, blurScore, stats } = result;
        process.stdout.write(JSON.stringify({ file, width: photo.raster.width, height: photo.raster.height, blurScore, stats, heatMapMaxPx: heat.maxPx, grid }) + '\n');
      }
      return EXIT.ok;
    } catch (err) {
      process.stderr.write(`${failureLine(file, err)}\n`);
      return EXIT.someFailed;
    } finally {
      await closeSessions();
    }
  },
};
