import * as tf from '@tensorflow/tfjs';
import type { TrainableNetwork } from '../../../src-main/engine/graph/trainable-network.ts';
import { Rng } from '../../../src-main/engine/synth/random.ts';
import type { NetworkSpec } from '../../../src-main/engine/neurmap/network-spec.ts';

/**
 * Small plain-tfjs networks that implement TrainableNetwork: for the trainer's tests and for the training bench
 * when the shipped ONNX models are not there. They are not the shipped architectures and cannot be written to
 * ONNX (toOnnx throws). Weights are Xavier/Glorot-uniform from a seeded generator, so two calls with the same
 * options build identical networks (what the data-parallel workers rely on).
 *
 *   deblur:        residual, x + conv(relu(conv(relu(conv(x)))))       3 → w → w → 3
 *   motion:        conv → relu → conv (stride 2) → relu → conv → ×2 nearest upsample → conv: [N, 2, H, W]
 *   discriminator: PatchGAN-like, two stride-2 4×4 convs with leaky ReLU and a 3×3 conv to one channel
 */
export type TinyKind = 'deblur' | 'motion' | 'discriminator';

export interface TinyNetworkOptions {
  seed?: number;
  /** Channels of the hidden layers (default 8). */
  width?: number;
  /** Deblur only: the last conv's initial weights are multiplied by this (a larger start-up residual; default 1). */
  residualScale?: number;
  /** Prefix for variable names; must differ between networks that live at the same time (default: the kind plus a counter). */
  name?: string;
}

let counter = 0;

interface Conv {
  w: tf.Variable;
  b: tf.Variable;
  stride: number;
}

export function createTinyNetwork(kind: TinyKind, opts: TinyNetworkOptions = {}): TrainableNetwork {
  const rng = new Rng(opts.seed ?? 1);
  const width = opts.width ?? 8;
  const prefix = `${opts.name ?? kind}#${++counter}`;
  const convs: Conv[] = [];
  const conv = (k: number, cin: number, cout: number, stride = 1, gain = 1): Conv => {
    const limit = gain * Math.sqrt(6 / (k * k * cin + k * k * cout));
    const values = Float32Array.from({ length: k * k * cin * cout }, () => rng.uniform(-limit, limit));
    const i = convs.length;
    const c = tf.tidy(() => ({
      w: tf.variable(tf.tensor4d(values, [k, k, cin, cout]), true, `${prefix}/conv${i}/w`),
      b: tf.variable(tf.zeros([cout]), true, `${prefix}/conv${i}/b`),
      stride,
    }));
    convs.push(c);
    return c;
  };
  const run = (c: Conv, x: tf.Tensor4D) => tf.add(tf.conv2d(x, c.w as tf.Tensor4D, c.stride, 'same'), c.b) as tf.Tensor4D;
  let forward: (x: tf.Tensor4D) => tf.Tensor4D;
  let sizeMultiple = 1;
  if (kind === 'deblur') {
    const [a, b, c] = [conv(3, 3, width), conv(3, width, width), conv(3, width, 3, 1, opts.residualScale ?? 1)];
    forward = (x) => tf.add(x, run(c, tf.relu(run(b, tf.relu(run(a, x)))))) as tf.Tensor4D;
  } else if (kind === 'motion') {
    const [a, b, c, d] = [conv(3, 3, width), conv(3, width, width, 2), conv(3, width, width), conv(3, width, 2)];
    sizeMultiple = 2;
    forward = (x) => {
      const down = tf.relu(run(c, tf.relu(run(b, tf.relu(run(a, x))))));
      const [n, h, w, ch] = down.shape;
      // Nearest ×2 upsampling by concat + reshape (no resize kernel needed for its gradient).
      const wide = tf.reshape(tf.concat([down, down], 3), [n, h, 2 * w, ch]);
      const up = tf.reshape(tf.concat([wide, wide], 2), [n, 2 * h, 2 * w, ch]) as tf.Tensor4D;
      return run(d, up);
    };
  } else {
    const [a, b, c] = [conv(4, 3, width, 2), conv(4, width, 2 * width, 2), conv(3, 2 * width, 1)];
    sizeMultiple = 4;
    forward = (x) => run(c, tf.leakyRelu(run(b, tf.leakyRelu(run(a, x), 0.2)), 0.2));
  }
  const variables = convs.flatMap((c) => [c.w, c.b]);
  return {
    name: kind,
    variables,
    sizeMultiple,
    apply: (input) => tf.tidy(() => tf.transpose(forward(tf.transpose(input, [0, 2, 3, 1]) as tf.Tensor4D), [0, 3, 1, 2]) as tf.Tensor4D),
    toOnnx: () => {
      throw new Error(`the tiny test network "${kind}" has no ONNX form`);
    },
    dispose: () => {
      for (const v of variables) v.dispose();
    },
  };
}

/** One of these networks as a network spec, for the data-parallel workers to build. */
export function tinyNetworkSpec(kind: TinyKind, opts: TinyNetworkOptions = {}): NetworkSpec {
  return { module: import.meta.url, export: 'createTinyNetwork', args: [kind, opts] };
}
