/**
 * An op of our own as a tfjs kernel with a registered gradient, rather than a tf.customGrad: tfjs evaluates a
 * registered gradient lazily, input by input, and asks only for those on the path to the differentiated variables
 * (a tf.customGrad computes every input's gradient). The kernel function runs on whatever backend is active; it is
 * registered there the first time the op runs.
 */
import * as tf from '@tensorflow/tfjs';

export function kernelOp(gradient: tf.GradConfig, kernelFunc: tf.KernelFunc): (inputs: tf.NamedTensorMap, attrs?: tf.NamedAttrMap) => tf.Tensor {
  const kernelName = gradient.kernelName;
  let gradientRegistered = false;
  return (inputs, attrs = {}) => {
    if (!gradientRegistered) {
      tf.registerGradient(gradient);
      gradientRegistered = true;
    }
    const backendName = tf.getBackend();
    if (!tf.getKernel(kernelName, backendName)) tf.registerKernel({ kernelName, backendName, kernelFunc });
    return tf.engine().runKernel(kernelName, inputs, attrs) as tf.Tensor;
  };
}
