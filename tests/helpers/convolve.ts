/** Direct (spatial) convolution of a plane with a kernel, edges replicated: the forward blur model k ⊛ x. */
import type { Kernel } from '../../src-main/engine/map/kernel.ts';

export function convolvePlane(src: Float32Array, w: number, h: number, k: Kernel): Float32Array {
  const out = new Float32Array(w * h);
  const n = k.size;
  const c = (n - 1) / 2;
  const taps: Array<[number, number, number]> = [];
  for (let ky = 0; ky < n; ky++) for (let kx = 0; kx < n; kx++) {
    const v = k.data[ky * n + kx];
    // blurry(x) = Σ k(d)·sharp(x − d)
    if (v !== 0) taps.push([kx - c, ky - c, v]);
  }
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (const [dx, dy, v] of taps) {
        const sx = Math.min(w - 1, Math.max(0, x - dx));
        const sy = Math.min(h - 1, Math.max(0, y - dy));
        s += v * src[sy * w + sx];
      }
      out[y * w + x] = s;
    }
  }
  return out;
}
