/**
 * `npm run bench`: the FFT libraries side by side (the MAP core keeps the fastest), end-to-end seconds and peak
 * RSS for 1, 12 and 48 MP photos with the MAP core (the default deblur), G and M, the peer MAXIM (per megapixel,
 * from a crop: it is far too slow for whole photos here), and the in-app trainer's iteration rate. Targets on a
 * 2-core CPU: 12 MP MAP deblur ≤ 10 s with peak RSS ≤ 2 GB.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { appRoot, baseModelsDir } from '../../src-main/engine/paths.ts';
import { WORKING_SIDE } from '../../src-main/engine/map/blur-estimate.ts';
import { Rng, synthesizeSample } from '../../src-main/engine/synth/index.ts';
import { floatToRaster } from '../eval/run-networks.ts';
import { sharpToFloat } from '../eval/test-sets.ts';
import { timeFftJs, timeOrtDft, timePffft, type FftTiming } from './fft-candidates.ts';

const { values } = parseArgs({ options: { sizes: { type: 'string', default: '1,12,48' }, 'skip-peer': { type: 'boolean', default: false }, 'skip-training': { type: 'boolean', default: false } } });

const SIZES: Record<string, [number, number]> = { '1': [1152, 864], '12': [4032, 3024], '48': [8064, 6048] };
const models = baseModelsDir();
const work = await fs.mkdtemp(path.join(os.tmpdir(), 'neurmap-bench-'));

function runCase(what: string, photo: string, arg: string): { seconds: number; peakRssMB: number; cropMegapixels?: number; previewSeconds?: number | null } {
  const out = execFileSync(process.execPath, ['--import', 'tsx', path.join(appRoot, 'tools', 'bench', 'run-one.ts'), what, photo, arg], { encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(out.trim().split('\n').at(-1)!);
}

/** The synth's draw of a camera shake for the bench photos (a 3.3 px half-extent at the working resolution). */
const SHAKE_SEED = 1;

/**
 * A camera-shake photo of the given size: the sharp sample at the working resolution, blurred by the eval's uniform
 * shake recipe, then scaled to the size. The MAP core must find a blur to do its full work: the shake sample scaled
 * up 6.7× is a blur its two estimates disagree on, which the guard leaves as shot.
 */
async function benchPhoto(mp: string): Promise<string> {
  const [w, h] = SIZES[mp];
  const file = path.join(work, `photo-${mp}mp.jpg`);
  const ww = WORKING_SIDE;
  const wh = Math.round((WORKING_SIDE * h) / w);
  const img = await sharpToFloat(sharp(path.join(appRoot, 'resources', 'samples', 'coffee-sharp.jpg')).resize(ww, wh, { fit: 'fill' }));
  const { blurry } = await synthesizeSample(img, 'uniform', new Rng(SHAKE_SEED));
  await sharp(floatToRaster(blurry).rgb, { raw: { width: ww, height: wh, channels: 3 } }).resize(w, h, { fit: 'fill' }).jpeg({ quality: 92 }).toFile(file);
  return file;
}

const cpu0 = `${os.cpus()[0]?.model ?? 'CPU'}, one thread`;
const ffts: FftTiming[] = [];
for (const [w, h] of [[1024, 1024], [2048, 1536]] as const) {
  process.stderr.write(`FFTs at ${w}×${h}…\n`);
  ffts.push(await timePffft(w, h), await timeFftJs(w, h), await timeOrtDft(w, h));
}
const fftRows = [['library', 'size', 'ms (forward + inverse)'], ['---', '---', '---'], ...ffts.map((f) => [f.library, `${f.width}×${f.height}`, f.ms.toFixed(1)])];
process.stdout.write(`2-D real FFT of one plane on ${cpu0}\n\n${fftRows.map((r) => `| ${r.join(' | ')} |`).join('\n')}\n\n`);

const rows: string[][] = [];
const cpu = `${os.cpus()[0]?.model ?? 'CPU'} × ${os.availableParallelism()}`;
for (const mp of values.sizes!.split(',')) {
  if (!SIZES[mp]) throw new Error(`unknown size ${mp} (1, 12 or 48)`);
  const photo = await benchPhoto(mp);
  const [w, h] = SIZES[mp];
  process.stderr.write(`MAP core on ${mp} MP…\n`);
  const m = runCase('map', photo, '');
  rows.push(['MAP core (hand-made prior)', `${mp} MP (${w}×${h})`, m.seconds.toFixed(2), (m.seconds / ((w * h) / 1e6)).toFixed(3), m.peakRssMB.toFixed(0), 'estimate + deconvolution, all cores']);
  // The analysis ahead (estimate, then preview) takes about 9 s for 12 MP on 2 cores.
  for (const [when, label] of [['0', 'clicked as the photo opens'], ['15', 'clicked 15 s after it opened']] as const) {
    process.stderr.write(`Editor deblur on ${mp} MP, ${label}…\n`);
    const e = runCase('editor', photo, when);
    rows.push([`Editor: Deblur (${label})`, `${mp} MP (${w}×${h})`, `preview ${e.previewSeconds == null ? '—' : e.previewSeconds.toFixed(2)}, result ${e.seconds.toFixed(2)}`, (e.seconds / ((w * h) / 1e6)).toFixed(3), e.peakRssMB.toFixed(0), 'from the click: the display-sized preview, then the full resolution']);
  }
  const denoiser = path.join(models, 'denoiser.onnx');
  const refiner = path.join(models, 'refiner.onnx');
  const has = async (f: string) => fs.access(f).then(() => true, () => false);
  for (const [label, parts] of [
    ['MAP + learned prior', { denoiser }],
    ['MAP + refiner', { refiner }],
    ['MAP + learned prior + refiner', { denoiser, refiner }],
  ] as const) {
    if (!(await Promise.all(Object.values(parts).map(has))).every(Boolean)) continue;
    process.stderr.write(`${label} on ${mp} MP…\n`);
    const r = runCase('map', photo, JSON.stringify(parts));
    rows.push([label, `${mp} MP (${w}×${h})`, r.seconds.toFixed(2), (r.seconds / ((w * h) / 1e6)).toFixed(3), r.peakRssMB.toFixed(0), '']);
  }
  for (const [label, what, file] of [
    ['G fast (deblur.onnx)', 'deblur', 'deblur.onnx'],
    ['G fine (deblur-fine.onnx)', 'deblur', 'deblur-fine.onnx'],
    ['M (motion.onnx)', 'motion', 'motion.onnx'],
  ] as const) {
    const model = path.join(models, file);
    if (!(await fs.access(model).then(() => true, () => false))) continue;
    process.stderr.write(`${label} on ${mp} MP…\n`);
    const r = runCase(what, photo, model);
    rows.push([label, `${mp} MP (${w}×${h})`, r.seconds.toFixed(2), (r.seconds / ((w * h) / 1e6)).toFixed(3), r.peakRssMB.toFixed(0), '']);
  }
}

if (!values['skip-peer']) {
  process.stderr.write('MAXIM (peer) on a 256×256 crop…\n');
  const photo = await benchPhoto('1');
  const r = runCase('maxim', photo, '256');
  const perMp = r.seconds / r.cropMegapixels!;
  const fast = rows.find((row) => row[0].startsWith('G fast') && row[1].startsWith('12 MP'));
  const ratio = fast ? ` (${(perMp / Number(fast[3])).toFixed(0)}× slower than G fast)` : '';
  rows.push(['MAXIM (peer, tfjs WASM)', '256×256 crop, scaled per MP', `${(perMp * 12.19).toFixed(0)} (12 MP est.)`, perMp.toFixed(1), r.peakRssMB.toFixed(0), `network only${ratio}`]);
}

const header = ['pipeline', 'photo', 'seconds end to end', 's / MP', 'peak RSS MB', 'note'];
const table = [header, header.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
process.stdout.write(`Deblurring on ${cpu} (networks: ONNX Runtime CPU provider)\n\n${table}\n`);

if (!values['skip-training']) {
  const bench = path.join(appRoot, 'tools', 'bench', 'training.ts');
  if (await fs.access(bench).then(() => true, () => false)) {
    process.stdout.write('\nIn-app training (NeurMAP iteration: M, D and G updates), batch 4 of 128×128 crops:\n\n');
    process.stdout.write(execFileSync(process.execPath, ['--import', 'tsx', bench], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }));
  }
}
await fs.rm(work, { recursive: true, force: true });
