import path from 'node:path';
import { parseArgs } from 'node:util';
import { runBatch, type BatchSettings } from '../engine/jobs/batch.ts';
import { deblurPhotoFile } from '../engine/jobs/deblur-photo.ts';
import { OUTPUT_SUFFIX } from '../engine/jobs/output-format.ts';
import { SessionProvider } from '../engine/infer/session-provider.ts';
import { CannotRunError, EXIT, UsageError } from './exit-codes.ts';
import { bitDepthOption, errorLine, formatOption, numberOption, pipelineForCommand, PIPELINE_OPTIONS, PIPELINE_USAGE, pipelineId } from './options.ts';
import { ProgressBar } from './progress-bar.ts';
import type { Command } from './command.ts';

export const batch: Command = {
  summary: 'deblur a whole folder (resumable: run the same command again after a cancel or crash)',
  usage:
    `<in-dir> --out DIR [--recursive] [--format jpeg|png|tiff|webp] [--quality 1..100] [--bit-depth 8|16] [--suffix S] [--skip-existing] [--strength 0..2] [--protect-sharp] ${PIPELINE_USAGE}\n` +
    `Outputs are named NAME${OUTPUT_SUFFIX}.EXT (--suffix S changes the suffix; --suffix '' keeps NAME, refused when --out is the input folder).`,
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        out: { type: 'string', short: 'o' },
        recursive: { type: 'boolean', short: 'r', default: false },
        format: { type: 'string' },
        quality: { type: 'string' },
        'bit-depth': { type: 'string' },
        suffix: { type: 'string', default: OUTPUT_SUFFIX },
        'skip-existing': { type: 'boolean', default: false },
        strength: { type: 'string' },
        'protect-sharp': { type: 'boolean', default: false },
        ...PIPELINE_OPTIONS,
      },
    });
    if (positionals.length !== 1) throw new UsageError('give exactly one input folder');
    if (!values.out) throw new UsageError('--out DIR is required');
    const pipeline = await pipelineForCommand(values);
    const strength = numberOption('strength', values.strength, 1, 0, 2);
    const bitDepth = bitDepthOption(values['bit-depth']);
    const settings: BatchSettings = {
      inputDir: path.resolve(positionals[0]),
      outputDir: path.resolve(values.out),
      recursive: values.recursive!,
      format: formatOption(values.format) ?? 'jpeg',
      quality: numberOption('quality', values.quality, 92, 1, 100),
      suffix: values.suffix!,
      skipExisting: values['skip-existing']!,
      processing: { model: pipelineId(pipeline), strength, protectSharp: values['protect-sharp'], bitDepth },
    };
    const controller = new AbortController();
    const onSigint = () => {
      process.stderr.write('\ncancelling after the current file… (run the same command again to resume)\n');
      controller.abort();
    };
    process.once('SIGINT', onSigint);
    const bar = new ProgressBar();
    const sessions = new SessionProvider(); // the CLI has no Settings: the platform's providers, every core
    try {
      const summary = await runBatch(
        settings,
        (input, output, ctx) =>
          deblurPhotoFile(pipeline, input, output, {
            strength,
            protectSharp: values['protect-sharp']!,
            format: settings.format,
            quality: settings.quality,
            bitDepth,
            overwrite: ctx.overwrite,
            sessions,
            signal: ctx.signal,
            onFraction: ctx.onFraction,
          }).then(() => undefined),
        {
          signal: controller.signal,
          onProgress: (p) => {
            const label = `${p.index + 1}/${p.total} ${p.file}`;
            if (p.status === 'running') bar.update((p.index + p.fileFraction) / Math.max(1, p.total), label, p.etaSeconds);
            else if (p.status === 'failed') bar.log(`failed  ${p.error}`);
            else bar.log(`${p.status.padEnd(7)} ${p.file}`);
          },
        },
      ).catch((err) => {
        throw new CannotRunError(errorLine(err));
      });
      bar.done();
      const line = `${summary.done} done, ${summary.skipped} skipped, ${summary.failed.length} failed of ${summary.total}`;
      process.stderr.write(`${summary.cancelled ? 'cancelled: ' : ''}${line}\n`);
      for (const f of summary.failed) process.stderr.write(`  ${f.error}\n`);
      if (summary.stoppedBy) {
        process.stderr.write(`stopped: ${summary.stoppedBy}\n`);
        return EXIT.cannotRun;
      }
      return summary.failed.length > 0 ? EXIT.someFailed : EXIT.ok;
    } finally {
      process.off('SIGINT', onSigint);
      await sessions.close();
    }
  },
};
