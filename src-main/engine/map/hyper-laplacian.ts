/**
 * The hand-made image prior of the non-blind step: a hyper-Laplacian on gradients, Σ|∇x|^α (Krishnan & Fergus
 * 2009). Its half-quadratic w-step, argmin_w |w|^α + β/2 (w − v)², has no closed form for α = 0.8, so it is
 * tabulated once per β (Newton on the convex stationarity condition) and interpolated.
 */
const TABLE_MAX = 2;
const TABLE_STEPS = 4096;

export class HyperLaplacianShrink {
  private readonly tables = new Map<number, Float32Array>();
  constructor(readonly alpha = 0.8) {}

  /** Shrinks v in place for the given β. */
  apply(v: Float32Array, beta: number): void {
    const t = this.table(beta);
    const scale = TABLE_STEPS / TABLE_MAX;
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      const a = x < 0 ? -x : x;
      let w: number;
      if (a >= TABLE_MAX) w = a - (this.alpha / beta) * Math.pow(a, this.alpha - 1);
      else {
        const p = a * scale;
        const j = p | 0;
        const f = p - j;
        w = t[j] + f * (t[j + 1] - t[j]);
      }
      v[i] = x < 0 ? -w : w;
    }
  }

  private table(beta: number): Float32Array {
    const key = Math.round(beta * 1e4);
    let t = this.tables.get(key);
    if (!t) {
      t = new Float32Array(TABLE_STEPS + 2);
      for (let i = 0; i < t.length; i++) t[i] = this.solve((i * TABLE_MAX) / TABLE_STEPS, beta);
      this.tables.set(key, t);
    }
    return t;
  }

  private solve(v: number, beta: number): number {
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
