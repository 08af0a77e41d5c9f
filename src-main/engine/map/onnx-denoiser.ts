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

  async denoise(plane: Float32Array, width: number, height: number, sigma: number): Promise<Float32Array> {
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
