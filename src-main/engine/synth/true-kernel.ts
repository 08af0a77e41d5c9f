import type { OffsetField } from './offset-field.ts';

/** A blur kernel: odd side, row-major weights summing to 1, centre at zero shift (the MAP core's Kernel). */
export interface TrueKernel {
  size: number;
  data: Float32Array;
}

/**
 * The kernels a field applies at given pixels, in the convolution convention b = k ⊛ s that the MAP core
 * estimates: blurWithOffsets reads s(p + offset_k) bilinearly, so each step puts its bilinear weights at
 * −offset_k, and the K steps share the mass equally. The eval's oracle uses them to tell how much of a gap is the
 * kernel estimate's and how much the deconvolution's. Points near the border, where blurWithOffsets clamps, get
 * the unclamped kernel.
 */
export function trueKernelsAt(field: OffsetField, points: Array<[number, number]>): TrueKernel[] {
  const plane = field.width * field.height;
  const dx = new Float32Array(plane);
  const dy = new Float32Array(plane);
  const offsets = points.map(() => new Float32Array(2 * field.steps));
  for (let k = 0; k < field.steps; k++) {
    field.fill(k, dx, dy);
    points.forEach(([x, y], j) => {
      const i = y * field.width + x;
      offsets[j][2 * k] = dx[i];
      offsets[j][2 * k + 1] = dy[i];
    });
  }
  return offsets.map((o) => {
    let reach = 0;
    for (const v of o) reach = Math.max(reach, Math.abs(v));
    const r = Math.ceil(reach) + 1;
    const size = 2 * r + 1;
    const data = new Float32Array(size * size);
    for (let k = 0; k < field.steps; k++) {
      // −offset, then the bilinear weights of the four neighbours sampled
      const sx = o[2 * k];
      const sy = o[2 * k + 1];
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      for (const [ax, ay, w] of [[0, 0, (1 - fx) * (1 - fy)], [1, 0, fx * (1 - fy)], [0, 1, (1 - fx) * fy], [1, 1, fx * fy]] as const) {
        data[(r - (y0 + ay)) * size + r - (x0 + ax)] += w / field.steps;
      }
    }
    return { size, data };
  });
}
