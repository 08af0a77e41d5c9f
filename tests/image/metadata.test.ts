/**
 * Metadata: the EXIF summary a photo shows, and everything export keeps — EXIF (camera, lens,
 * exposure, dates, GPS), ICC profile, XMP and DPI — read back from the written files with exifr
 * and sharp, with Orientation 1 since the pixels are upright.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import exifr from 'exifr';
import sharp from 'sharp';
import { decodeImage, exportImage, iccDescription, readPhotoMetadata } from '../../src-main/engine/image/index.ts';
import { FIXTURES, gradientRgb8, rawSharp, tempDir } from './helpers.ts';

const XMP = `<?xpacket begin="\uFEFF" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:xmp="http://ns.adobe.com/xap/1.0/">
<dc:title><rdf:Alt><rdf:li xml:lang="x-default">Harbour at dusk</rdf:li></rdf:Alt></dc:title><xmp:Rating>4</xmp:Rating>
</rdf:Description></rdf:RDF></x:xmpmeta>
<?xpacket end="w"?>`;

const CAMERA_EXIF = {
  IFD0: { Make: 'Fujifilm', Model: 'X-T5', Artist: 'Ada', Copyright: 'CC BY 4.0' },
  IFD2: {
    ExposureTime: '1/250',
    FNumber: '28/10',
    ISOSpeedRatings: '800',
    FocalLength: '35/1',
    FocalLengthIn35mmFilm: '53',
    LensModel: 'XF35mmF1.4 R',
    DateTimeOriginal: '2024:05:06 07:08:09',
    OffsetTimeOriginal: '+02:00',
  },
  IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '48/1 6/1 0/1', GPSLongitudeRef: 'E', GPSLongitude: '11/1 30/1 0/1' },
};

/** A camera-like JPEG: EXIF with GPS, Display P3 profile, XMP, 300 DPI, stored rotated (Orientation 6). */
async function cameraJpeg(dir: string): Promise<string> {
  const file = join(dir, 'camera.jpg');
  await rawSharp(gradientRgb8(48, 32), 48, 32, 3)
    .withMetadata({ orientation: 6, density: 300 })
    .withIccProfile('p3')
    .withExifMerge(CAMERA_EXIF)
    .withXmp(XMP)
    .jpeg({ quality: 95 })
    .toFile(file);
  return file;
}

test('the EXIF summary of a camera photo', async (t) => {
  const dir = tempDir(t);
  const file = await cameraJpeg(dir);
  const photo = await decodeImage(file);
  assert.deepEqual(photo.metadata.summary, {
    make: 'Fujifilm',
    model: 'X-T5',
    lens: 'XF35mmF1.4 R',
    exposureTime: 1 / 250,
    fNumber: 2.8,
    iso: 800,
    focalLength: 35,
    focalLength35mm: 53,
    dateTaken: '2024-05-06T07:08:09+02:00',
    orientation: 6,
    hasGps: true,
  });
  assert.equal(photo.metadata.density, 300);
  assert.match(iccDescription(photo.metadata.icc!), /P3/);
  assert.match(photo.metadata.xmp!.toString('utf8'), /Harbour at dusk/);
  assert.deepEqual(await readPhotoMetadata(file), photo.metadata, 'reading metadata alone gives the same');
});

test('a photo without EXIF has an empty summary', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'plain.png');
  await rawSharp(gradientRgb8(32, 32), 32, 32, 3).png().toFile(file);
  const { metadata } = await decodeImage(file);
  assert.deepEqual(metadata.summary, { orientation: 1, hasGps: false });
  assert.equal(metadata.exif, null);
  assert.equal(metadata.icc, null);
  assert.equal(metadata.xmp, null);
});

for (const format of ['jpeg', 'png', 'tiff', 'webp'] as const) {
  test(`export keeps EXIF, ICC, XMP and DPI (${format}), with Orientation 1`, async (t) => {
    const dir = tempDir(t);
    const src = await cameraJpeg(dir);
    const photo = await decodeImage(src);
    const out = join(dir, `out.${format}`);
    const res = await exportImage(photo.raster, photo.metadata, { path: out, format, sourcePath: src });
    assert.deepEqual(res.warnings, []);

    // exifr reads JPEG, PNG and TIFF files; for WebP it is handed the EXIF chunk sharp finds
    const opts = { tiff: true, exif: true, gps: true, translateValues: false, reviveValues: false };
    const tags = format === 'webp' ? await exifr.parse((await sharp(out).metadata()).exif!, opts) : await exifr.parse(out, opts);
    assert.equal(tags.Make, 'Fujifilm');
    assert.equal(tags.Model, 'X-T5');
    assert.equal(tags.Artist, 'Ada');
    assert.equal(tags.Copyright, 'CC BY 4.0');
    assert.equal(tags.LensModel, 'XF35mmF1.4 R');
    assert.equal(tags.ExposureTime, 1 / 250);
    assert.equal(tags.FNumber, 2.8);
    assert.equal(tags.ISO, 800);
    assert.equal(tags.FocalLength, 35);
    assert.equal(tags.DateTimeOriginal, '2024:05:06 07:08:09');
    assert.equal(tags.OffsetTimeOriginal, '+02:00');
    assert.deepEqual(tags.GPSLatitude, [48, 6, 0]);
    assert.deepEqual(tags.GPSLongitude, [11, 30, 0]);
    assert.equal(tags.Orientation, 1, 'orientation reset: the pixels are upright');
    if (format !== 'tiff') {
      assert.equal(tags.ExifImageWidth, 32, 'EXIF pixel size is the upright size');
      assert.equal(tags.ExifImageHeight, 48);
    }

    const meta = await sharp(out).metadata();
    assert.deepEqual([meta.width, meta.height], [32, 48]);
    assert.ok(meta.icc, 'ICC profile present');
    assert.equal(Buffer.compare(meta.icc, photo.metadata.icc!), 0, 'the same ICC profile, byte for byte');
    assert.ok(meta.xmp, 'XMP present');
    assert.match(meta.xmp.toString('utf8'), /Harbour at dusk/);
    if (format !== 'webp') assert.equal(meta.density, 300, 'DPI kept'); // WebP has no DPI field; EXIF carries it
    assert.equal(tags.XResolution, 300);

    // and the app reads back what it wrote
    const back = await decodeImage(out);
    assert.equal(back.source.orientation, 1);
    assert.equal(back.metadata.summary.make, 'Fujifilm');
    assert.equal(back.metadata.summary.hasGps, true);
  });
}

test('JPEG to JPEG: the EXIF blob travels byte for byte apart from the patched fields', async (t) => {
  const dir = tempDir(t);
  const src = await cameraJpeg(dir);
  const photo = await decodeImage(src);
  const out = join(dir, 'out.jpg');
  await exportImage(photo.raster, photo.metadata, { path: out, format: 'jpeg' });
  const back = await decodeImage(out);
  assert.equal(back.metadata.exif!.length, photo.metadata.exif!.length);
  let differing = 0;
  for (let i = 0; i < back.metadata.exif!.length; i++) if (back.metadata.exif![i] !== photo.metadata.exif![i]) differing++;
  assert.ok(differing <= 12, `only orientation, pixel size and the thumbnail link change (${differing} bytes)`);
});

test('TIFF sources: EXIF kept in the file’s own directories is found and exported', async (t) => {
  const dir = tempDir(t);
  const jpg = await cameraJpeg(dir);
  const photo = await decodeImage(jpg);
  const tif = join(dir, 'camera.tif');
  await exportImage(photo.raster, photo.metadata, { path: tif, format: 'tiff' });
  const fromTiff = await decodeImage(tif);
  assert.equal(fromTiff.metadata.summary.make, 'Fujifilm');
  assert.equal(fromTiff.metadata.summary.iso, 800);
  assert.equal(fromTiff.metadata.summary.hasGps, true);
  const png = join(dir, 'again.png');
  await exportImage(fromTiff.raster, fromTiff.metadata, { path: png, format: 'png' });
  const tags = await exifr.parse(png, { tiff: true, exif: true, gps: true });
  assert.equal(tags.Model, 'X-T5');
  assert.equal(tags.LensModel, 'XF35mmF1.4 R');
  assert.equal(tags.latitude, 48.1);
});

test('HEIC: EXIF summary, and a Display P3 nclx box becomes a P3 ICC profile', async () => {
  const photo = await decodeImage(join(FIXTURES, 'iphone-irot-p3.heic'));
  assert.equal(photo.metadata.summary.make, 'Apple');
  assert.equal(photo.metadata.summary.model, 'iPhone 15 Pro');
  assert.equal(photo.metadata.summary.iso, 64);
  assert.equal(photo.metadata.summary.exposureTime, 1 / 120);
  assert.equal(photo.metadata.summary.dateTaken, '2024-05-06T07:08:09+02:00');
  assert.equal(photo.metadata.summary.hasGps, true);
  assert.ok(photo.metadata.icc);
  assert.match(iccDescription(photo.metadata.icc), /P3/);
});

test('HEIC to JPEG keeps the camera EXIF and writes Orientation 1', async (t) => {
  const dir = tempDir(t);
  const src = join(FIXTURES, 'iphone-irot-p3.heic');
  const photo = await decodeImage(src);
  const out = join(dir, 'iphone.jpg');
  await exportImage(photo.raster, photo.metadata, { path: out, format: 'jpeg', sourcePath: src });
  const tags = await exifr.parse(out, { tiff: true, exif: true, gps: true, translateValues: false });
  assert.equal(tags.Make, 'Apple');
  assert.equal(tags.Orientation, 1);
  const meta = await sharp(out).metadata();
  assert.deepEqual([meta.width, meta.height], [48, 64]);
  assert.match(iccDescription(meta.icc!), /P3/);
});
