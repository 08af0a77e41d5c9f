import path from 'node:path';
import { parseArgs } from 'node:util';
import { decodeImage, exportImage } from '../engine/image/index.ts';
import { heatMap, renderQuiverOverlay } from '../engine/infer/motion-render.ts';
import { formatForSource } from '../engine/jobs/output-format.ts';
import { motionFromEstimate, regionSummary } from '../engine/map/kernel-motion.ts';
import { renderKernelTrace } from '../engine/map/kernel-trace.ts';
import { estimatePhotoBlur } from '../engine/map/photo-blur.ts';
import { EXIT, UsageError } from './exit-codes.ts';
import { failureLine } from './options.ts';
import type { Command } from './command.ts';

export const motion: Command = {
  summary: 'estimate the blur of a photo: the kernels per region (blur trace), the motion field (heat map, quiver plot), the blur score',
  usage: '<file> [--out FILE] [--quiver] [--trace FILE] [--json] [--overwrite]',
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        out: { type: 'string', short: 'o' },
        quiver: { type: 'boolean', default: false },
        trace: { type: 'string' },
        json: { type: 'boolean', default: false },
        overwrite: { type: 'boolean', default: false },
      },
    });
    if (positionals.length !== 1) throw new UsageError('give exactly one photo');
    if (!values.out && !values.json && !values.trace) throw new UsageError('nothing to do: give --out FILE, --trace FILE and/or --json');
    const file = path.resolve(positionals[0]);
    try {
      const photo = await decodeImage(file);
      const estimate = await estimatePhotoBlur(photo.raster, {
        threads: 0,
        onProgress: (f) => process.stderr.isTTY && process.stderr.write(`\restimating blur ${Math.round(f * 100)}%`),
      });
      if (process.stderr.isTTY) process.stderr.write('\n');
      const result = motionFromEstimate(estimate);
      if (values.trace) {
        const out = path.resolve(values.trace);
        await exportImage(renderKernelTrace(estimate), null, { path: out, format: formatForSource(out), overwrite: values.overwrite, sourcePath: file });
        process.stderr.write(`${positionals[0]} → ${values.trace} (blur trace, ${estimate.cols} × ${estimate.rows} regions)\n`);
      }
      const heat = heatMap(result.field);
      if (values.out) {
        const picture = values.quiver ? await renderQuiverOverlay(photo.raster, result.grid) : heat.raster;
        const out = path.resolve(values.out);
        await exportImage(picture, null, { path: out, format: formatForSource(out), overwrite: values.overwrite, sourcePath: file });
        process.stderr.write(`${positionals[0]} → ${values.out} (${values.quiver ? 'quiver over the photo' : `heat map, 0–${heat.maxPx} px`})\n`);
      }
      if (values.json) {
        const { grid, blurScore, stats } = result;
        const kernels = estimate.regions.map((r) => ({
          ...regionSummary(r),
          // convolution convention, centred, summing to 1 (README, "MAP core")
          size: r.kernel.size,
          kernel: Array.from(r.kernel.data, (v) => Math.round(v * 1e6) / 1e6),
        }));
        process.stdout.write(JSON.stringify({ file, width: photo.raster.width, height: photo.raster.height, blurScore, stats, heatMapMaxPx: heat.maxPx, noise: estimate.noise, regions: { cols: estimate.cols, rows: estimate.rows }, kernels, grid }) + '\n');
      }
      return EXIT.ok;
    } catch (err) {
      process.stderr.write(`${failureLine(file, err)}\n`);
      return EXIT.someFailed;
    }
  },
};
