/**
 * The MAP core's per-pixel loops compiled to WebAssembly (assembly/map-kernels.ts), instantiated on PFFFT's
 * memory (fft2d.ts). Addresses are byte offsets in that memory; sizes are in elements.
 */
import { MAP_KERNELS_WASM } from './map-kernels-wasm.ts';

export interface MapKernels {
  rowsToColumns(rows: number, cols: number, width: number, height: number): void;
  columnsToRows(cols: number, rows: number, width: number, height: number): void;
  scale(src: number, dst: number, n: number, factor: number): void;
  l0ShrinkDifferences(x: number, gx: number, gy: number, width: number, height: number, threshold: number): void;
  hyperLaplacianShrinkDifferences(x: number, gx: number, gy: number, width: number, height: number, table: number, tableScale: number, tableMax: number, zeroBelow: number, alpha: number, beta: number): void;
  halfQuadraticSolve(spec: number, numer: number, k: number, columns: number, rows: number, width: number, height: number, lambda: number, beta: number): void;
  multiplySpectra(k: number, spec: number, out: number, bins: number): void;
  conjugateProduct(k: number, spec: number, out: number, bins: number, factor: number): void;
  raiseClipped(data: number, observed: number, reblurred: number, clipped: number, n: number): void;
  quadraticSolve(k: number, spec: number, out: number, columns: number, rows: number, width: number, height: number, lambda: number, gamma: number): void;
}

let compiled: Promise<WebAssembly.Module> | null = null;

export async function loadMapKernels(memory: WebAssembly.Memory): Promise<MapKernels> {
  compiled ??= WebAssembly.compile(Buffer.from(MAP_KERNELS_WASM, 'base64'));
  const instance = await WebAssembly.instantiate(await compiled, { env: { memory, pow: Math.pow } });
  return instance.exports as unknown as MapKernels;
}
