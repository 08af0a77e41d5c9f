import path from 'node:path';
import { parseArgs } from 'node:util';
import { decodeImage } from '../engine/image/index.ts';
import { scanPhotoFolder } from '../engine/jobs/scan-folder.ts';
import { motionFromEstimate } from '../engine/map/kernel-motion.ts';
import { estimatePhotoBlur } from '../engine/map/photo-blur.ts';
import { CannotRunError, EXIT, UsageError } from './exit-codes.ts';
import { failureLine } from './options.ts';
import { ProgressBar } from './progress-bar.ts';
import type { Command } from './command.ts';

export const triage: Command = {
  summary: 'sort a folder of photos from sharpest to blurriest by the blur score of the MAP core’s estimate',
  usage: '<dir> [--recursive] [--json]',
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { recursive: { type: 'boolean', short: 'r', default: false }, json: { type: 'boolean', default: false } },
    });
    if (positionals.length !== 1) throw new UsageError('give exactly one folder');
    const dir = path.resolve(positionals[0]);
    const files = await scanPhotoFolder(dir, { recursive: values.recursive! }).catch((err: NodeJS.ErrnoException) => {
      throw new CannotRunError(`${dir}: ${err.code === 'ENOENT' ? 'no such folder' : err.code === 'ENOTDIR' ? 'not a folder' : err.message}`);
    });
    const bar = new ProgressBar();
    const scored: Array<{ file: string; blurScore: number; width: number; height: number }> = [];
    let failed = 0;
    try {
      for (const [i, rel] of files.entries()) {
        bar.update(i / files.length, rel);
        try {
          const photo = await decodeImage(path.join(dir, rel));
          const { blurScore } = motionFromEstimate(await estimatePhotoBlur(photo.raster));
          scored.push({ file: rel, blurScore, width: photo.raster.width, height: photo.raster.height });
        } catch (err) {
          failed++;
          bar.log(failureLine(rel, err));
        }
      }
    } finally {
      bar.done();
    }
    scored.sort((a, b) => a.blurScore - b.blurScore || a.file.localeCompare(b.file));
    if (values.json) process.stdout.write(JSON.stringify({ folder: dir, photos: scored }, null, 1) + '\n');
    else {
      process.stdout.write(`blur score (px, 90th percentile of motion) — sharpest first\n`);
      for (const s of scored) process.stdout.write(`${s.blurScore.toFixed(2).padStart(8)}  ${s.file}\n`);
    }
    return failed === 0 ? EXIT.ok : EXIT.someFailed;
  },
};
