/**
 * One tile of the full-resolution deconvolution, in whichever thread runs it: the hyper-Laplacian solve of every
 * plane, then, when the task asks for the learned prior, its plug-and-play refinement of the luminance (plane 0).
 * Denoiser sessions are opened once per thread and model.
 */
import type { FftCache } from './fft2d.ts';
import { deconvolvePlanes, type DeconvParams } from './deconvolve.ts';
import { refineWithDenoiser, type ImagePrior } from './image-prior.ts';
import type { Kernel } from './kernel.ts';
import { OnnxDenoiser } from './onnx-denoiser.ts';

export interface TileTask {
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
    const planes = deconvolvePlanes(ffts, task.planes, task.width, task.height, task.kernel, task.params);
    const prior = task.prior;
    if (prior?.kind === 'denoiser') {
      planes[0] = await refineWithDenoiser(ffts, task.planes[0], planes[0], task.width, task.height, task.kernel, task.params, prior, await this.denoiser(prior.model));
    }
    return planes;
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
