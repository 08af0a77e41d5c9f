/**
 * One tile of the full-resolution deconvolution, in whichever thread runs it: the RGB planes become luminance and
 * two colour differences; the luminance gets the hyper-Laplacian loop (then, when the task asks for the learned
 * prior, its plug-and-play refinement), the colour differences one quadratic solve each; and back to RGB.
 * Denoiser sessions are opened once per thread and model.
 */
import type { FftCache } from './fft2d.ts';
import { deconvolvePlanes, type DeconvParams } from './deconvolve.ts';
import { refineWithDenoiser, type ImagePrior } from './image-prior.ts';
import type { Kernel } from './kernel.ts';
import { OnnxDenoiser } from './onnx-denoiser.ts';

export interface TileTask {
  /** R, G, B (each width×height). */
  planes: Float32Array[];
  width: number;
  height: number;
  kernel: Kernel;
  params: DeconvParams;
  /** The luminance's prior (absent: hyper-Laplacian). */
  prior?: ImagePrior;
}

export class TileDeconvolver {
  private readonly denoisers = new Map<string, Promise<OnnxDenoiser>>();

  constructor(private readonly ffts: Promise<FftCache>) {}

  async run(task: TileTask): Promise<Float32Array[]> {
    const ffts = await this.ffts;
    const blurry = toLumaChroma(task.planes);
    const planes = deconvolvePlanes(ffts, blurry, task.width, task.height, task.kernel, { ...task.params, quadraticPlanes: 2 });
    const prior = task.prior;
    if (prior?.kind === 'denoiser') {
      planes[0] = await refineWithDenoiser(ffts, blurry[0], planes[0], task.width, task.height, task.kernel, task.params, prior, await this.denoiser(prior.model));
    }
    return fromLumaChroma(planes);
  }

  private denoiser(model: string): Promise<OnnxDenoiser> {
    let d = this.denoisers.get(model);
    if (!d) {
      d = OnnxDenoiser.open(model);
      this.denoisers.set(model, d);
      d.catch(() => this.denoisers.delete(model));
    }
    return d;
  }

  async close(): Promise<void> {
    const all = [...this.denoisers.values()];
    this.denoisers.clear();
    await Promise.all(all.map((d) => d.then((s) => s.close(), () => {})));
  }
}

/** RGB planes → luma and two colour differences (BT.601 in sRGB values), new arrays. */
function toLumaChroma([r, g, b]: Float32Array[]): Float32Array[] {
  const y = new Float32Array(r.length);
  const cb = new Float32Array(r.length);
  const cr = new Float32Array(r.length);
  for (let i = 0; i < r.length; i++) {
    const l = 0.299 * r[i] + 0.587 * g[i] + 0.114 * b[i];
    y[i] = l;
    cb[i] = b[i] - l;
    cr[i] = r[i] - l;
  }
  return [y, cb, cr];
}

function fromLumaChroma([y, cb, cr]: Float32Array[]): Float32Array[] {
  const r = new Float32Array(y.length);
  const g = new Float32Array(y.length);
  const b = new Float32Array(y.length);
  for (let i = 0; i < y.length; i++) {
    r[i] = y[i] + cr[i];
    b[i] = y[i] + cb[i];
    g[i] = (y[i] - 0.299 * r[i] - 0.114 * b[i]) / 0.587;
  }
  return [r, g, b];
}
