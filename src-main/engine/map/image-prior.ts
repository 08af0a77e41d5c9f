/**
 * The image prior P(S) of the MAP core's non-blind step is pluggable: the hand-made hyper-Laplacian of
 * deconvolve.ts (cheap, the default and the fallback), or a learned denoiser used as the proximal step of
 * half-quadratic splitting (plug-and-play: Zhang et al. 2017 IRCNN, 2021 DPIR). Starting from the
 * hyper-Laplacian result, each iteration denoises at a falling noise level σᵢ and then solves the data term
 * against the denoised image in closed form in Fourier space:
 *   zᵢ = D(xᵢ₋₁, σᵢ),   xᵢ = argminₓ λ/2‖k⊛x − y‖² + μᵢ/2‖x − zᵢ‖²,   μᵢ = ρ/σᵢ².
 * Clipped pixels keep the lower-bound data term of deconvolve.ts.
 */
import type { FftCache, RealFft2d } from './fft2d.ts';
import { clippedPixels, conjugateProduct, deconvSize, kernelSpectra, keepAroundLights, padPeriodic, raiseClippedData, unpad, type DeconvParams } from './deconvolve.ts';
import type { Kernel } from './kernel.ts';

/** Which prior the luminance gets; plain data, so it crosses to the deconvolution threads. */
export type ImagePrior =
  | { kind: 'hyper-laplacian' }
  | {
      kind: 'denoiser';
      /** The ONNX denoiser (models/denoiser.onnx: luminance and a σ plane in, luminance out). */
      model: string;
      /** Plug-and-play iterations after the hyper-Laplacian start. */
      iterations: number;
      /** σ of the first and the last iteration (the last: about the photo's own noise). */
      sigmaStart: number;
      sigmaEnd: number;
      /** ρ of μᵢ = ρ/σᵢ², relative to the data weight's scale. */
      weight: number;
    };

export interface Denoiser {
  /** A denoised copy of a w×h plane (w, h even) whose noise has standard deviation sigma. */
  denoise(plane: Float32Array, width: number, height: number, sigma: number): Promise<Float32Array>;
}

/**
 * Plug-and-play refinement of one deconvolved plane (`init`, w×h) of the blurry plane `observed` under kernel k;
 * returns the refined w×h plane.
 */
export async function refineWithDenoiser(
  ffts: FftCache,
  observed: Float32Array,
  init: Float32Array,
  w: number,
  h: number,
  k: Kernel,
  p: DeconvParams,
  prior: Extract<ImagePrior, { kind: 'denoiser' }>,
  denoiser: Denoiser,
): Promise<Float32Array> {
  const { W, H } = deconvSize(w, h, k);
  return ffts.withPlan(W, H, (fft) => refineWithPlan(fft, observed, init, w, h, k, p, prior, denoiser));
}

async function refineWithPlan(fft: RealFft2d, observed: Float32Array, init: Float32Array, w: number, h: number, k: Kernel, p: DeconvParams, prior: Extract<ImagePrior, { kind: 'denoiser' }>, denoiser: Denoiser): Promise<Float32Array> {
  const { width: W, height: H } = fft;
  const { K, KK } = kernelSpectra(fft, k);
  const n = KK.length;
  const obs = padPeriodic(observed, w, h, W, H);
  const clipped = clippedPixels(obs, p.clipLevel);
  const yData = obs.slice();
  let x = padPeriodic(init, w, h, W, H);
  const spec = new Float32Array(fft.spectrumLength);
  const zSpec = new Float32Array(fft.spectrumLength);
  const numer = new Float32Array(fft.spectrumLength);
  const scratch = new Float32Array(W * H);
  const lambda = p.lambda;
  const setNumerator = () => {
    fft.forward(yData, spec);
    conjugateProduct(K, spec, numer, () => lambda);
  };
  if (clipped) {
    fft.forward(x, spec);
    raiseClippedData(fft, K, spec, scratch, obs, clipped, yData);
  }
  setNumerator();
  const steps = Math.max(1, prior.iterations);
  for (let it = 0; it < steps; it++) {
    const sigma = prior.sigmaStart * (prior.sigmaEnd / prior.sigmaStart) ** (steps === 1 ? 1 : it / (steps - 1));
    const z = await denoiser.denoise(x, W, H, sigma);
    const mu = prior.weight / (sigma * sigma);
    fft.forward(z, zSpec);
    for (let i = 0; i < n; i++) {
      const inv = 1 / (lambda * KK[i] + mu);
      spec[2 * i] = (numer[2 * i] + mu * zSpec[2 * i]) * inv;
      spec[2 * i + 1] = (numer[2 * i + 1] + mu * zSpec[2 * i + 1]) * inv;
    }
    x = new Float32Array(W * H);
    fft.inverse(spec, x);
    if (clipped && it + 1 < steps) {
      raiseClippedData(fft, K, spec, scratch, obs, clipped, yData);
      setNumerator();
    }
  }
  const res = unpad(x, W, w, h);
  if (clipped) keepAroundLights(res, observed, w, h, k, p.clipLevel);
  return res;
}
