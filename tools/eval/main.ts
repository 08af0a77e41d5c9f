/**
 * `npm run eval`: PSNR/SSIM of the blurry input, every shipped deblur network and (with --peer) MAXIM on held-out
 * synthetic sets (linear, shake, none), the gain per blur-size bin, M's end-point error and seconds per megapixel.
 * Prints one table and writes it as JSON (models/eval.json by default), the numbers the model card quotes.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { appRoot, baseModelsDir } from '../../src-main/engine/paths.ts';
import { openSession, closeSessions } from '../../src-main/engine/infer/session.ts';
import { psnr, ssim } from '../../src-main/engine/metrics/fidelity.ts';
import { writeFileAtomic } from '../../src-main/engine/fs/atomic-file.ts';
import { BLUR_RECIPES } from '../../src-main/engine/synth/index.ts';
import { mapDeblurFloat, mapDeblurFloatWithKernels, mapMotionFloat } from './run-map.ts';
import { buildTestSets, listPhotos, setsFingerprint, type TestSample } from './test-sets.ts';
import { deblurFloat, endPointError, motionFloat } from './run-networks.ts';
import { formatReport, type EvalReport, type MethodScores } from './report.ts';

const { values } = parseArgs({
  options: {
    photos: { type: 'string', default: path.join(appRoot, 'training', 'data', 'bundle', 'test') },
    models: { type: 'string', default: baseModelsDir() },
    out: { type: 'string' },
    crop: { type: 'string', default: '256' },
    peer: { type: 'boolean', default: false },
    'peer-crops': { type: 'string', default: '0' },
    /** Only the first N photos (a quick look while tuning). */
    limit: { type: 'string', default: '0' },
    /** Only these sets (comma-separated). */
    sets: { type: 'string', default: '' },
    verbose: { type: 'boolean', default: false },
  },
});

const ORACLE = 'MAP core, true kernels (oracle)';

/** dB: what an output identical to its target scores (8-bit rounding alone stays below 60 dB). */
const PSNR_CAP = 100;

const BINS: Array<[string, number, number]> = [
  ['<5 px', 0, 5],
  ['5-10 px', 5, 10],
  ['10-20 px', 10, 20],
  ['>=20 px', 20, Infinity],
];

function binOf(halfExtent: number): string {
  return BINS.find(([, lo, hi]) => halfExtent >= lo && halfExtent < hi)![0];
}

function emptyScores(): MethodScores {
  return { psnr: {}, ssim: {}, count: {}, binGain: {} };
}

function addScore(scores: MethodScores, s: TestSample, out: TestSample['sharp'], blurryPsnr: number | null): void {
  // Capped, so one untouched crop (∞ dB) does not hide a changed one in the set's mean.
  const p = Math.min(PSNR_CAP, psnr(out, s.sharp));
  scores.psnr[s.recipe] = (scores.psnr[s.recipe] ?? 0) + p;
  scores.ssim[s.recipe] = (scores.ssim[s.recipe] ?? 0) + ssim(out, s.sharp);
  scores.count[s.recipe] = (scores.count[s.recipe] ?? 0) + 1;
  if (s.recipe === 'none') scores.worstNonePsnr = Math.min(scores.worstNonePsnr ?? PSNR_CAP, p);
  if (blurryPsnr !== null && s.recipe !== 'none') {
    const bin = binOf(s.maxHalfExtentPx);
    const g = (scores.binGain[`${s.recipe}|${bin}`] ??= { sum: 0, n: 0 });
    g.sum += p - blurryPsnr;
    g.n++;
    scores.worstGain ??= {};
    scores.worstGain[s.recipe] = Math.min(scores.worstGain[s.recipe] ?? Infinity, p - blurryPsnr);
  }
}

async function main(): Promise<void> {
  const limit = Number(values.limit);
  const photos = (await listPhotos(values.photos!)).slice(0, limit > 0 ? limit : undefined);
  const crop = Number(values.crop);
  process.stderr.write(`building test sets from ${photos.length} photos (${crop}×${crop} crops)…\n`);
  const wanted = values.sets ? new Set(values.sets.split(',')) : null;
  const samples = (await buildTestSets(photos, { crop, margin: 32 }, (line) => process.stderr.write(line + '\n'))).filter((s) => !wanted || wanted.has(s.recipe));
  const fingerprint = setsFingerprint(samples);
  const outFile = values.out ?? path.join(values.models!, 'eval.json');
  const previous = (await fs.readFile(outFile, 'utf8').then(JSON.parse).catch(() => null)) as EvalReport | null;

  const report: EvalReport = {
    created: new Date().toISOString(),
    photos: photos.length,
    crop,
    fingerprint,
    samples: Object.fromEntries(BLUR_RECIPES.map((r) => [r, samples.filter((s) => s.recipe === r).length])),
    methods: {},
    motion: null,
    secondsPerMegapixel: {},
  };

  const blurry = emptyScores();
  for (const s of samples) addScore(blurry, s, s.blurry, null);
  report.methods['blurry input'] = blurry;
  const blurryPsnr = new Map(samples.map((s) => [s.id, psnr(s.blurry, s.sharp)]));
  /** Each network's outputs by crop id, to score it again on the peer's subset. */
  const outputs = new Map<string, Map<string, TestSample['sharp']>>();

  /** Runs one pipeline over every crop: its scores, its seconds per megapixel, its outputs for the peer's subset. */
  const score = async (label: string, run: (img: TestSample['blurry'], s: TestSample) => Promise<{ out: TestSample['sharp']; seconds: number }>, only: TestSample[] = samples) => {
    const scores = emptyScores();
    const outs = new Map<string, TestSample['sharp']>();
    outputs.set(label, outs);
    let seconds = 0;
    let pixels = 0;
    for (const [i, s] of only.entries()) {
      const { out, seconds: sec } = await run(s.blurry, s);
      seconds += sec;
      pixels += s.blurry.width * s.blurry.height;
      addScore(scores, s, out, blurryPsnr.get(s.id)!);
      outs.set(s.id, out);
      if (values.verbose) process.stderr.write(`${label} ${s.id}: ${(psnr(out, s.sharp) - blurryPsnr.get(s.id)!).toFixed(2)} dB (half-extent ${s.maxHalfExtentPx.toFixed(1)} px)\n`);
      else if (process.stderr.isTTY && i % 10 === 0) process.stderr.write(`${label}: ${i + 1}/${only.length}\r`);
    }
    report.methods[label] = scores;
    report.secondsPerMegapixel[label] = seconds / (pixels / 1e6);
    process.stderr.write(`${label}: done\n`);
  };

  await score('MAP core', (img) => mapDeblurFloat(img));
  // The ceiling of the kernel estimate: the same deconvolution given the blur's true kernels (3×3 regions a crop).
  await score(ORACLE, (img, s) => mapDeblurFloatWithKernels(img, s.trueKernels!), samples.filter((s) => s.trueKernels));
  // The learned parts (issue 14), each scored where its file is present.
  const denoiser = path.join(values.models!, 'denoiser.onnx');
  const hasDenoiser = await exists(denoiser);
  if (hasDenoiser) await score('MAP + learned prior', (img) => mapDeblurFloat(img, { denoiser }));
  const refinerPath = path.join(values.models!, 'refiner.onnx');
  if (await exists(refinerPath)) {
    const refiner = await openSession(refinerPath, { role: 'refine' });
    await score('MAP + refiner', (img) => mapDeblurFloat(img, { refiner }));
    if (hasDenoiser) await score('MAP + learned prior + refiner', (img) => mapDeblurFloat(img, { denoiser, refiner }));
  }

  for (const [file, label] of [
    ['deblur.onnx', 'G fast'],
    ['deblur-fine.onnx', 'G fine'],
  ] as const) {
    const modelPath = path.join(values.models!, file);
    if (!(await exists(modelPath))) {
      process.stderr.write(`${file}: not present, skipped\n`);
      continue;
    }
    const session = await openSession(modelPath, { role: 'deblur' });
    await score(label, (img) => deblurFloat(session, img));
  }

  // End-point error of the motion the MAP core's kernels imply (the motion view's) and of M, on the same crops.
  const motionSamples = samples.filter((s) => s.recipe !== 'shake' && s.maxHalfExtentPx <= 20); // the target: blur up to 40 px in all
  const meanEpe = async (predict: (img: TestSample['blurry']) => Promise<Float32Array>) => {
    const epe: Record<string, { sum: number; n: number }> = {};
    for (const s of motionSamples) {
      const e = (epe[s.recipe] ??= { sum: 0, n: 0 });
      e.sum += endPointError(await predict(s.blurry), s.motionPx);
      e.n++;
    }
    return Object.fromEntries(Object.entries(epe).map(([k, v]) => [k, v.sum / v.n]));
  };
  report.mapMotion = await meanEpe(mapMotionFloat);
  const motionPath = path.join(values.models!, 'motion.onnx');
  if (await exists(motionPath)) {
    const session = await openSession(motionPath, { role: 'motion' });
    report.motion = await meanEpe((img) => motionFloat(session, img));
  }

  const peerCrops = Number(values['peer-crops']);
  if (values.peer) {
    const { maximDeblur } = await import('../peer/maxim.ts');
    const scores = emptyScores();
    const chosen = peerCrops > 0 ? pickPerRecipe(samples, peerCrops) : samples;
    let seconds = 0;
    for (const [i, s] of chosen.entries()) {
      const t = performance.now();
      const out = await maximDeblur(s.blurry);
      seconds += (performance.now() - t) / 1000;
      addScore(scores, s, out, blurryPsnr.get(s.id)!);
      process.stderr.write(`MAXIM: ${i + 1}/${chosen.length} (${(seconds / (i + 1)).toFixed(1)} s per crop)${process.stderr.isTTY ? '\r' : '\n'}`);
    }
    scores.subset = chosen.length < samples.length ? chosen.map((s) => s.id) : undefined;
    report.methods['MAXIM (peer)'] = scores;
    report.secondsPerMegapixel['MAXIM (peer)'] = seconds / ((chosen.length * crop * crop) / 1e6);
  } else if (previous?.fingerprint === fingerprint && previous.methods['MAXIM (peer)']) {
    report.methods['MAXIM (peer)'] = previous.methods['MAXIM (peer)'];
    report.secondsPerMegapixel['MAXIM (peer)'] = previous.secondsPerMegapixel['MAXIM (peer)'];
    report.peerFrom = previous.peerFrom ?? previous.created;
  }

  // MAXIM runs on a subset (it is slow here): score every network on exactly those crops too.
  const subset = report.methods['MAXIM (peer)']?.subset;
  if (subset) {
    const ids = new Set(subset);
    const blurrySubset = emptyScores();
    for (const s of samples) if (ids.has(s.id)) addScore(blurrySubset, s, s.blurry, null);
    blurrySubset.subset = subset;
    report.methods["blurry input (MAXIM's crops)"] = blurrySubset;
    for (const [label, outs] of outputs) {
      const scores = emptyScores();
      for (const s of samples) {
        const out = outs.get(s.id);
        if (ids.has(s.id) && out) addScore(scores, s, out, blurryPsnr.get(s.id)!);
      }
      scores.subset = subset;
      report.methods[`${label} (MAXIM's crops)`] = scores;
    }
  }

  await closeSessions();
  process.stdout.write(formatReport(report) + '\n');
  await writeFileAtomic(outFile, JSON.stringify(report, null, 1) + '\n');
  process.stderr.write(`wrote ${path.relative(process.cwd(), outFile)}\n`);
}

function pickPerRecipe(samples: TestSample[], n: number): TestSample[] {
  const out: TestSample[] = [];
  for (const r of BLUR_RECIPES) out.push(...samples.filter((s) => s.recipe === r).slice(0, n));
  return out;
}

async function exists(p: string): Promise<boolean> {
  return fs.access(p).then(
    () => true,
    () => false,
  );
}

main().catch((err) => {
  process.stderr.write(`eval: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
