/**
 * The natural-image discriminator D: a PatchGAN built as an ONNX ModelProto in memory (only supported operators)
 * and loaded through the same interpreter, so that D, like G and M, has one ONNX source of truth.
 *
 *   conv 4×4 stride 2 pad 1 → C·2^0, LeakyReLU 0.2                 (no normalisation on the first layer)
 *   conv 4×4 stride 2 pad 1 → C·2^k, InstanceNorm, LeakyReLU 0.2   k = 1 … layers−1
 *   conv 3×3 stride 1 pad 1 → 1                                     one LSGAN score per patch, H/2^layers × W/2^layers
 *
 * The same network as training/models.py's PatchD (so a D pretrained there loads here too). H and W must be
 * multiples of 2^layers (metadata size_multiple). Weights: Xavier (Glorot) uniform from a seeded generator, as
 * torch.nn.init.xavier_uniform_; biases 0; InstanceNorm scale 1 and bias 0 (affine, trainable).
 */
import {
  DataType, encodeModel, float32Tensor, makeAttribute,
  type ModelProto, type NodeProto, type TensorProto, type ValueInfoProto,
} from './onnx-file.ts';
import { loadTrainableNetwork, type OnnxTrainableNetwork } from './interpreter.ts';
import { Rng } from '../synth/random.ts';

export interface PatchGanOptions {
  /** Network name (default 'discriminator'). */
  name?: string;
  /** Channels of the images it judges (default 3). */
  inputChannels?: number;
  /** Width of the first layer; layer k has baseChannels·2^k (default 64). */
  baseChannels?: number;
  /** Number of strided conv layers (default 3). */
  layers?: number;
  /** LeakyReLU slope (default 0.2). */
  negativeSlope?: number;
  /** InstanceNorm epsilon (default 1e-5). */
  epsilon?: number;
  /** Seed of the weight initialisation (default 1). */
  seed?: number;
  /** Xavier gain (default 1). */
  gain?: number;
}

/**
 * The D that in-app training creates ("adapt to my photos"): NEURMAP.md's PatchGAN at half the reference width,
 * 32·2^k channels. At the reference width D is ~45 % of an iteration's convolution work on a CPU (it judges twice
 * as many images as G makes, and G's step differentiates through it again); half the width is a quarter of that.
 * D is only a critic for the adaptation and is never shipped, so its width costs speed, not the product's model.
 */
export const IN_APP_PATCHGAN: Readonly<PatchGanOptions> = { baseChannels: 32 };

const KERNEL = 4;
const SCORE_KERNEL = 3;

/** Seeded uniform in [0, 1). */
function uniformRng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next();
}

function valueInfo(name: string, dims: Array<number | string>): ValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  };
}

function checkInt(v: number, what: string, min: number): number {
  if (!Number.isInteger(v) || v < min) throw new Error(`PatchGAN: ${what} must be an integer ≥ ${min}, got ${v}`);
  return v;
}

/** The discriminator as an ONNX model (opset 17, supported operators only). */
export function patchGanModel(options: PatchGanOptions = {}): ModelProto {
  const inC = checkInt(options.inputChannels ?? 3, 'inputChannels', 1);
  const base = checkInt(options.baseChannels ?? 64, 'baseChannels', 1);
  const layers = checkInt(options.layers ?? 3, 'layers', 1);
  const slope = options.negativeSlope ?? 0.2;
  const eps = options.epsilon ?? 1e-5;
  const gain = options.gain ?? 1;
  const seed = options.seed ?? 1;
  const uniform = uniformRng(seed);

  const nodes: NodeProto[] = [];
  const inits: TensorProto[] = [];
  const conv = (x: string, name: string, cin: number, cout: number, k: number, stride: number): string => {
    const fanIn = cin * k * k;
    const fanOut = cout * k * k;
    const bound = gain * Math.sqrt(6 / (fanIn + fanOut));
    const w = Float32Array.from({ length: cout * fanIn }, () => (uniform() * 2 - 1) * bound);
    inits.push(float32Tensor(`${name}.weight`, [cout, cin, k, k], w));
    inits.push(float32Tensor(`${name}.bias`, [cout], new Float32Array(cout)));
    nodes.push({
      opType: 'Conv', name, input: [x, `${name}.weight`, `${name}.bias`], output: [`${name}.out`],
      attribute: [
        makeAttribute('kernel_shape', [k, k]), makeAttribute('strides', [stride, stride]),
        makeAttribute('pads', [1, 1, 1, 1]), makeAttribute('dilations', [1, 1]), makeAttribute('group', 1),
      ],
    });
    return `${name}.out`;
  };
  const norm = (x: string, name: string, c: number): string => {
    inits.push(float32Tensor(`${name}.weight`, [c], new Float32Array(c).fill(1)));
    inits.push(float32Tensor(`${name}.bias`, [c], new Float32Array(c)));
    nodes.push({ opType: 'InstanceNormalization', name, input: [x, `${name}.weight`, `${name}.bias`], output: [`${name}.out`], attribute: [makeAttribute('epsilon', eps, true)] });
    return `${name}.out`;
  };
  const lrelu = (x: string, name: string): string => {
    nodes.push({ opType: 'LeakyRelu', name, input: [x], output: [`${name}.out`], attribute: [makeAttribute('alpha', slope, true)] });
    return `${name}.out`;
  };

  let x = 'input';
  let c = inC;
  for (let k = 0; k < layers; k++) {
    const width = base * 2 ** k;
    x = conv(x, `conv${k}`, c, width, KERNEL, 2);
    if (k > 0) x = norm(x, `norm${k}`, width);
    x = lrelu(x, `lrelu${k}`);
    c = width;
  }
  const score = conv(x, 'score', c, 1, SCORE_KERNEL, 1);
  nodes.push({ opType: 'Identity', name: 'output', input: [score], output: ['output'] });

  return {
    irVersion: 8,
    producerName: 'neurmap-studio',
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'patchgan',
      node: nodes,
      initializer: inits,
      input: [valueInfo('input', ['N', inC, 'H', 'W'])],
      output: [valueInfo('output', ['N', 1, 'OH', 'OW'])],
    },
    metadataProps: [
      { key: 'size_multiple', value: String(2 ** layers) },
      { key: 'neurmap_network', value: 'discriminator' },
      { key: 'neurmap_architecture', value: JSON.stringify({ kind: 'patchgan', inputChannels: inC, baseChannels: base, layers, negativeSlope: slope, epsilon: eps, kernel: KERNEL, scoreKernel: SCORE_KERNEL, seed, gain }) },
    ],
  };
}

/** A fresh PatchGAN discriminator as a TrainableNetwork (initialise the tfjs backend first). */
export function createPatchGan(options: PatchGanOptions = {}): OnnxTrainableNetwork {
  const name = options.name ?? 'discriminator';
  return loadTrainableNetwork(encodeModel(patchGanModel(options)), name, { label: `${name} (PatchGAN)` });
}
