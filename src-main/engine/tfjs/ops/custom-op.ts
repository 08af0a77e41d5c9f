/**
 * tf.customGrad with typed inputs: `f(inputs, save)` returns the value and a gradient function returning one
 * gradient per input (the `...inputs, save` calling convention of tf.customGrad does not type-check under strict).
 */
import * as tf from '@tensorflow/tfjs';

export type CustomOpBody<T extends tf.Tensor> = (inputs: tf.Tensor[], save: tf.GradSaveFunc) => {
  value: T;
  gradFunc: (dy: T, saved: tf.Tensor[]) => tf.Tensor[];
};

export function customOp<T extends tf.Tensor>(arity: number, body: CustomOpBody<T>): (...inputs: tf.Tensor[]) => T {
  type Fn = Parameters<typeof tf.customGrad<T>>[0];
  const wrapped = ((...args: Array<tf.Tensor | tf.GradSaveFunc>) => body(args.slice(0, arity) as tf.Tensor[], args[arity] as tf.GradSaveFunc)) as unknown as Fn;
  const op = tf.customGrad<T>(wrapped);
  return (...inputs: tf.Tensor[]) => {
    if (inputs.length !== arity) throw new Error(`custom op: expected ${arity} inputs, got ${inputs.length}`);
    return op(...inputs);
  };
}
