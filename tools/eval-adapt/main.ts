/**
 * `npm run eval:adapt`: the proof that "adapt to my photos" helps, on data with ground truth. A proof base refiner,
 * trained on the MAP cache without rotation, highlights or strong noise (linear, uniform shake and unblurred crops:
 * `training/train_refiner.py --recipes linear,uniform,none`, models/MODEL_CARD.md), is adapted with NeurMAP, under the
 * same budget for each variant, on a library of realistic camera-shake photos (rotation, highlights, noise, JPEG)
 * whose sharp originals are never shown to the trainer (the paired half only ever sees linear blur). Scored on the
 * held-out realistic set through the product's path, MAP core then refiner: PSNR/SSIM before and after, for the full
 * loss set and the paper's ablations; the shipped refiner too, and the MAP core alone for reference.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { runAdaptation, type AdaptBase } from '../../src-main/engine/jobs/adapt.ts';
import { decodeImage8, floatFromImage8 } from '../../src-main/engine/jobs/adapt-guides.ts';
import { closeSessions, openSession } from '../../src-main/engine/infer/session.ts';
import { psnr, ssim } from '../../src-main/engine/metrics/fidelity.ts';
import { writeFileAtomic } from '../../src-main/engine/fs/atomic-file.ts';
import type { TrainingConfigInput } from '../../src-main/engine/neurmap/config.ts';
import { appRoot, baseModelsDir } from '../../src-main/engine/paths.ts';
import { Rng, synthesizeSample, type FloatImage } from '../../src-main/engine/synth/index.ts';
import { buildTestSets, listPhotos, type TestSample } from '../eval/test-sets.ts';
import { floatToRaster } from '../eval/run-networks.ts';
import { mapDeblurFloat } from '../eval/run-map.ts';

const bundle = path.join(appRoot, 'training', 'data', 'bundle');
const { values } = parseArgs({
  options: {
    'proof-base': { type: 'string', default: path.join(baseModelsDir(), 'proof') },
    photos: { type: 'string', default: bundle },
    minutes: { type: 'string', default: '15' },
    iterations: { type: 'string' },
    library: { type: 'string', default: '24' },
    'test-limit': { type: 'string', default: '0' },
    variants: { type: 'string', default: 'full,noReblur,sharpVsBlurryDiscriminator,noMotionNetwork,shipped' },
    crop: { type: 'string', default: '128' },
    out: { type: 'string', default: path.join(baseModelsDir(), 'eval-adapt.json') },
  },
});

const VARIANTS: Record<string, { label: string; ablations?: TrainingConfigInput['ablations']; base: 'proof' | 'shipped' }> = {
  full: { label: 'NeurMAP, full loss set', base: 'proof' },
  noReblur: { label: 'ablation: no reblur term', ablations: { noReblur: true }, base: 'proof' },
  sharpVsBlurryDiscriminator: { label: 'ablation: sharp-vs-blurry discriminator', ablations: { sharpVsBlurryDiscriminator: true }, base: 'proof' },
  noMotionNetwork: { label: 'ablation: no motion network (GAN only)', ablations: { noMotionNetwork: true }, base: 'proof' },
  shipped: { label: 'shipped refiner, full loss set', base: 'shipped' },
};

async function writeJpeg(img: FloatImage, file: string): Promise<void> {
  const r = floatToRaster(img);
  await sharp(Buffer.from(r.rgb.buffer, r.rgb.byteOffset, r.rgb.byteLength), { raw: { width: img.width, height: img.height, channels: 3 } }).jpeg({ quality: 92 }).toFile(file);
}

/** Unpaired realistic-shake library from one half of the training photos, sharp photos from the other half. */
async function makeLibraries(trainDir: string, count: number, work: string): Promise<{ blurryDir: string; sharpDir: string }> {
  const photos = await listPhotos(trainDir);
  const blurryDir = path.join(work, 'shake-library');
  const sharpDir = path.join(work, 'sharp');
  await fs.mkdir(blurryDir, { recursive: true });
  await fs.mkdir(sharpDir, { recursive: true });
  for (const [i, file] of photos.slice(0, 2 * count).entries()) {
    if (i % 2 === 0) {
      const s = await synthesizeSample(floatFromImage8(await decodeImage8(file, Number.MAX_SAFE_INTEGER)), 'shake', new Rng(1000 + i));
      await writeJpeg(s.blurry, path.join(blurryDir, path.basename(file)));
    } else {
      await fs.copyFile(file, path.join(sharpDir, path.basename(file)));
    }
  }
  return { blurryDir, sharpDir };
}

/** MAP core then the refiner, as `neurmap deblur` runs them (the refiner only where a blur of ≥ 5 px was undone). */
async function score(refinerFile: string | null, set: TestSample[]): Promise<{ psnr: number; ssim: number }> {
  const session = refinerFile ? await openSession(refinerFile, { role: 'refine', cache: false }) : undefined;
  let p = 0;
  let s = 0;
  for (const sample of set) {
    const { out } = await mapDeblurFloat(sample.blurry, { refiner: session });
    p += psnr(out, sample.sharp);
    s += ssim(out, sample.sharp);
  }
  await session?.dispose();
  return { psnr: p / set.length, ssim: s / set.length };
}

async function exists(p: string): Promise<boolean> {
  return fs.access(p).then(() => true, () => false);
}

async function main(): Promise<void> {
  const proofDir = values['proof-base']!;
  const proof: AdaptBase = { id: 'proof-refiner', refiner: path.join(proofDir, 'refiner.onnx'), motion: path.join(proofDir, 'motion.onnx') };
  const shipped: AdaptBase = { id: 'refiner', refiner: path.join(baseModelsDir(), 'refiner.onnx'), motion: path.join(baseModelsDir(), 'motion.onnx') };
  if (!(await exists(proof.refiner)) || !(await exists(proof.motion))) {
    throw new Error(`no proof base in ${proofDir} (refiner.onnx trained without rotation or highlights, and motion.onnx: see models/MODEL_CARD.md, "Adaptation proof")`);
  }
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'neurmap-eval-adapt-'));
  const minutes = Number(values.minutes);
  const iterations = values.iterations ? Number(values.iterations) : undefined;
  process.stderr.write('building the realistic-shake test set and the unpaired library…\n');
  const limit = Number(values['test-limit']);
  const testSet = (await buildTestSets(await listPhotos(path.join(values.photos!, 'test')), { crop: 256, margin: 32 }, (line) => process.stderr.write(line + '\n')))
    .filter((s) => s.recipe === 'shake')
    .slice(0, limit > 0 ? limit : undefined);
  const { blurryDir, sharpDir } = await makeLibraries(path.join(values.photos!, 'train'), Number(values.library), work);

  const rows: Array<{ variant: string; label: string; iterations: number; before: { psnr: number; ssim: number }; after: { psnr: number; ssim: number } }> = [];
  const blurryPsnr = testSet.reduce((a, s) => a + psnr(s.blurry, s.sharp), 0) / testSet.length;
  const blurrySsim = testSet.reduce((a, s) => a + ssim(s.blurry, s.sharp), 0) / testSet.length;
  process.stderr.write('scoring the MAP core alone…\n');
  const mapAlone = await score(null, testSet);
  const baseScores = new Map<string, { psnr: number; ssim: number }>();
  for (const key of values.variants!.split(',')) {
    const v = VARIANTS[key];
    if (!v) throw new Error(`unknown variant ${key} (${Object.keys(VARIANTS).join(', ')})`);
    const base = v.base === 'proof' ? proof : shipped;
    if (!baseScores.has(base.id)) baseScores.set(base.id, await score(base.refiner, testSet));
    process.stderr.write(`${v.label}: adapting for ${iterations ? `${iterations} iterations` : `${minutes} min`}…\n`);
    const outcome = await runAdaptation(
      { blurryDir, sharpDir, name: key, minutes: iterations ? undefined : minutes, iterations },
      {
        base,
        runDir: path.join(work, 'runs', key),
        // The paired half only ever sees linear blur: what the refiner learns about realistic shake comes from the unpaired photos.
        config: { cropSize: Number(values.crop), ablations: v.ablations ?? {}, data: { recipes: { linear: 1, shake: 0, none: 0 } } },
        // Every variant trains on the same MAP results: made once, shared.
        guides: { cacheDir: path.join(work, 'map-results') },
        onStatus: (m) => process.stderr.write(`  ${m}\n`),
        onProgress: (p) => process.stderr.write(`\r  iteration ${p.iteration}, ${(p.iterationsPerSecond ?? 0).toFixed(2)} it/s`),
      },
    );
    process.stderr.write('\n');
    const file = path.join(work, `${key}.onnx`);
    await fs.writeFile(file, outcome.refinerOnnx);
    rows.push({ variant: key, label: v.label, iterations: outcome.iterations, before: baseScores.get(base.id)!, after: await score(file, testSet) });
  }
  await closeSessions();

  const fmt = (x: { psnr: number; ssim: number }) => `${x.psnr.toFixed(2)} / ${x.ssim.toFixed(4)}`;
  const lines = [
    `Adaptation proof: realistic-shake test set (${testSet.length} crops of 256×256), blurry input ${blurryPsnr.toFixed(2)} dB / ${blurrySsim.toFixed(4)}, MAP core alone ${fmt(mapAlone)}`,
    `budget ${iterations ? `${iterations} iterations` : `${minutes} min`} per variant on ${os.availableParallelism()} cores; unpaired library of ${values.library} realistic-shake photos (sharp originals never shown)`,
    '',
    '| variant | iterations | before PSNR / SSIM | after PSNR / SSIM | change |',
    '|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.label} | ${r.iterations} | ${fmt(r.before)} | ${fmt(r.after)} | ${r.after.psnr - r.before.psnr >= 0 ? '+' : ''}${(r.after.psnr - r.before.psnr).toFixed(2)} dB |`),
  ];
  process.stdout.write(lines.join('\n') + '\n');
  await writeFileAtomic(values.out!, JSON.stringify({ created: new Date().toISOString(), minutes: iterations ? null : minutes, iterations: iterations ?? null, blurry: { psnr: blurryPsnr, ssim: blurrySsim }, mapAlone, rows }, null, 1) + '\n');
  await fs.rm(work, { recursive: true, force: true });
}

main().catch((err) => {
  process.stderr.write(`eval:adapt: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
