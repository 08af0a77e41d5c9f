/**
 * Export writes atomically (temp file in the same folder, fsync, rename): a failure leaves neither
 * a partial target nor a temp file. It never writes over the source photo, writes over an existing
 * file only when asked, and says clearly when the folder cannot be written.
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { atomicWrite, createRaster, decodeImage, exportImage, type Raster } from '../../src-main/engine/image/index.ts';
import { writeError } from '../../src-main/engine/image/errors.ts';
import { canRunAsNobody, isRoot, noiseRgb8, rawSharp, runAsNobody, tempDir } from './helpers.ts';

const pick = (e: Error & { code?: string }) => ({ code: e.code, message: e.message });

function smallRaster(): Raster {
  const r = createRaster(24, 16, 8);
  r.rgb.set(noiseRgb8(24, 16));
  return r;
}

test('an encoder failure leaves no partial file and no temp file', async (t) => {
  const dir = tempDir(t);
  const target = join(dir, 'wide.webp');
  // WebP cannot hold more than 16383 pixels a side: libwebp refuses while the temp file is open
  const wide = createRaster(16400, 16, 8);
  await assert.rejects(exportImage(wide, null, { path: target, format: 'webp' }), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'too-large');
    assert.equal(e.message, 'wide.webp: the image is too large for WebP (16400×16; at most 16383 pixels a side)');
    return true;
  });
  assert.deepEqual(readdirSync(dir), [], 'nothing left behind');
});

test('atomic write: a producer that fails half-way leaves nothing; an existing target stays untouched', async (t) => {
  const dir = tempDir(t);
  const target = join(dir, 'photo.png');
  let tempSeen = '';
  await assert.rejects(
    atomicWrite(target, async (fh) => {
      await fh.write(Buffer.from('half an image'));
      tempSeen = readdirSync(dir).join(',');
      throw new Error('encoder crashed');
    }),
    /encoder crashed/,
  );
  assert.match(tempSeen, /^\.photo\.png\.tmp-[0-9a-f]{12}$/, 'the content went to a hidden temp file in the same folder');
  assert.deepEqual(readdirSync(dir), []);

  writeFileSync(target, 'original');
  await assert.rejects(
    atomicWrite(target, async (fh) => {
      await fh.write(Buffer.from('partial'));
      throw new Error('encoder crashed');
    }, { overwrite: true }),
    /encoder crashed/,
  );
  assert.equal(readFileSync(target, 'utf8'), 'original');
  assert.deepEqual(readdirSync(dir), ['photo.png']);

  const size = await atomicWrite(target, async (fh) => void (await fh.write(Buffer.from('replaced'))), { overwrite: true });
  assert.equal(size, 8);
  assert.equal(readFileSync(target, 'utf8'), 'replaced');
  assert.deepEqual(readdirSync(dir), ['photo.png']);
});

test('atomic write: the folder vanishing before the rename is a clear error, nothing is left', async (t) => {
  const dir = join(tempDir(t), 'exports');
  mkdirSync(dir);
  const target = join(dir, 'out.png');
  await assert.rejects(
    atomicWrite(target, async (fh) => {
      await fh.write(Buffer.from('data'));
      rmSync(dir, { recursive: true, force: true });
    }),
    (e: Error & { code?: string }) => {
      assert.equal(e.code, 'not-writable');
      assert.equal(e.message, `out.png: cannot write to the folder ${dir} (the folder does not exist)`);
      return true;
    },
  );
  assert.equal(existsSync(target), false);
});

test('an existing target is an error unless overwrite is asked', async (t) => {
  const dir = tempDir(t);
  const target = join(dir, 'photo.png');
  writeFileSync(target, 'keep me');
  await assert.rejects(exportImage(smallRaster(), null, { path: target, format: 'png' }), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'exists');
    assert.equal(e.message, 'photo.png: the file already exists (choose another name or allow overwriting)');
    return true;
  });
  assert.equal(readFileSync(target, 'utf8'), 'keep me');

  await exportImage(smallRaster(), null, { path: target, format: 'png', overwrite: true });
  const back = await decodeImage(target);
  assert.deepEqual([back.raster.width, back.raster.height], [24, 16]);
  assert.deepEqual(readdirSync(dir), ['photo.png']);
});

test('the source photo is never written over, whatever path leads to it', async (t) => {
  const dir = tempDir(t);
  const src = join(dir, 'IMG_0001.jpg');
  await rawSharp(noiseRgb8(24, 16), 24, 16, 3).jpeg().toFile(src);
  const original = readFileSync(src);
  const photo = await decodeImage(src);
  symlinkSync(src, join(dir, 'link.jpg'));
  linkSync(src, join(dir, 'hardlink.jpg'));
  for (const path of [src, join(dir, '.', 'sub', '..', 'IMG_0001.jpg'), join(dir, 'link.jpg'), join(dir, 'hardlink.jpg')]) {
    await assert.rejects(
      exportImage(photo.raster, photo.metadata, { path, format: 'jpeg', overwrite: true, sourcePath: src }),
      (e: Error & { code?: string }) => {
        assert.equal(e.code, 'same-as-source', path);
        assert.match(e.message, /: this is the original photo: choose another name \(the original is never overwritten\)$/);
        return true;
      },
    );
  }
  assert.deepEqual(readFileSync(src), original);
});

test('an output folder that cannot be written: a path under a regular file', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'notes.txt'), 'not a folder');
  const target = join(dir, 'notes.txt', 'out.png');
  await assert.rejects(exportImage(smallRaster(), null, { path: target, format: 'png' }), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'not-writable');
    assert.equal(e.message, `out.png: cannot write to the folder ${join(dir, 'notes.txt')} (part of that path is a file, not a folder)`);
    return true;
  });
});

test('an output folder that cannot be written: a folder that does not exist', async (t) => {
  const dir = tempDir(t);
  const target = join(dir, 'missing', 'out.png');
  await assert.rejects(exportImage(smallRaster(), null, { path: target, format: 'png' }), {
    code: 'not-writable',
    message: `out.png: cannot write to the folder ${join(dir, 'missing')} (the folder does not exist)`,
  });
});

test('an output folder that cannot be written: no write permission', { skip: process.platform === 'win32' }, async (t) => {
  const dir = tempDir(t);
  const locked = join(dir, 'read-only');
  mkdirSync(locked);
  chmodSync(locked, 0o555);
  const target = join(locked, 'out.png');
  try {
    // root writes anywhere, so as root the call runs in a child process as the user `nobody`;
    // where nobody cannot load this checkout, the errno mapping is checked with the error itself
    if (isRoot) chmodSync(dir, 0o755);
    const outcome =
      isRoot && canRunAsNobody()
        ? runAsNobody('export', { path: target })
        : isRoot
          ? (t.diagnostic('nobody cannot read this checkout: checking the EACCES mapping directly'),
            pick(writeError(target, Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' }))))
          : await exportImage(createRaster(16, 16, 8), null, { path: target, format: 'png' }).then(() => ({ ok: true }), pick);
    assert.deepEqual(outcome, { code: 'not-writable', message: `out.png: cannot write to the folder ${locked} (permission denied)` });
    assert.deepEqual(readdirSync(locked), []);
  } finally {
    chmodSync(locked, 0o755);
  }
});

test('a folder with the target’s name is not written over', async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'out.png'));
  await assert.rejects(exportImage(smallRaster(), null, { path: join(dir, 'out.png'), format: 'png', overwrite: true }), {
    code: 'not-writable',
    message: 'out.png: cannot write the file: a folder has that name',
  });
});

test('bad export arguments are refused before anything is written', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'x.jpg');
  await assert.rejects(exportImage(smallRaster(), null, { path, format: 'jpeg', quality: 0 }), { code: 'invalid-argument' });
  await assert.rejects(exportImage(smallRaster(), null, { path, format: 'gif' as never }), {
    code: 'unsupported',
    message: 'x.jpg: cannot export as "gif" (use jpeg, png, tiff or webp)',
  });
  const broken = { ...smallRaster(), rgb: new Uint8Array(5) };
  await assert.rejects(exportImage(broken, null, { path, format: 'jpeg' }), { code: 'invalid-argument' });
  assert.deepEqual(readdirSync(dir), []);
});
