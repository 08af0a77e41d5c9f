/** The operator table: one compiler per supported ONNX operator (supported-ops.json lists the same names). */
import type { OpCompiler } from './context.ts';
import { activation, arithmetic, clip, identity } from './elementwise.ts';
import { concat, depthToSpaceOp } from './layout.ts';
import { conv, instanceNormalization } from './conv.ts';

export const OPS: Readonly<Record<string, OpCompiler>> = {
  Identity: identity,
  Relu: activation,
  Sigmoid: activation,
  Tanh: activation,
  LeakyRelu: activation,
  Add: arithmetic,
  Sub: arithmetic,
  Mul: arithmetic,
  Clip: clip,
  Concat: concat,
  DepthToSpace: depthToSpaceOp,
  InstanceNormalization: instanceNormalization,
  Conv: conv,
};
