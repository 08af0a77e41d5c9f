export { registerWasmKernels, unregisterWasmKernels, wasmKernelsRegistered, WASM_KERNELS } from './wasm-kernels.ts';
export { registerGradientOverrides, GRADIENT_OVERRIDES, spaceToDepthNhwc } from './gradients.ts';
export { conv2dFilterGrad, conv2dInputGrad, depthwiseFilterGrad, depthwiseInputGrad, interleavePhases, phaseKernel } from './conv-grad.ts';
export { convGeometry, type ConvGeometry, type PadArg } from './conv-geometry.ts';
export { unsortedSegmentSumWasm } from './segment-sum.ts';
