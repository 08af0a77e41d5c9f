/**
 * Test-only builder of tiny, real ONNX graphs (opset 17, the ops of supported-ops.json), written with the
 * engine's own onnx-file.ts. Weights are given or drawn from a seeded generator.
 *
 *   const b = new TinyOnnx();
 *   let x = b.input();                       // "input", [1, 3, H, W]
 *   x = b.conv(x, 3, { kernel: 3 });         // random weights, same padding
 *   b.output(b.add(x, b.inputName));          // "output"
 *   await b.save(path)  /  b.bytes()
 */
import { writeFile } from 'node:fs/promises';
import { Rng } from '../../src-main/engine/synth/random.ts';
import {
  encodeModel, float32Tensor, makeAttribute, DataType,
  type ModelProto, type NodeProto, type TensorProto, type ValueInfoProto,
} from '../../src-main/engine/graph/onnx-file.ts';

export type Dim = number | string;

/** Deterministic uniform generator in [0, 1). */
export function rng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next();
}

function vi(name: string, shape: Dim[] | null, elemType: number = DataType.FLOAT): ValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        ...(shape ? { shape: { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } : {}),
      },
    },
  };
}

export interface ConvOptions {
  kernel?: number;
  /** [out, in/group, k, k] row-major; random (±scale) when absent. */
  weights?: ArrayLike<number>;
  bias?: ArrayLike<number>;
  stride?: number;
  /** Symmetric padding; default `kernel >> 1` (same size for stride 1). */
  pad?: number;
  dilation?: number;
  group?: number;
  /** Half-range of random weights; default 1/sqrt(fan-in). */
  scale?: number;
}

export class TinyOnnx {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  readonly inputs: ValueInfoProto[] = [];
  readonly outputs: ValueInfoProto[] = [];
  readonly metadata: Record<string, string> = {};
  /** Channel count of each produced value, when known (for Conv's in-channels). */
  readonly channels = new Map<string, number>();
  inputName = 'input';
  private counter = 0;
  private readonly random: () => number;

  constructor(seed = 1, public opset = 17, public irVersion = 8) {
    this.random = rng(seed);
  }

  private fresh(prefix: string): string {
    return `${prefix}_${this.counter++}`;
  }

  /** Declare a graph input (default "input", [1, 3, "H", "W"] float). Returns its name. */
  input(name = 'input', shape: Dim[] = [1, 3, 'H', 'W'], elemType: number = DataType.FLOAT): string {
    this.inputs.push(vi(name, shape, elemType));
    if (this.inputs.length === 1) this.inputName = name;
    if (typeof shape[1] === 'number') this.channels.set(name, shape[1]);
    return name;
  }

  /** Mark a value as a graph output, renamed to `name` through an Identity when needed. */
  output(value: string, name = 'output', shape: Dim[] | null = null): string {
    if (value !== name) this.node('Identity', [value], {}, name);
    const c = this.channels.get(value);
    this.outputs.push(vi(name, shape ?? [1, c ?? 'C', 'H', 'W']));
    return name;
  }

  initializer(name: string, dims: number[], data: ArrayLike<number>): string {
    this.initializers.push(float32Tensor(name, dims, data));
    return name;
  }

  constant(dims: number[], data: ArrayLike<number>): string {
    return this.initializer(this.fresh('const'), dims, data);
  }

  node(opType: string, inputs: string[], attrs: Record<string, number | number[] | string> = {}, outName?: string, floatAttrs: string[] = []): string {
    const out = outName ?? this.fresh(opType.toLowerCase());
    this.nodes.push({
      opType,
      name: this.fresh(`n_${opType}`),
      input: inputs,
      output: [out],
      attribute: Object.entries(attrs).map(([k, v]) => makeAttribute(k, v as number | number[] | string, floatAttrs.includes(k))),
    });
    const c = this.channels.get(inputs[0]);
    if (c !== undefined) this.channels.set(out, c);
    return out;
  }

  conv(x: string, outChannels: number, o: ConvOptions = {}): string {
    const k = o.kernel ?? 3;
    const group = o.group ?? 1;
    const inC = this.channels.get(x);
    if (inC === undefined) throw new Error(`conv: unknown channel count of ${x}`);
    const per = inC / group;
    const n = outChannels * per * k * k;
    const scale = o.scale ?? 1 / Math.sqrt(per * k * k);
    const w = o.weights ?? Array.from({ length: n }, () => (this.random() * 2 - 1) * scale);
    const b = o.bias ?? Array.from({ length: outChannels }, () => (this.random() * 2 - 1) * 0.1);
    const wName = this.initializer(this.fresh('w'), [outChannels, per, k, k], w);
    const bName = this.initializer(this.fresh('b'), [outChannels], b);
    const pad = o.pad ?? (k >> 1) * (o.dilation ?? 1);
    const out = this.node('Conv', [x, wName, bName], {
      kernel_shape: [k, k], strides: [o.stride ?? 1, o.stride ?? 1], pads: [pad, pad, pad, pad],
      dilations: [o.dilation ?? 1, o.dilation ?? 1], group,
    });
    this.channels.set(out, outChannels);
    return out;
  }

  relu(x: string): string { return this.node('Relu', [x]); }
  tanh(x: string): string { return this.node('Tanh', [x]); }
  sigmoid(x: string): string { return this.node('Sigmoid', [x]); }
  identity(x: string): string { return this.node('Identity', [x]); }
  leakyRelu(x: string, alpha = 0.2): string { return this.node('LeakyRelu', [x], { alpha }, undefined, ['alpha']); }
  add(a: string, b: string): string { return this.node('Add', [a, b]); }
  sub(a: string, b: string): string { return this.node('Sub', [a, b]); }
  mul(a: string, b: string): string { return this.node('Mul', [a, b]); }

  clip(x: string, min: number, max: number): string {
    return this.node('Clip', [x, this.constant([], [min]), this.constant([], [max])]);
  }

  concat(xs: string[], axis = 1): string {
    const out = this.node('Concat', xs, { axis });
    const cs = xs.map((x) => this.channels.get(x));
    if (axis === 1 && cs.every((c) => c !== undefined)) this.channels.set(out, (cs as number[]).reduce((a, b) => a + b, 0));
    return out;
  }

  depthToSpace(x: string, blocksize = 2, mode: 'DCR' | 'CRD' = 'DCR'): string {
    const out = this.node('DepthToSpace', [x], { blocksize, mode });
    const c = this.channels.get(x);
    if (c !== undefined) this.channels.set(out, c / (blocksize * blocksize));
    return out;
  }

  instanceNorm(x: string, eps = 1e-5): string {
    const c = this.channels.get(x);
    if (c === undefined) throw new Error('instanceNorm: unknown channels');
    return this.node('InstanceNormalization', [x, this.constant([c], new Array(c).fill(1)), this.constant([c], new Array(c).fill(0))], { epsilon: eps }, undefined, ['epsilon']);
  }

  /** A per-channel constant with the shape [1, C, 1, 1] (for Add/Mul broadcasting). */
  channelConstant(values: number[]): string {
    const name = this.constant([1, values.length, 1, 1], values);
    this.channels.set(name, values.length);
    return name;
  }

  setMetadata(key: string, value: string): this {
    this.metadata[key] = value;
    return this;
  }

  model(): ModelProto {
    return {
      irVersion: this.irVersion,
      producerName: 'neurmap-tests',
      opsetImport: [{ domain: '', version: this.opset }],
      graph: { name: 'tiny', node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs },
      metadataProps: Object.entries(this.metadata).map(([key, value]) => ({ key, value })),
    };
  }

  bytes(): Uint8Array {
    return encodeModel(this.model());
  }

  async save(file: string): Promise<string> {
    await writeFile(file, this.bytes());
    return file;
  }
}

// ---- ready-made tiny networks ------------------------------------------------------------------------------

/** G-like: input + conv3x3(relu(conv3x3(input))) (receptive-field radius 2), random weights. */
export function tinyDeblur(seed = 7, hidden = 4, residualScale = 0.3): TinyOnnx {
  const b = new TinyOnnx(seed);
  const x = b.input();
  let h = b.relu(b.conv(x, hidden, { kernel: 3 }));
  h = b.conv(h, 3, { kernel: 3, scale: residualScale });
  b.output(b.add(x, h));
  return b;
}

/** The cheapest 3→3 network: a 1×1 conv (for the memory and speed tests). */
export function tinyPointwise(seed = 3): TinyOnnx {
  const b = new TinyOnnx(seed);
  const x = b.input();
  b.output(b.conv(x, 3, { kernel: 1, weights: [0.9, 0.05, 0.05, 0.05, 0.9, 0.05, 0.05, 0.05, 0.9], bias: [0.01, 0, -0.01] }));
  return b;
}

/** M-like with a known constant output: tanh(0·x + c) per channel, so m = tanh(c) everywhere. */
export function constantMotion(u: number, v: number): TinyOnnx {
  const b = new TinyOnnx(5);
  const x = b.input();
  const conv = b.conv(x, 2, { kernel: 1, weights: new Array(6).fill(0), bias: [Math.atanh(u), Math.atanh(v)] });
  b.output(b.tanh(conv));
  return b;
}

/**
 * M-like whose output follows the image: u = tanh(a·(R − 0.5)), v = tanh(a·(G − 0.5)) (1×1 conv + tanh).
 * Lets a test draw a motion pattern by painting the photo.
 */
export function colourMotion(a = 4): TinyOnnx {
  const b = new TinyOnnx(6);
  const x = b.input();
  const conv = b.conv(x, 2, { kernel: 1, weights: [a, 0, 0, 0, a, 0], bias: [-a / 2, -a / 2] });
  b.output(b.tanh(conv));
  return b;
}

/**
 * Refiner-like (6 → 3): the guide (input channels 0–2, the MAP result) plus conv3x3(relu(conv3x3(all 6))), random
 * weights; the pick of the guide is a fixed 1×1 conv, as in the shipped refiner.
 */
export function tinyRefiner(seed = 8, hidden = 4, residualScale = 0.3): TinyOnnx {
  const b = new TinyOnnx(seed);
  const x = b.input('input', [1, 6, 'H', 'W']);
  const pick = new Array<number>(18).fill(0);
  for (let c = 0; c < 3; c++) pick[c * 6 + c] = 1;
  const guide = b.conv(x, 3, { kernel: 1, weights: pick, bias: [0, 0, 0] });
  let h = b.relu(b.conv(x, hidden, { kernel: 3 }));
  h = b.conv(h, 3, { kernel: 3, scale: residualScale });
  b.output(b.add(guide, h));
  return b;
}
