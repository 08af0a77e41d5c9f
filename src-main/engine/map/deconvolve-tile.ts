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

  async run(ffts: FftCache, task: TileTask): Promise<Float32Array[]> {
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

/** RGB planes → luma and two colour differences (BT.601 in sRGB values), in place: the planes are the task's own. */
function toLumaChroma(planes: Float32Array[]): Float32Array[] {
  const [r, g, b] = planes;
  for (let i = 0; i < r.length; i++) {
    const R = r[i];
    const G = g[i];
    const B = b[i];
    const l = 0.299 * R + 0.587 * G + 0.114 * B;
    r[i] = l;
    g[i] = B - l;
    b[i] = R - l;
  }
  return planes;
}

/** The inverse, in place (the deconvolved planes are new). */
function fromLumaChroma(planes: Float32Array[]): Float32Array[] {
  const [y, cb, cr] = planes;
  for (let i = 0; i < y.length; i++) {
    const Y = y[i];
    const R = Math.fround(Y + cr[i]);
    const B = Math.fround(Y + cb[i]);
    y[i] = R;
    cb[i] = (Y - 0.299 * R - 0.114 * B) / 0.587;
    cr[i] = B;
  }
  return planes;
}
