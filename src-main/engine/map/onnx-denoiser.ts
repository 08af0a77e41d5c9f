/**
 * The learned prior's denoiser run by ONNX Runtime on the CPU, one intra-op thread: it is called from the
 * deconvolution threads, which already use every core.
 */
import { createRequire } from 'node:module';
import type * as Ort from 'onnxruntime-node';
import type { Denoiser } from './image-prior.ts';

export class OnnxDenoiser implements Denoiser {
  private constructor(private readonly ort: typeof Ort, private readonly session: Ort.InferenceSession) {}

  static async open(model: string): Promise<OnnxDenoiser> {
    const ort = createRequire(import.meta.url)('onnxruntime-node') as typeof Ort;
    const session = await ort.InferenceSession.create(model, { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1 });
    return new OnnxDenoiser(ort, session);
  }

  /**
   * The network works on 2×2 cells (a stride-2 conv in, a pixel shuffle out), which leaves a faint grid in flat
   * areas; averaging it with a run on the plane shifted by one pixel each way (cycle spinning) removes the grid.
   */
  async denoise(plane: Float32Array, width: number, height: number, sigma: number): Promise<Float32Array> {
    const a = await this.run(plane, width, height, sigma);
    const b = await this.run(shift(plane, width, height, 1), width, height, sigma);
    const back = shift(b, width, height, -1);
    for (let i = 0; i < a.length; i++) a[i] = 0.5 * (a[i] + back[i]);
    return a;
  }

  private async run(plane: Float32Array, width: number, height: number, sigma: number): Promise<Float32Array> {
    const n = width * height;
    const input = new Float32Array(2 * n);
    input.set(plane);
    input.fill(sigma, n);
    const out = await this.session.run({ input: new this.ort.Tensor('float32', input, [1, 2, height, width]) });
    return out.output.data as Float32Array;
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

/** The plane moved by d pixels right and down, wrapping around (the deconvolution's planes are periodic). */
function shift(p: Float32Array, w: number, h: number, d: number): Float32Array {
  const out = new Float32Array(p.length);
  for (let y = 0; y < h; y++) {
    const sy = (((y - d) % h) + h) % h;
    for (let x = 0; x < w; x++) out[y * w + x] = p[sy * w + ((((x - d) % w) + w) % w)];
  }
  return out;
}
