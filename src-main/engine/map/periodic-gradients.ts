/**
 * Finite differences on a periodic W×H plane, as the Fourier solvers of the half-quadratic loops see them: forward
 * differences D shrunk and taken back through their adjoint Dᵀ, and |Dx|² + |Dy|² per spectrum bin (fft2d.ts layout).
 */

/**
 * x ← Dᵀ s(D x) in place: the forward differences of x, shrunk by `shrink` (a half-quadratic w-step, given one row
 * of gx and gy at a time), then their adjoint (backward differences). Row by row, so x is read and written once.
 */
export function shrinkDifferences(x: Float32Array, W: number, H: number, shrink: (gx: Float32Array, gy: Float32Array) => void): void {
  const rowGradients = (r: number, gx: Float32Array, gy: Float32Array) => {
    const row = r * W;
    const down = ((r + 1) % H) * W - row;
    for (let i = row, c = 0; c < W - 1; c++, i++) {
      gx[c] = x[i + 1] - x[i];
      gy[c] = x[i + down] - x[i];
    }
    gx[W - 1] = x[row] - x[row + W - 1];
    gy[W - 1] = x[row + W - 1 + down] - x[row + W - 1];
    shrink(gx, gy);
  };
  // The last row wraps onto the first, which is overwritten first: its gradients are taken before.
  const lastGx = new Float32Array(W);
  const lastGy = new Float32Array(W);
  rowGradients(H - 1, lastGx, lastGy);
  let gx = new Float32Array(W);
  let gy = new Float32Array(W);
  let above = lastGy;
  for (let r = 0; r < H; r++) {
    if (r === H - 1) {
      gx = lastGx;
      gy = lastGy;
    } else rowGradients(r, gx, gy);
    const row = r * W;
    x[row] = gx[W - 1] - gx[0] + above[0] - gy[0];
    for (let c = 1; c < W; c++) x[row + c] = gx[c - 1] - gx[c] + above[c] - gy[c];
    // the row just done is the next row's upper neighbour; its buffer is free again after that
    const free = above === lastGy ? new Float32Array(W) : above;
    above = gy;
    gy = free;
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
