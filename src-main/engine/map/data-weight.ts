/** The data-term weight λ for a noise level: the noisier the photo, the more the prior must smooth. */
export function dataWeight(noise: number): number {
  return Math.min(2000, Math.max(40, 0.1 / Math.max(noise, 1e-4) ** 2));
}
