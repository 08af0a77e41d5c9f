/**
 * A linear blur along v looks the same as along −v, so motion is compared after flipping
 * every vector into the half-plane y ≥ 0 (NEURMAP.md's canonical sign).
 */
export function canonicalSign(u: number, v: number): [number, number] {
  // `0 - v` rather than `-v`: no negative zeros in the maps.
  return v < 0 || (v === 0 && u < 0) ? [-u, 0 - v] : [u, v];
}

/** Pixels of motion for one unit of the motion network's output (m = 1 is a blur of 20 px each way). */
export const MOTION_UNIT_PX = 20;
