import type { TrainableNetwork } from '../graph/trainable-network.ts';
import { moduleExtension } from '../module-extension.ts';

/**
 * A recipe to build a network in any thread: a module, the name of a factory it exports, and structured-cloneable
 * arguments. Worker threads cannot receive a live network (its tfjs variables belong to one thread), so the
 * data-parallel trainer sends each worker specs and builds the networks there, then gives them all the same weights.
 */
export interface NetworkSpec {
  /** Module URL (file://…) or absolute path. */
  module: string;
  /** The export to call: (…args) → TrainableNetwork | Promise<TrainableNetwork>. */
  export: string;
  args?: unknown[];
}

export interface NetworkSpecs {
  G: NetworkSpec;
  /** null in the GAN-only ablation. */
  M: NetworkSpec | null;
  D: NetworkSpec;
}

export async function buildNetwork(spec: NetworkSpec): Promise<TrainableNetwork> {
  const url = /^[a-z]+:/i.test(spec.module) ? spec.module : new URL(`file://${spec.module}`).href;
  const mod = (await import(url)) as Record<string, unknown>;
  const factory = mod[spec.export];
  if (typeof factory !== 'function') throw new Error(`${spec.module} has no function export "${spec.export}"`);
  const net = (await (factory as (...a: unknown[]) => unknown)(...(spec.args ?? []))) as TrainableNetwork;
  if (!net || !Array.isArray(net.variables) || typeof net.apply !== 'function') throw new Error(`${spec.module}#${spec.export} did not return a TrainableNetwork`);
  return net;
}

/** A network from an ONNX file through engine/graph's interpreter (loadTrainableNetwork(path, name)). */
export function onnxNetworkSpec(file: string, name: string): NetworkSpec {
  return { module: new URL('../graph/interpreter' + moduleExtension(), import.meta.url).href, export: 'loadTrainableNetwork', args: [file, name] };
}

/** A fresh PatchGAN discriminator (Xavier init, seeded) from engine/graph's createPatchGan(opts). */
export function patchGanSpec(opts: Record<string, unknown> = {}): NetworkSpec {
  return { module: new URL('../graph/patchgan' + moduleExtension(), import.meta.url).href, export: 'createPatchGan', args: [opts] };
}
