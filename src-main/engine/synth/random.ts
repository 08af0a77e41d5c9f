/** Seeded randomness for synthetic blur: every choice in a data set or eval set is reproducible from one seed. */
export class Rng {
  private state: number;
  private spareNormal: number | null = null;

  constructor(seed: number) {
    this.state = seed >>> 0 || 0x9e3779b9;
  }

  /** Uniform in [0, 1): mulberry32, small and good enough for data synthesis. */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  int(lo: number, hiExclusive: number): number {
    return lo + Math.floor(this.next() * (hiExclusive - lo));
  }

  normal(): number {
    if (this.spareNormal !== null) {
      const v = this.spareNormal;
      this.spareNormal = null;
      return v;
    }
    const u = Math.max(this.next(), 1e-12);
    const r = Math.sqrt(-2 * Math.log(u));
    const a = 2 * Math.PI * this.next();
    this.spareNormal = r * Math.sin(a);
    return r * Math.cos(a);
  }

  /** The state, for checkpoints that must resume the same stream. */
  snapshot(): { state: number; spareNormal: number | null } {
    return { state: this.state, spareNormal: this.spareNormal };
  }

  static restore(s: { state: number; spareNormal: number | null }): Rng {
    const r = new Rng(1);
    r.state = s.state >>> 0;
    r.spareNormal = s.spareNormal;
    return r;
  }
}
