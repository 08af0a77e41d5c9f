/**
 * Training data for the refiner G (training/train_refiner.py): synthetic blurry crops of the TRAIN split's photos (the
 * same synth and recipes as the eval sets, seeded by file name), each with the MAP core's output made by the
 * engine itself — exactly what G sees in the product. Writes, per crop, `<recipe>-<photo>.{sharp,blurry,map}.png`
 * and one line of training/data/map-cache/index.jsonl; crops already in the index are skipped, so a stopped run
 * resumes.
 *
 *   node --import tsx tools/refiner-cache/main.ts [--photos DIR] [--out DIR] [--skip N] [--limit N] [--crop 256] [--round R]
 *
 * --skip/--limit select a slice of the photos, so that two processes can share the work; --round R draws other
 * crops and blurs from the same photos (ids get "#R"), for more data than one crop per photo and recipe.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { appRoot } from '../../src-main/engine/paths.ts';
import type { FloatImage } from '../../src-main/engine/synth/float-image.ts';
import { buildTestSets, listPhotos } from '../eval/test-sets.ts';
import { mapDeblurFloat } from '../eval/run-map.ts';

const { values } = parseArgs({
  options: {
    photos: { type: 'string', default: path.join(appRoot, 'training', 'data', 'bundle', 'train') },
    out: { type: 'string', default: path.join(appRoot, 'training', 'data', 'map-cache') },
    skip: { type: 'string', default: '0' },
    limit: { type: 'string', default: '0' },
    crop: { type: 'string', default: '256' },
    round: { type: 'string', default: '0' },
  },
});

async function writePng(img: FloatImage, file: string): Promise<void> {
  const plane = img.width * img.height;
  const buf = Buffer.alloc(3 * plane);
  for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) buf[3 * i + c] = Math.round(Math.min(1, Math.max(0, img.data[c * plane + i])) * 255);
  const tmp = `${file}.tmp-${process.pid}`;
  await sharp(buf, { raw: { width: img.width, height: img.height, channels: 3 } }).png({ compressionLevel: 3 }).toFile(tmp);
  await fs.rename(tmp, file);
}

async function main(): Promise<void> {
  const limit = Number(values.limit);
  const skip = Number(values.skip);
  const photos = (await listPhotos(values.photos!)).slice(skip, limit > 0 ? skip + limit : undefined);
  const out = values.out!;
  await fs.mkdir(out, { recursive: true });
  const indexFile = path.join(out, 'index.jsonl');
  const done = new Set(
    (await fs.readFile(indexFile, 'utf8').catch(() => ''))
      .split('\n')
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as { id: string }).id),
  );
  const crop = Number(values.crop);
  const round = Number(values.round);
  for (const [n, photo] of photos.entries()) {
    for (const s of await buildTestSets([photo], { crop, margin: 32, round })) {
      const id = round ? `${s.id}#${round}` : s.id;
      if (done.has(id)) continue;
      const { out: map, seconds } = await mapDeblurFloat(s.blurry);
      const stem = path.join(out, `${s.id.replace('/', '-').replace(/\.[^.]+$/, '')}${round ? `-r${round}` : ''}`);
      await writePng(s.sharp, `${stem}.sharp.png`);
      await writePng(s.blurry, `${stem}.blurry.png`);
      await writePng(map, `${stem}.map.png`);
      const line = { id, recipe: s.recipe, stem: path.basename(stem), maxHalfExtentPx: s.maxHalfExtentPx, seconds };
      await fs.appendFile(indexFile, JSON.stringify(line) + '\n');
    }
    process.stderr.write(`${n + 1}/${photos.length} photos\n`);
  }
}

main().catch((err) => {
  process.stderr.write(`refiner-cache: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
