/**
 * Deblurring with G over a whole photo: tiled inference, the output kept at full resolution as 16-bit RGB
 * (6 bytes a pixel: 288 MB for 48 MP, 72 MB for 12 MP), from which strength.ts renders any strength without
 * running the network again.
 */
import type { Raster, Depth } from '../image/raster.ts';
import { createRaster, maxValue } from '../image/raster.ts';
import { runTiled, type Progress, type TileOptions, type TileRunner } from './tiling.ts';
import type { ProviderName } from './providers.ts';

export interface DeblurOptions extends TileOptions {
  onProgress?: (p: Progress) => void;
  signal?: AbortSignal;
  /** For the refiner (a 6-channel model): the MAP core's result, read beside the photo. */
  guide?: Raster;
}

export interface DeblurResult {
  width: number;
  height: number;
  /**
   * G's output, HWC RGB, clipped to [0,1] and stored as 0…65535 (value / 65535). Clipping happens once here:
   * strength blends from it stay in range, and out-of-range network values would be clipped on export anyway.
   */
  data: Uint16Array;
  /** The model file and the execution provider that ran it. */
  model: string;
  provider: ProviderName | string;
  tiles: number;
  tileWidth: number;
  tileHeight: number;
  seconds: number;
  /** Part of `seconds` this thread waited for the network (the rest: reading, blending, storing). */
  waitSeconds: number;
}

export type DeblurSession = TileRunner & { readonly file?: string; readonly provider?: ProviderName | string };

/**
 * Run G over a raster: a 3→3 session from openSession(…, { role: 'deblur' }), or the refiner (role 'refine', 6→3)
 * with the MAP core's result as `guide`.
 */
export async function deblurRaster(session: DeblurSession, raster: Raster, opts: DeblurOptions = {}): Promise<DeblurResult> {
  if (session.outChannels !== 3) throw new Error(`${session.file ?? 'model'}: a deblur model must output 3 channels, this one outputs ${session.outChannels}`);
  if ((session.inChannels === 6) !== Boolean(opts.guide)) {
    throw new Error(`${session.file ?? 'model'}: ${opts.guide ? 'a refiner needs a 6-channel model' : 'a 6-channel model refines the MAP core and needs its result'}`);
  }
  const { width, height } = raster;
  const data = new Uint16Array(width * height * 3);
  const sink = (y0: number, rows: number, band: Float32Array, offset: number) => {
    const n = rows * width * 3;
    let d = y0 * width * 3;
    for (let i = 0; i < n; i++) {
      const v = band[offset + i];
      // NaN → 0; |0 is safe since the value is within [0, 65535.5)
      data[d++] = v > 0 ? (v >= 1 ? 65535 : (v * 65535 + 0.5) | 0) : 0;
    }
  };
  const stats = await runTiled(session, raster, sink, opts);
  return {
    width, height, data,
    model: session.file ?? '',
    provider: session.provider ?? 'cpu',
    tiles: stats.plan.tiles,
    tileWidth: stats.plan.tileWidth,
    tileHeight: stats.plan.tileHeight,
    seconds: stats.seconds,
    waitSeconds: stats.waitSeconds,
  };
}

/** The network output as a raster (strength 1) at the given depth. */
export function resultToRaster(result: DeblurResult, depth: Depth = 16): Raster {
  const r = createRaster(result.width, result.height, depth);
  if (depth === 16) r.rgb.set(result.data);
  else {
    const k = maxValue(depth) / 65535;
    const out = r.rgb;
    for (let i = 0; i < result.data.length; i++) out[i] = Math.round(result.data[i] * k);
  }
  return r;
}
