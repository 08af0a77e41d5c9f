/**
 * Runs the MAP core on eval crops through the product's own path (the same calls `neurmap deblur` makes): the
 * hand-made prior, the learned prior, and the refiner on top. Each crop's blur is estimated once and shared by
 * every variant; the estimate's seconds are counted in every variant's time.
 */
import type { BlurEstimate } from '../../src-main/engine/map/blur-estimate.ts';
import { estimatePhotoBlur } from '../../src-main/engine/map/photo-blur.ts';
import { deblurWithMapCore } from '../../src-main/engine/jobs/map-pipeline.ts';
import type { ModelSession } from '../../src-main/engine/infer/session.ts';
import type { FloatImage } from '../../src-main/engine/synth/float-image.ts';
import { motionFromEstimate } from '../../src-main/engine/map/kernel-motion.ts';
import { fieldToPlanar, floatToRaster } from './run-networks.ts';
import type { TestSample } from './test-sets.ts';

export interface MapVariant {
  /** models/denoiser.onnx for the learned prior (absent: hyper-Laplacian). */
  denoiser?: string;
  /** An open refiner session (role 'refine'). */
  refiner?: ModelSession;
}

const estimates = new WeakMap<FloatImage, { estimate: BlurEstimate; seconds: number }>();

async function estimateOnce(img: FloatImage): Promise<{ estimate: BlurEstimate; seconds: number }> {
  let e = estimates.get(img);
  if (!e) {
    const t = performance.now();
    const estimate = await estimatePhotoBlur(floatToRaster(img));
    e = { estimate, seconds: (performance.now() - t) / 1000 };
    estimates.set(img, e);
  }
  return e;
}

function toFloat(data: Uint16Array, width: number, height: number): FloatImage {
  const plane = width * height;
  const out: FloatImage = { width, height, data: new Float32Array(3 * plane) };
  for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) out.data[c * plane + i] = data[3 * i + c] / 65535;
  return out;
}

/**
 * The MAP core given the blur's true kernels on a grid of regions (the oracle): what a perfect kernel estimate
 * would gain, at the noise level the core measured on the crop.
 */
export async function mapDeblurFloatWithKernels(img: FloatImage, grid: NonNullable<TestSample['trueKernels']>): Promise<{ out: FloatImage; seconds: number }> {
  const { estimate: measured } = await estimateOnce(img);
  const { width: w, height: h } = img;
  const estimate: BlurEstimate = {
    width: w,
    height: h,
    cols: grid.cols,
    rows: grid.rows,
    noise: measured.noise,
    downscale: 1,
    regions: grid.kernels.map((kernel, i) => ({
      x0: Math.round(((i % grid.cols) * w) / grid.cols),
      y0: Math.round((Math.floor(i / grid.cols) * h) / grid.rows),
      x1: Math.round((((i % grid.cols) + 1) * w) / grid.cols),
      y1: Math.round(((Math.floor(i / grid.cols) + 1) * h) / grid.rows),
      kernel,
      confidence: 1,
      blurred: 1,
      reason: null,
    })),
  };
  const res = await deblurWithMapCore(floatToRaster(img), { parts: {}, openRefiner: () => Promise.reject(new Error('no refiner in the oracle')), threads: 1, estimate });
  return { out: toFloat(res.data, w, h), seconds: res.seconds };
}

export async function mapDeblurFloat(img: FloatImage, variant: MapVariant = {}): Promise<{ out: FloatImage; seconds: number }> {
  const { estimate, seconds: estimateSeconds } = await estimateOnce(img);
  const refiner = variant.refiner;
  const res = await deblurWithMapCore(floatToRaster(img), {
    parts: { denoiser: variant.denoiser, refiner: refiner?.file },
    openRefiner: async () => refiner!,
    threads: 1,
    estimate,
  });
  return { out: toFloat(res.data, img.width, img.height), seconds: estimateSeconds + res.seconds };
}

/** The motion the MAP core's kernels imply (what the motion view shows), in px, planar 2×H×W. */
export async function mapMotionFloat(img: FloatImage): Promise<Float32Array> {
  return fieldToPlanar(motionFromEstimate((await estimateOnce(img)).estimate).field);
}
