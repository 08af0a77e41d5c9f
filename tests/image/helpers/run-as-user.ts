/**
 * Runs one pipeline call and prints its outcome as one JSON line; the tests start it as an
 * unprivileged user to meet real permission errors (root bypasses file permissions).
 *   node --import tsx run-as-user.ts decode '{"path": "…"}'
 *   node --import tsx run-as-user.ts export '{"path": "…"}'
 */
import { decodeImage, exportImage, createRaster } from '../../../src-main/engine/image/index.ts';

const [op, json] = process.argv.slice(2);
const args = JSON.parse(json ?? '{}') as { path: string };
try {
  if (op === 'decode') await decodeImage(args.path);
  else if (op === 'export') await exportImage(createRaster(16, 16, 8), null, { path: args.path, format: 'png' });
  else throw new Error(`unknown op ${op}`);
  console.log(JSON.stringify({ ok: true }));
} catch (e) {
  const err = e as { code?: string; message?: string };
  console.log(JSON.stringify({ code: err.code, message: err.message }));
}
