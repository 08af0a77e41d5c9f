import path from 'node:path';
import readline from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { AdaptCancelledError, AdaptInputError, type AdaptOutcome } from '../engine/jobs/adapt.ts';
import { AdaptationSession } from '../engine/jobs/adapt-session.ts';
import { userDataDir } from '../engine/paths.ts';
import { createModelRegistry } from '../engine/studio/locations.ts';
import { CannotRunError, EXIT, UsageError } from './exit-codes.ts';
import { numberOption } from './options.ts';
import { ProgressBar } from './progress-bar.ts';
import type { Command } from './command.ts';

export const adapt: Command = {
  summary: 'fine-tune the refiner of the MAP core on your own blurry photos (unpaired NeurMAP), giving a personal model',
  usage:
    '--blurry DIR --name NAME (--minutes N | --iterations N) [--sharp DIR] [--base ID] [--keep | --discard] [--crop PX] [--workers N]\n' +
    'Cancel with Ctrl-C: the run keeps its checkpoint, and the same command resumes it.',
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        blurry: { type: 'string' },
        sharp: { type: 'string' },
        name: { type: 'string' },
        minutes: { type: 'string' },
        iterations: { type: 'string' },
        base: { type: 'string' },
        keep: { type: 'boolean', default: false },
        discard: { type: 'boolean', default: false },
        crop: { type: 'string' },
        workers: { type: 'string' },
      },
    });
    if (!values.blurry) throw new UsageError('--blurry DIR is required');
    if (!values.name?.trim()) throw new UsageError('--name NAME is required');
    if (!values.minutes && !values.iterations) throw new UsageError('give --minutes N or --iterations N');
    if (values.keep && values.discard) throw new UsageError('--keep and --discard exclude each other');
    const minutes = values.minutes === undefined ? undefined : numberOption('minutes', values.minutes, 0, 0.05, 24 * 60);
    const iterations = values.iterations === undefined ? undefined : Math.round(numberOption('iterations', values.iterations, 0, 1, 10_000_000));
    const crop = numberOption('crop', values.crop, 128, 16, 1024);
    const workers = Math.round(numberOption('workers', values.workers, 2, 0, 64));
    const registry = createModelRegistry();
    const inputs = { blurryDir: path.resolve(values.blurry), sharpDir: values.sharp ? path.resolve(values.sharp) : undefined, name: values.name.trim(), minutes, iterations };

    const controller = new AbortController();
    const onSigint = () => {
      process.stderr.write('\ncancelling after this iteration… (the same command resumes from the checkpoint)\n');
      controller.abort();
    };
    process.once('SIGINT', onSigint);
    const bar = new ProgressBar();
    let outcome: AdaptOutcome;
    let session: AdaptationSession;
    try {
      session = await AdaptationSession.prepare(registry, userDataDir(), inputs, values.base);
      outcome = await session.run({
        signal: controller.signal,
        workers,
        config: { cropSize: crop },
        onStatus: (m) => bar.log(m),
        onProgress: (p, { fraction, etaSeconds }) => {
          const losses = ['G_content', 'G_reblur', 'M_reblur'].filter((k) => k in p.losses).map((k) => `${k} ${p.losses[k].toFixed(4)}`).join(' ');
          bar.update(fraction, `it ${p.iteration} ${p.iterationsPerSecond?.toFixed(2) ?? '–'} it/s ${losses}`, etaSeconds);
        },
      });
    } catch (err) {
      bar.done();
      if (err instanceof AdaptInputError) throw new CannotRunError(err.message);
      if (err instanceof AdaptCancelledError) {
        process.stderr.write(`${err.message}\n`);
        return EXIT.ok;
      }
      throw err;
    } finally {
      process.off('SIGINT', onSigint);
    }
    bar.done();
    const { before, after } = outcome;
    process.stdout.write(
      [
        `${outcome.status === 'completed' ? 'finished' : outcome.status}: ${outcome.iterations} iterations${outcome.resumedFrom === null ? '' : ` (resumed at ${outcome.resumedFrom})`} in ${(outcome.seconds / 60).toFixed(1)} min`,
        `held-out photos: ${outcome.training.heldOut} (never trained on)`,
        `  motion left (px, lower is sharper):        ${before.motionLeftPx.toFixed(3)} → ${after.motionLeftPx.toFixed(3)}`,
        `  reblur consistency (dB, higher is better): ${before.reblurPsnr.toFixed(2)} → ${after.reblurPsnr.toFixed(2)}`,
        ...outcome.training.skipped.map((line) => `  skipped: ${line}`),
        outcome.better ? 'the adapted model is better on the held-out photos' : 'the adapted model is NOT better on the held-out photos',
      ].join('\n') + '\n',
    );
    const keep = values.keep || (!values.discard && (await askKeep(outcome.better)));
    const saved = await session.finish(keep);
    if (!saved) {
      process.stderr.write('discarded\n');
      return EXIT.ok;
    }
    process.stderr.write(`saved as ${saved.id}: use it with \`neurmap deblur … --model ${saved.id}\` or pick it in the app\n`);
    return EXIT.ok;
  },
};

/** Asks on a terminal; without one, keeps the model only when it is better (never worse silently). */
async function askKeep(better: boolean): Promise<boolean> {
  if (!process.stdin.isTTY) {
    process.stderr.write(better ? 'keeping it (no terminal to ask; --discard to drop)\n' : 'not keeping it (no terminal to ask; --keep to keep anyway)\n');
    return better;
  }
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  const answer = await rl.question(`keep it as a personal model? [${better ? 'Y/n' : 'y/N'}] `);
  rl.close();
  return answer.trim() === '' ? better : /^y/i.test(answer.trim());
}
