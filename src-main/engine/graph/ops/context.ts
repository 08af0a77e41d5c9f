/**
 * What compiling one ONNX node needs: the analysis so far (channel counts and constant shapes), the node's inputs,
 * attributes and error messages that name it, and the run-time values. Each operator's compiler (ops/*.ts) checks
 * its node against the analysis (clear errors before any tensor is made) and returns the step that runs it.
 */
import * as tf from '@tensorflow/tfjs';
import {
  DataType, nodeAttributes, oneLine, tensorToFloat32, tensorToInts,
  type AttributeValue, type NodeProto, type TensorProto,
} from '../onnx-file.ts';

/** Thrown for every model problem the interpreter finds (unsupported operator, bad shapes, bad attributes). */
export class OnnxGraphError extends Error {
  override name = 'OnnxGraphError';
}

/** Layout of a constant's tf tensor: 'hwio' for weights used only as Conv filters. */
export type Layout = 'onnx' | 'hwio';

/** What the analysis knows about a value. */
export type Info =
  | { kind: 'act'; c: number | null }
  | { kind: 'const'; shape: number[] };

/** A value at run time: activations are NHWC, constants are kept in their layout. */
export type Val =
  | { kind: 'act'; t: tf.Tensor4D }
  | { kind: 'const'; t: tf.Tensor; layout: Layout };

export type Env = Map<string, Val>;
export type Step = (env: Env) => void;

/** A ReLU / LeakyReLU that a Conv applies itself (the activation node then runs as an alias). */
export interface FusedActivation {
  activation: 'relu' | 'leakyrelu';
  alpha: number;
}

/** Compiles one node of its operator: checks it and records its output in the analysis, returns its step. */
export type OpCompiler = (node: NodeContext) => Step;

export class NodeContext {
  readonly op: string;
  readonly attrs: Record<string, AttributeValue>;
  readonly ins: string[];
  readonly out: string;
  /** "<model>: node '<name>' (<op>)", the start of every error about this node. */
  readonly where: string;

  constructor(
    readonly node: NodeProto,
    private readonly info: Map<string, Info>,
    /** Initializer values, for operators that read a constant at compile time (Clip bounds). */
    readonly consts: Map<string, TensorProto>,
    readonly opset: number,
    readonly label: string,
    /** Set on a Conv that applies the activation of its only consumer. */
    readonly fused: FusedActivation | undefined,
  ) {
    this.op = node.opType ?? '';
    const nodeName = node.name || `${this.op}→${(node.output ?? [])[0] ?? '?'}`;
    this.where = `${label}: node '${nodeName}' (${this.op})`;
    this.attrs = nodeAttributes(node);
    this.ins = node.input ?? [];
    const outs = node.output ?? [];
    if (outs.length !== 1) this.fail(`expected one output, found ${outs.length}`);
    this.out = outs[0];
  }

  fail = (msg: string): never => {
    throw new OnnxGraphError(`${this.where}: ${msg}`);
  };

  present(i: number): boolean {
    return i < this.ins.length && this.ins[i] !== '';
  }

  /** What the analysis knows of input i (which must be defined). */
  need(i: number): Info {
    if (!this.present(i)) this.fail(`input ${i} is missing`);
    const v = this.info.get(this.ins[i]);
    if (!v) this.fail(`input '${this.ins[i]}' is not defined before this node`);
    return v!;
  }

  /** Input i, which must be an activation. */
  act(i: number): { c: number | null } {
    const v = this.need(i);
    if (v.kind !== 'act') this.fail(`input '${this.ins[i]}' must be an activation computed from the graph input, not a constant`);
    return v as { kind: 'act'; c: number | null };
  }

  /** The shape of input i, which must be a constant. */
  constShape(i: number): number[] {
    const v = this.need(i);
    if (v.kind !== 'const') this.fail(`input '${this.ins[i]}' must be a constant (initializer)`);
    return (v as { kind: 'const'; shape: number[] }).shape;
  }

  /** Records what the analysis knows of this node's output. */
  output(v: Info): void {
    this.info.set(this.out, v);
  }

  /** A numeric attribute (fallback when absent). */
  num(name: string, fallback: number): number {
    const v = this.attrs[name];
    if (v == null) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v)) return this.fail(`attribute '${name}' must be a number`);
    return v;
  }

  /** A list-of-integers attribute (fallback when absent). */
  ints(name: string, fallback: number[]): number[] {
    const v = this.attrs[name];
    if (v == null) return fallback;
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'number' && Number.isInteger(x))) return this.fail(`attribute '${name}' must be a list of integers`);
    return v as number[];
  }

  /** The step that stores f's value as this node's output; a tfjs error names the node and its input shapes. */
  step(f: (env: Env) => Val): Step {
    return (env) => {
      let v: Val;
      try {
        v = f(env);
      } catch (e) {
        if (e instanceof OnnxGraphError) throw e;
        const shapes = this.ins.filter(Boolean).map((i) => `${i} [${env.get(i)?.t.shape.join('×') ?? '?'}]`).join(', ');
        throw new OnnxGraphError(`${this.where} failed on inputs ${shapes}: ${oneLine(e)}`);
      }
      env.set(this.out, v);
    };
  }

  /** The step that passes input 0 through unchanged. */
  alias(): Step {
    this.output(this.need(0));
    return (env) => env.set(this.out, env.get(this.ins[0])!);
  }

  actAt(env: Env, i: number): tf.Tensor4D {
    return (env.get(this.ins[i]) as { t: tf.Tensor4D }).t;
  }

  constAt(env: Env, i: number): { t: tf.Tensor; layout: Layout } {
    return env.get(this.ins[i]) as { t: tf.Tensor; layout: Layout };
  }
}

/** A constant in ONNX's layout (Conv weights are held as HWIO). */
export function onnxLayout(c: { t: tf.Tensor; layout: Layout }): tf.Tensor {
  return c.layout === 'hwio' ? tf.transpose(c.t, [3, 2, 0, 1]) : c.t;
}

/** An initializer's values: floats (float32, float16, double) or integers (int32, int64). */
export function tensorToFloatOrInts(t: TensorProto, label: string): Float32Array | Int32Array {
  const type = t.dataType ?? DataType.FLOAT;
  try {
    if (type === DataType.FLOAT || type === DataType.DOUBLE || type === DataType.FLOAT16) return tensorToFloat32(t);
    if (type === DataType.INT64 || type === DataType.INT32) return Int32Array.from(tensorToInts(t));
  } catch (e) {
    throw new OnnxGraphError(`${label}: initializer '${t.name}': ${oneLine(e)}`);
  }
  throw new OnnxGraphError(`${label}: initializer '${t.name}' has data type ${type}, which the trainer does not read`);
}
