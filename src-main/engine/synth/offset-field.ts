/**
 * Where each of a blur's K exposure steps sees each pixel: offsets_k(p) in pixels (dx, dy).
 * Fields are produced one step at a time so memory stays O(H·W) whatever K is.
 */
export interface OffsetField {
  width: number;
  height: number;
  steps: number;
  /** Writes step k's per-pixel offsets (row-major H·W) into dx and dy. */
  fill(k: number, dx: Float32Array, dy: Float32Array): void;
}

/** t_k = linspace(+1, −1, K): the sampling positions of a symmetric linear blur (R's 15 steps use the same). */
export function stepPosition(k: number, steps: number): number {
  return steps === 1 ? 0 : 1 - (2 * k) / (steps - 1);
}

/** A spatially varying linear blur: offsets_k(p) = t_k · f(p), f the half-extent in pixels. */
export function linearOffsetField(width: number, height: number, fx: Float32Array, fy: Float32Array, steps: number): OffsetField {
  return {
    width,
    height,
    steps,
    fill(k, dx, dy) {
      const t = stepPosition(k, steps);
      for (let i = 0; i < fx.length; i++) {
        dx[i] = t * fx[i];
        dy[i] = t * fy[i];
      }
    },
  };
}

export interface TrajectoryPoint {
  x: number;
  y: number;
  /** In-plane rotation in radians about the image centre. */
  theta: number;
}

/** Camera shake: offsets_k(p) = R(θ_k)(p − c) + c + (x_k, y_k) − p, c the image centre. */
export function trajectoryOffsetField(width: number, height: number, path: TrajectoryPoint[]): OffsetField {
  const cx = (width - 1) / 2;
  const cy = (height - 1) / 2;
  return {
    width,
    height,
    steps: path.length,
    fill(k, dx, dy) {
      const { x: tx, y: ty, theta } = path[k];
      const cos = Math.cos(theta);
      const sin = Math.sin(theta);
      for (let y = 0, i = 0; y < height; y++) {
        const ry = y - cy;
        for (let x = 0; x < width; x++, i++) {
          const rx = x - cx;
          dx[i] = cos * rx - sin * ry + cx + tx - x;
          dy[i] = sin * rx + cos * ry + cy + ty - y;
        }
      }
    },
  };
}

/** Offsets given as a K×H×W×2 array (dx, dy), as training/ writes its parity fixture. */
export function arrayOffsetField(width: number, height: number, steps: number, offsets: Float32Array): OffsetField {
  if (offsets.length !== steps * height * width * 2) throw new Error(`offsets hold ${offsets.length} values, expected ${steps}×${height}×${width}×2`);
  return {
    width,
    height,
    steps,
    fill(k, dx, dy) {
      const base = k * width * height * 2;
      for (let i = 0; i < width * height; i++) {
        dx[i] = offsets[base + 2 * i];
        dy[i] = offsets[base + 2 * i + 1];
      }
    },
  };
}
