/**
 * Finite differences on a periodic W×H plane, as the Fourier solvers of the half-quadratic loops see them: |Dx|² + |Dy|²
 * per spectrum bin (fft2d.ts layout). The differences themselves are shrunk in the WebAssembly kernels.
 */

/**
 * |Dx|² + |Dy|² of the forward differences at bin (kx, ky), by its column and row parts, so that no spectrum-sized
 * plane of it is kept: float32(columns[kx] − rows[ky]) in the kernels (map-kernels.ts).
 */
export function gradientPowerParts(W: number, H: number): { columns: Float64Array; rows: Float64Array } {
  const columns = Float64Array.from({ length: W / 2 + 1 }, (_, kx) => 2 - 2 * Math.cos((2 * Math.PI * kx) / W) + 2);
  const rows = Float64Array.from({ length: H }, (_, ky) => 2 * Math.cos((2 * Math.PI * ky) / H));
  return { columns, rows };
}
