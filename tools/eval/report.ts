/** The eval table: one row per method, PSNR/SSIM per set, plus the per-bin gains, M's error and speed. */
export interface MethodScores {
  /** Sums per recipe (divide by count). */
  psnr: Record<string, number>;
  ssim: Record<string, number>;
  count: Record<string, number>;
  /** PSNR gain over the blurry input per set and largest half-extent, keyed `set|bin`. */
  binGain: Record<string, { sum: number; n: number }>;
  /** The lowest gain of any one crop per set (a method must not ruin a photo to win on average). */
  worstGain?: Record<string, number>;
  /** The lowest PSNR of any no-blur crop against its input (capped at 100 dB: unchanged). */
  worstNonePsnr?: number;
  /** The crop ids a method ran on when it ran on a subset (the slow peer). */
  subset?: string[];
}

export interface EvalReport {
  created: string;
  photos: number;
  crop: number;
  fingerprint: string;
  samples: Record<string, number>;
  methods: Record<string, MethodScores>;
  /** Mean end-point error of M in px per set (blur up to 20 px half-extent). */
  motion: Record<string, number> | null;
  /** The same for the motion the MAP core's kernels imply (the motion view's); absent in runs before it was scored. */
  mapMotion?: Record<string, number>;
  secondsPerMegapixel: Record<string, number>;
  /** When the peer's numbers were reused from an earlier run on identical crops. */
  peerFrom?: string;
}

const SETS = ['linear', 'uniform', 'shake', 'none'];
const BLURRED_SETS = ['linear', 'uniform', 'shake'];
const BINS = ['<5 px', '5-10 px', '10-20 px', '>=20 px'];

export function formatReport(r: EvalReport): string {
  const lines: string[] = [];
  lines.push(`Held-out synthetic sets: ${r.samples.linear} test photos, ${r.crop}×${r.crop} crops (${SETS.map((s) => `${s} ${r.samples[s]}`).join(', ')})`);
  lines.push('');
  lines.push(`| method | ${SETS.map((s) => `${s} PSNR / SSIM`).join(' | ')} | s/MP |`);
  lines.push(`|---|${SETS.map(() => '---').join('|')}|---|`);
  // The whole sets first, then the peer's subset, each starting with its blurry input.
  const rows = Object.entries(r.methods).sort(([a, ma], [b, mb]) => Number(!!ma.subset) - Number(!!mb.subset) || Number(!a.startsWith('blurry')) - Number(!b.startsWith('blurry')));
  for (const [name, m] of rows) {
    // Methods run on the peer's subset compare with the blurry input on that subset.
    const base = m.subset ? r.methods["blurry input (MAXIM's crops)"] : r.methods['blurry input'];
    const cells = SETS.map((s) => {
      if (!m.count[s]) return '–';
      const p = meanPsnr(m, s);
      const b = base?.count[s] ? meanPsnr(base, s) : NaN;
      // On the no-blur set the input is the target itself (∞ dB): the output's PSNR against it is the measure.
      const gain = !name.startsWith('blurry input') && Number.isFinite(b) ? ` (${signed(p - b)})` : '';
      return `${Number.isFinite(p) ? p.toFixed(2) : '∞'} / ${(m.ssim[s] / m.count[s]).toFixed(4)}${gain}`;
    });
    const speed = r.secondsPerMegapixel[name];
    const note = m.subset ? ` (${m.subset.length} crops)` : '';
    lines.push(`| ${name}${note} | ${cells.join(' | ')} | ${speed === undefined ? '–' : speed.toFixed(2)} |`);
  }
  lines.push('');
  lines.push(`PSNR gain over the blurry input by set and largest blur half-extent (crops in brackets), and the worst crop:`);
  lines.push(`| method | set | ${BINS.join(' | ')} | worst crop |`);
  lines.push(`|---|---|${BINS.map(() => '---').join('|')}|---|`);
  for (const [name, m] of Object.entries(r.methods)) {
    if (name.startsWith('blurry input')) continue;
    for (const set of BLURRED_SETS) {
      if (!m.count[set]) continue;
      const cells = BINS.map((b) => {
        const g = m.binGain[`${set}|${b}`];
        return g?.n ? `${signed(g.sum / g.n)} (${g.n})` : '–';
      });
      const worst = m.worstGain?.[set];
      lines.push(`| ${name} | ${set} | ${cells.join(' | ')} | ${worst === undefined ? '–' : signed(worst)} |`);
    }
  }
  const worstNone = Object.entries(r.methods).filter(([name, m]) => !name.startsWith('blurry input') && m.worstNonePsnr !== undefined && !m.subset);
  if (worstNone.length) {
    lines.push('');
    lines.push(`No-blur set, the lowest crop's PSNR against the input (100 = untouched): ${worstNone.map(([name, m]) => `${name} ${m.worstNonePsnr!.toFixed(2)} dB`).join(', ')}`);
  }
  const epe = (m: Record<string, number>) => Object.entries(m).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ');
  if (r.mapMotion || r.motion) lines.push('');
  if (r.mapMotion) lines.push(`Motion end-point error of the MAP core's kernels (the motion view), px (blur up to 40 px in all): ${epe(r.mapMotion)}`);
  if (r.motion) lines.push(`M end-point error, px (blur up to 40 px in all): ${epe(r.motion)}`);
  if (r.peerFrom) lines.push(`(MAXIM numbers from the run of ${r.peerFrom} on identical crops)`);
  return lines.join('\n');
}

/** Mean PSNR of a set; JSON keeps an infinite sum (an output identical to its target) as null. */
function meanPsnr(m: MethodScores, set: string): number {
  const sum = m.psnr[set] as number | null;
  return sum === null ? Infinity : sum / m.count[set];
}

function signed(v: number): string {
  return `${v >= 0 ? '+' : ''}${v.toFixed(2)}`;
}
