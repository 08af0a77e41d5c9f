import { DataType, encodeModel, float32Tensor, makeAttribute, type ModelProto, type NodeProto, type TensorProto, type ValueInfoProto } from '../../src-main/engine/graph/onnx-file.ts';
import { loadTrainableNetwork, type OnnxTrainableNetwork } from '../../src-main/engine/graph/interpreter.ts';
import { Rng } from '../../src-main/engine/synth/random.ts';
import type { NetworkSpec } from '../../src-main/engine/neurmap/network-spec.ts';

/**
 * Stand-ins for the shipped networks while models/*.onnx do not exist yet: the same U-Net family and sizes as
 * training/models.py (SPECS 'g-fast' and 'm'), written as ONNX graphs with the supported operators and
 * random Xavier weights, loaded through the same interpreter. They cost what the real networks cost to train,
 * so the training bench can report a representative iteration rate; they deblur nothing.
 */
export type StandInKind = 'g-fast' | 'm';

interface UNetSpec {
  channels: number[];
  encBlocks: number[];
  decBlocks: number[];
  midBlocks: number;
  outCh: number;
  output: 'residual' | 'tanh';
  upKernel: number;
}

const SPECS: Record<StandInKind, UNetSpec> = {
  'g-fast': { channels: [24, 48, 96, 128], encBlocks: [1, 1, 1], decBlocks: [1, 1, 1], midBlocks: 2, outCh: 3, output: 'residual', upKernel: 3 },
  m: { channels: [16, 32, 64], encBlocks: [1, 1], decBlocks: [0, 1], midBlocks: 1, outCh: 2, output: 'tanh', upKernel: 1 },
};

export function standInModel(kind: StandInKind, seed = 1): ModelProto {
  const spec = SPECS[kind];
  const rng = new Rng(seed);
  const nodes: NodeProto[] = [];
  const inits: TensorProto[] = [];
  let serial = 0;
  const node = (opType: string, input: string[], attribute: NodeProto['attribute'] = []): string => {
    const out = `${opType.toLowerCase()}_${serial++}`;
    nodes.push({ opType, name: out, input, output: [out], attribute });
    return out;
  };
  const conv = (x: string, cin: number, cout: number, k: number, stride = 1, scale = 1): string => {
    const limit = scale * Math.sqrt(6 / (cin * k * k + cout * k * k));
    const w = `w_${serial}`;
    const b = `b_${serial}`;
    inits.push(float32Tensor(w, [cout, cin, k, k], Float32Array.from({ length: cout * cin * k * k }, () => rng.uniform(-limit, limit))));
    inits.push(float32Tensor(b, [cout], new Float32Array(cout)));
    const pad = stride === 1 ? k >> 1 : 0;
    return node('Conv', [x, w, b], [
      makeAttribute('kernel_shape', [k, k]),
      makeAttribute('strides', [stride, stride]),
      makeAttribute('pads', [pad, pad, pad, pad]),
      makeAttribute('dilations', [1, 1]),
      makeAttribute('group', 1),
    ]);
  };
  const relu = (x: string) => node('Relu', [x]);
  const resBlock = (x: string, c: number) => node('Add', [x, conv(relu(conv(x, c, c, 3)), c, c, 3, 1, 0.2)]);
  const shuffle = (x: string) => node('DepthToSpace', [x], [makeAttribute('blocksize', 2), makeAttribute('mode', 'CRD')]);

  const ch = spec.channels;
  const levels = ch.length;
  let h = relu(conv('input', 3, ch[0], 2, 2));
  const skips: string[] = [];
  for (let i = 0; i < levels - 1; i++) {
    for (let k = 0; k < spec.encBlocks[i]; k++) h = resBlock(h, ch[i]);
    skips.push(h);
    h = relu(conv(h, ch[i], ch[i + 1], 2, 2));
  }
  for (let k = 0; k < spec.midBlocks; k++) h = resBlock(h, ch[levels - 1]);
  for (let i = levels - 2; i >= 0; i--) {
    h = node('Add', [shuffle(conv(h, ch[i + 1], 4 * ch[i], spec.upKernel)), skips[i]]);
    for (let k = 0; k < spec.decBlocks[i]; k++) h = resBlock(h, ch[i]);
  }
  const y = shuffle(conv(h, ch[0], 4 * spec.outCh, 3, 1, 0.1));
  const out = spec.output === 'tanh' ? node('Tanh', [y]) : node('Add', ['input', y]);
  nodes.push({ opType: 'Identity', name: 'output', input: [out], output: ['output'], attribute: [] });
  const vi = (name: string, c: number): ValueInfoProto => ({
    name,
    type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: [{ dimParam: 'N' }, { dimValue: c }, { dimParam: 'H' }, { dimParam: 'W' }] } } },
  });
  return {
    irVersion: 8,
    producerName: 'neurmap-studio (stand-in)',
    opsetImport: [{ domain: '', version: 17 }],
    graph: { name: `standin-${kind}`, node: nodes, initializer: inits, input: [vi('input', 3)], output: [vi('output', spec.outCh)] },
    metadataProps: [{ key: 'size_multiple', value: String(2 * 2 ** (levels - 1)) }],
  };
}

/** A stand-in network ready to train (initialise the tfjs backend first). */
export function createStandInNetwork(kind: StandInKind, seed = 1): OnnxTrainableNetwork {
  const name = kind === 'm' ? 'motion' : 'deblur';
  return loadTrainableNetwork(encodeModel(standInModel(kind, seed)), name, { label: `${kind} stand-in` });
}

/** A stand-in as a network spec, for the training bench's worker threads to build. */
export function standInNetworkSpec(kind: StandInKind, seed = 1): NetworkSpec {
  return { module: import.meta.url, export: 'createStandInNetwork', args: [kind, seed] };
}
