/** Runs the shipped networks on eval crops through the product's own inference path (tiling included). */
import { createRaster, type Raster } from '../../src-main/engine/image/raster.ts';
import { deblurRaster, type DeblurSession } from '../../src-main/engine/infer/deblur.ts';
import { estimateMotion, type MotionField, type MotionSession } from '../../src-main/engine/infer/motion.ts';
import type { FloatImage } from '../../src-main/engine/synth/float-image.ts';

export function floatToRaster(img: FloatImage): Raster {
  const r = createRaster(img.width, img.height, 8);
  const plane = img.width * img.height;
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) r.rgb[3 * i + c] = Math.round(Math.min(1, Math.max(0, img.data[c * plane + i])) * 255);
  }
  return r;
}

export async function deblurFloat(session: DeblurSession, img: FloatImage): Promise<{ out: FloatImage; seconds: number }> {
  const res = await deblurRaster(session, floatToRaster(img));
  const plane = img.width * img.height;
  const out: FloatImage = { width: img.width, height: img.height, data: new Float32Array(3 * plane) };
  for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) out.data[c * plane + i] = res.data[3 * i + c] / 65535;
  return { out, seconds: res.seconds };
}

/** M's motion in px, planar 2×H×W, canonical sign. */
export async function motionFloat(session: MotionSession, img: FloatImage): Promise<Float32Array> {
  return fieldToPlanar((await estimateMotion(session, floatToRaster(img))).field);
}

/** A motion field (interleaved counts) as px, planar 2×H×W. */
export function fieldToPlanar(field: MotionField): Float32Array {
  const plane = field.width * field.height;
  const out = new Float32Array(2 * plane);
  for (let i = 0; i < plane; i++) {
    out[i] = field.data[2 * i] * field.pxPerCount;
    out[plane + i] = field.data[2 * i + 1] * field.pxPerCount;
  }
  return out;
}

/**
 * Mean end-point error in px between two motion maps, sign-invariant: a blur along v equals one along −v,
 * and the canonical sign alone flips near-horizontal vectors apart.
 */
export function endPointError(pred: Float32Array, truth: Float32Array): number {
  const plane = pred.length / 2;
  let sum = 0;
  for (let i = 0; i < plane; i++) {
    const du = pred[i] - truth[i];
    const dv = pred[plane + i] - truth[plane + i];
    const su = pred[i] + truth[i];
    const sv = pred[plane + i] + truth[plane + i];
    sum += Math.min(Math.hypot(du, dv), Math.hypot(su, sv));
  }
  return sum / plane;
}
