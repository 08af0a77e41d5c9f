/** Runs the MAP core on eval crops through the product's own path (the same call `neurmap deblur` makes). */
import { mapDeblurRaster } from '../../src-main/engine/map/deblur-photo.ts';
import type { FloatImage } from '../../src-main/engine/synth/float-image.ts';
import { floatToRaster } from './run-networks.ts';

export async function mapDeblurFloat(img: FloatImage): Promise<{ out: FloatImage; seconds: number }> {
  const res = await mapDeblurRaster(floatToRaster(img), { threads: 1 });
  const plane = img.width * img.height;
  const out: FloatImage = { width: img.width, height: img.height, data: new Float32Array(3 * plane) };
  for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) out.data[c * plane + i] = res.data[3 * i + c] / 65535;
  return { out, seconds: res.seconds };
}
