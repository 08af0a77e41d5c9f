/**
 * The data-term weight λ for a noise level: the noisier the photo, the more the prior must smooth. λ = 0.02/σ²,
 * measured on the eval sets (0.1/σ² rang on noisy shake, 0.006/σ² over-smoothed clean blur).
 */
export function dataWeight(noise: number): number {
  return Math.min(2000, Math.max(40, 0.02 / Math.max(noise, 1e-4) ** 2));
}
