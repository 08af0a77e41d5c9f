/**
 * One benchmark case in a fresh process, so its peak RSS is its own:
 *   node --import tsx tools/bench/run-one.ts <map|deblur|motion|maxim|editor> <photo> <learned-parts-json|model|crop|seconds>
 * Prints one JSON line: seconds end to end (decode → deblur → encode → write) and peak RSS.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { decodeImage, exportImage } from '../../src-main/engine/image/index.ts';
import { estimateMotion } from '../../src-main/engine/infer/motion.ts';
import { heatMap } from '../../src-main/engine/infer/motion-render.ts';
import { openSession } from '../../src-main/engine/infer/session.ts';
import { SessionProvider } from '../../src-main/engine/infer/session-provider.ts';
import { deblurPhotoFile } from '../../src-main/engine/jobs/deblur-photo.ts';
import { baseModelsDir } from '../../src-main/engine/paths.ts';
import { Studio } from '../../src-main/engine/studio/studio.ts';
import type { LearnedParts } from '../../src-main/engine/jobs/map-pipeline.ts';

const [what, photo, arg] = process.argv.slice(2);
const out = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'neurmap-bench-')), 'out.jpg');
let seconds: number;
let extra: Record<string, unknown> = {};
const sessions = new SessionProvider();

if (what === 'deblur') {
  await sessions.open(arg, 'deblur'); // session creation is once per app run, not per photo
  const t = performance.now();
  await deblurPhotoFile({ kind: 'network', models: { deblur: arg, deblurId: 'bench', motion: null, refiner: false } }, photo, out, { strength: 1, protectSharp: false, format: 'jpeg', quality: 92, overwrite: true, sessions });
  seconds = (performance.now() - t) / 1000;
} else if (what === 'map') {
  // arg: the learned parts as JSON ({"denoiser": file, "refiner": file}), or empty for the MAP core alone
  const parts = arg ? (JSON.parse(arg) as LearnedParts) : {};
  if (parts.refiner) await sessions.open(parts.refiner, 'refine');
  const t = performance.now();
  await deblurPhotoFile({ kind: 'map', parts }, photo, out, { strength: 1, protectSharp: false, format: 'jpeg', quality: 92, overwrite: true, sessions });
  seconds = (performance.now() - t) / 1000;
} else if (what === 'motion') {
  const session = await openSession(arg, { role: 'motion' });
  const t = performance.now();
  const decoded = await decodeImage(photo);
  const m = await estimateMotion(session, decoded.raster);
  await exportImage(heatMap(m.field).raster, null, { path: out, format: 'jpeg', overwrite: true });
  seconds = (performance.now() - t) / 1000;
} else if (what === 'maxim') {
  // The peer on one crop of `arg` px a side; the caller scales per megapixel.
  const { maximDeblur } = await import('../peer/maxim.ts');
  const side = Number(arg);
  const decoded = await decodeImage(photo);
  const img = { width: side, height: side, data: new Float32Array(3 * side * side) };
  for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) for (let c = 0; c < 3; c++) img.data[c * side * side + y * side + x] = decoded.raster.rgb[3 * (y * decoded.raster.width + x) + c] / 255;
  await maximDeblur({ ...img, width: 64, height: 64, data: img.data.slice(0, 3 * 64 * 64) }); // warm-up: kernel compilation
  const t = performance.now();
  await maximDeblur(img);
  seconds = (performance.now() - t) / 1000;
  extra = { cropMegapixels: (side * side) / 1e6 };
} else if (what === 'editor') {
  // The editor's one-click deblur through the Studio, as the app runs it: Deblur clicked `arg` seconds after the photo
  // opened (the analysis ahead runs meanwhile). Seconds from the click to the preview and to the result.
  const studio = new Studio({ userDataDir: await fs.mkdtemp(path.join(os.tmpdir(), 'neurmap-bench-user-')), modelsDir: baseModelsDir(), assetUrl: (p) => p });
  const info = await studio.openImage(photo);
  await new Promise((resolve) => setTimeout(resolve, 1000 * Number(arg)));
  let preview: number | null = null;
  studio.onJobEvent((e) => {
    if (e.previewUrl && preview === null) preview = (performance.now() - t) / 1000;
  });
  const t = performance.now();
  await studio.deblur(info.id, 'bench-deblur');
  seconds = (performance.now() - t) / 1000;
  extra = { previewSeconds: preview };
  await studio.dispose();
} else {
  throw new Error(`unknown case ${what}`);
}
await sessions.close();
process.stdout.write(JSON.stringify({ seconds, peakRssMB: process.resourceUsage().maxRSS / 1024, ...extra }) + '\n');
