/**
 * Finite differences on a periodic W×H plane, as the Fourier solvers of the half-quadratic loops see them: |Dx|² + |Dy|²
 * per spectrum bin (fft2d.ts layout). The differences themselves are shrunk in the WebAssembly kernels.
 */

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
