/**
 * Finite differences on a periodic W×H plane, as the Fourier solvers of the half-quadratic loops see them: forward
 * differences D, their adjoint Dᵀ, and |Dx|² + |Dy|² per spectrum bin (fft2d.ts layout).
 */

/** gx, gy ← forward differences of x (wrapping at the edges). */
export function forwardDifferences(x: Float32Array, gx: Float32Array, gy: Float32Array, W: number, H: number): void {
  for (let r = 0; r < H; r++) {
    const row = r * W;
    const down = ((r + 1) % H) * W;
    for (let c = 0; c < W; c++) {
      const i = row + c;
      gx[i] = x[row + (c + 1 === W ? 0 : c + 1)] - x[i];
      gy[i] = x[down + c] - x[i];
    }
  }
}

/** out ← Dxᵀ gx + Dyᵀ gy (backward differences). */
export function adjointDifferences(gx: Float32Array, gy: Float32Array, out: Float32Array, W: number, H: number): void {
  for (let r = 0; r < H; r++) {
    const row = r * W;
    const up = ((r + H - 1) % H) * W;
    for (let c = 0; c < W; c++) {
      const i = row + c;
      out[i] = gx[row + (c === 0 ? W - 1 : c - 1)] - gx[i] + gy[up + c] - gy[i];
    }
  }
}

/** |Dx|² + |Dy|² of the forward differences, per spectrum bin. */
export function gradientPower(W: number, H: number): Float32Array {
  const cols = W / 2 + 1;
  const out = new Float32Array(cols * H);
  for (let kx = 0; kx < cols; kx++) {
    const px = 2 - 2 * Math.cos((2 * Math.PI * kx) / W);
    for (let ky = 0; ky < H; ky++) out[kx * H + ky] = px + 2 - 2 * Math.cos((2 * Math.PI * ky) / H);
  }
  return out;
}
