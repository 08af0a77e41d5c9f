import path from 'node:path';
import { parseArgs } from 'node:util';
import { deblurPhotoFile } from '../engine/jobs/deblur-photo.ts';
import { formatForSource, OUTPUT_SUFFIX, outputExtension } from '../engine/jobs/output-format.ts';
import { SessionProvider } from '../engine/infer/session-provider.ts';
import { prepareOutputFolder } from '../engine/fs/folders.ts';
import { CannotRunError, EXIT, UsageError } from './exit-codes.ts';
import { bitDepthOption, failureLine, formatOption, pipelineForCommand, PIPELINE_OPTIONS, PIPELINE_USAGE, numberOption } from './options.ts';
import { ProgressBar } from './progress-bar.ts';
import type { Command } from './command.ts';

export const deblur: Command = {
  summary: 'remove motion blur from photos',
  usage:
    `<files…> --out DIR [--strength 0..2] [--format jpeg|png|tiff|webp] [--quality 1..100] [--bit-depth 8|16] [--suffix S] [--protect-sharp] [--overwrite] ${PIPELINE_USAGE}\n` +
    `Outputs are named NAME${OUTPUT_SUFFIX}.EXT (--suffix S changes the suffix; --suffix '' keeps NAME).`,
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        out: { type: 'string', short: 'o' },
        strength: { type: 'string' },
        ...PIPELINE_OPTIONS,
        format: { type: 'string' },
        quality: { type: 'string' },
        'bit-depth': { type: 'string' },
        suffix: { type: 'string', default: OUTPUT_SUFFIX },
        'protect-sharp': { type: 'boolean', default: false },
        overwrite: { type: 'boolean', default: false },
      },
    });
    if (positionals.length === 0) throw new UsageError('no input files');
    if (!values.out) throw new UsageError('--out DIR is required');
    const strength = numberOption('strength', values.strength, 1, 0, 2);
    const quality = numberOption('quality', values.quality, 92, 1, 100);
    const format = formatOption(values.format);
    const bitDepth = bitDepthOption(values['bit-depth']);
    const outDir = path.resolve(values.out);
    await prepareOutputFolder(outDir).catch((err: Error) => {
      throw new CannotRunError(err.message);
    });
    const pipeline = await pipelineForCommand(values);

    const bar = new ProgressBar();
    const sessions = new SessionProvider(); // the CLI has no Settings: the platform's providers, every core
    let failed = 0;
    try {
      for (const [i, file] of positionals.entries()) {
        const fmt = format ?? formatForSource(file);
        const output = path.join(outDir, `${path.parse(file).name}${values.suffix}${outputExtension(fmt)}`);
        const started = performance.now();
        try {
          await deblurPhotoFile(pipeline, path.resolve(file), output, {
            strength,
            protectSharp: values['protect-sharp']!,
            format: fmt,
            quality,
            bitDepth,
            overwrite: values.overwrite!,
            sessions,
            onFraction: (f) => bar.update((i + f) / positionals.length, path.basename(file)),
          });
          bar.log(`${file} → ${output} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
        } catch (err) {
          failed++;
          bar.log(failureLine(file, err));
        }
      }
    } finally {
      bar.done();
      await sessions.close();
    }
    return failed === 0 ? EXIT.ok : EXIT.someFailed;
  },
};
