/**
 * Strength blending on the preview, without re-running the network:
 *   out = before + s · (after − before), clipped to [0, 255], for s in [0, 2].
 * `delta` (after − before) is computed once per result; each strength change is one pass.
 */
export function makeDelta(before: Uint8ClampedArray, after: Uint8ClampedArray): Int16Array {
  if (before.length !== after.length) throw new Error('before and after differ in size');
  const d = new Int16Array(before.length);
  for (let i = 0; i < before.length; i++) d[i] = after[i] - before[i];
  return d;
}

/** Writes the blend into `out` (RGBA, same layout as `before`); alpha is copied from `before`. */
export function blendInto(out: Uint8ClampedArray, before: Uint8ClampedArray, delta: Int16Array, strength: number): void {
  const s = Math.max(0, Math.min(2, strength));
  for (let i = 0; i < before.length; i += 4) {
    out[i] = before[i] + s * delta[i]; // Uint8ClampedArray rounds and clips
    out[i + 1] = before[i + 1] + s * delta[i + 1];
    out[i + 2] = before[i + 2] + s * delta[i + 2];
    out[i + 3] = before[i + 3];
  }
}
