import type * as tf from '@tensorflow/tfjs';

/**
 * A network the in-app trainer can run and train: built from an ONNX file by the graph interpreter
 * (or created fresh, like a new discriminator), and written back to ONNX with its trained weights.
 */
export interface TrainableNetwork {
  /** e.g. "deblur", "motion", "discriminator". */
  readonly name: string;
  /** The trainable weights (the graph's float initializers), in a stable order. */
  readonly variables: tf.Variable[];
  /** Height and width of the input must be multiples of this. */
  readonly sizeMultiple: number;
  /** Channels of the input where the network fixes them (absent or null: 3, a photo; 6: a guide and a photo). */
  readonly inputChannels?: number | null;
  /** NCHW float32 in, NCHW float32 out; differentiable with respect to input and variables. */
  apply(input: tf.Tensor4D): tf.Tensor4D;
  /** A copy of the source ONNX model with the current variable values as its initializers. */
  toOnnx(): Uint8Array;
  dispose(): void;
}
