/**
 * The hand-made image prior of the non-blind step: a hyper-Laplacian on gradients, Σ|∇x|^α (Krishnan & Fergus
 * 2009). Its half-quadratic w-step, argmin_w |w|^α + β/2 (w − v)², has no closed form for α = 0.8, so it is
 * tabulated once per β (Newton on the convex stationarity condition); the MAP core's kernels interpolate the table
 * (map-kernels.ts).
 */
const TABLE_MAX = 2;
const TABLE_STEPS = 4096;

/** The w-step for one β: w(v) for |v| in [0, max) at `scale` steps per unit; zero below `zeroBelow`. */
export interface ShrinkStep {
  table: Float32Array;
  scale: number;
  max: number;
  /** Values whose interpolation reads only zero steps of the table. */
  zeroBelow: number;
}

export class HyperLaplacianShrink {
  private readonly steps = new Map<number, ShrinkStep>();
  readonly tableLength = TABLE_STEPS + 2;
  constructor(readonly alpha = 0.8) {}

  step(beta: number): ShrinkStep {
    const key = Math.round(beta * 1e4);
    let step = this.steps.get(key);
    if (!step) {
      const table = new Float32Array(this.tableLength);
      for (let i = 0; i < table.length; i++) table[i] = this.solve((i * TABLE_MAX) / TABLE_STEPS, beta);
      let first = 0;
      while (first < table.length && table[first] === 0) first++;
      const scale = TABLE_STEPS / TABLE_MAX;
      // a value v reads steps j = ⌊v·scale⌋ and j + 1, both zero while j + 1 < first
      step = { table, scale, max: TABLE_MAX, zeroBelow: Math.max(0, (first - 1) / scale) };
      this.steps.set(key, step);
    }
    return step;
  }

  /** The w-step's exact minimiser for v ≥ 0. */
  solve(v: number, beta: number): number {
    const a = this.alpha;
    if (v <= 0) return 0;
    // g(w) = a·w^(a−1) + β(w − v) is convex on w > 0: Newton from w = v descends to its larger root if there is one.
    let w = v;
    for (let it = 0; it < 30; it++) {
      const g = a * Math.pow(w, a - 1) + beta * (w - v);
      const dg = a * (a - 1) * Math.pow(w, a - 2) + beta;
      if (dg <= 0) return 0;
      const next = w - g / dg;
      if (!(next > 0)) return 0;
      if (Math.abs(next - w) < 1e-7) {
        w = next;
        break;
      }
      w = next;
    }
    const cost = Math.pow(w, a) + 0.5 * beta * (w - v) * (w - v);
    return cost < 0.5 * beta * v * v ? w : 0;
  }
}
