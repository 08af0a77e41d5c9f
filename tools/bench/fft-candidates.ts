/**
 * The FFT libraries the MAP core could use, side by side on the transform it runs most: a 2-D real forward and
 * inverse FFT of one plane. PFFFT (WASM SIMD) is what the engine uses; fft.js (power-of-two sizes only) and
 * ONNX Runtime's DFT operator (a one-node graph, run through onnxruntime-node) are measured for the record.
 */
import FFT from 'fft.js';
import * as ort from 'onnxruntime-node';
import { encodeModel, DataType, type ModelProto } from '../../src-main/engine/graph/onnx-file.ts';
import { fftSize, pffft, RealFft2d } from '../../src-main/engine/map/fft2d.ts';

export interface FftTiming {
  library: string;
  width: number;
  height: number;
  /** Milliseconds for one forward plus one inverse transform (median of the repeats). */
  ms: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

function time(repeats: number, run: () => void | Promise<void>): Promise<number> {
  return (async () => {
    await run(); // warm-up
    const t: number[] = [];
    for (let i = 0; i < repeats; i++) {
      const s = performance.now();
      await run();
      t.push(performance.now() - s);
    }
    return median(t);
  })();
}

export async function timePffft(w: number, h: number, repeats = 5): Promise<FftTiming> {
  const W = fftSize(w, 32);
  const H = fftSize(h, 16);
  const fft = new RealFft2d(await pffft(), W, H);
  const img = Float32Array.from({ length: W * H }, (_, i) => Math.sin(i * 0.01));
  const spec = new Float32Array(fft.spectrumLength);
  const ms = await time(repeats, () => {
    fft.forward(img, spec);
    fft.inverse(spec, img);
  });
  fft.dispose();
  return { library: '@echogarden/pffft-wasm (SIMD)', width: W, height: H, ms };
}

/** fft.js: real row transforms, then complex column transforms on the half spectrum; power-of-two sizes. */
export async function timeFftJs(w: number, h: number, repeats = 5): Promise<FftTiming> {
  const W = 1 << Math.ceil(Math.log2(w));
  const H = 1 << Math.ceil(Math.log2(h));
  const rowFft = new FFT(W);
  const colFft = new FFT(H);
  const img = Float64Array.from({ length: W * H }, (_, i) => Math.sin(i * 0.01));
  const cols = W / 2 + 1;
  const spec = new Float64Array(cols * H * 2);
  const rowIn = new Array<number>(W).fill(0);
  const rowOut = rowFft.createComplexArray() as number[];
  const colIn = colFft.createComplexArray() as number[];
  const colOut = colFft.createComplexArray() as number[];
  const ms = await time(repeats, () => {
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) rowIn[x] = img[y * W + x];
      rowFft.realTransform(rowOut, rowIn);
      for (let k = 0; k < cols; k++) {
        spec[2 * (k * H + y)] = rowOut[2 * k];
        spec[2 * (k * H + y) + 1] = rowOut[2 * k + 1];
      }
    }
    for (let k = 0; k < cols; k++) {
      for (let i = 0; i < 2 * H; i++) colIn[i] = spec[2 * k * H + i];
      colFft.transform(colOut, colIn);
      colFft.inverseTransform(colIn, colOut);
      for (let i = 0; i < 2 * H; i++) spec[2 * k * H + i] = colIn[i];
    }
    const full = rowFft.createComplexArray() as number[];
    const back = rowFft.createComplexArray() as number[];
    for (let y = 0; y < H; y++) {
      for (let k = 0; k < cols; k++) {
        full[2 * k] = spec[2 * (k * H + y)];
        full[2 * k + 1] = spec[2 * (k * H + y) + 1];
      }
      rowFft.completeSpectrum(full);
      rowFft.inverseTransform(back, full);
      for (let x = 0; x < W; x++) img[y * W + x] = back[2 * x];
    }
  });
  return { library: 'fft.js', width: W, height: H, ms };
}

/** ONNX Runtime's DFT (opset 17) as a graph: a one-sided 2-D forward transform and the inverse (two-sided). */
export async function timeOrtDft(w: number, h: number, repeats = 5): Promise<FftTiming> {
  const W = fftSize(w, 32);
  const H = fftSize(h, 16);
  const axis = (name: string, v: number) => ({ name, dims: [], dataType: DataType.INT64, int64Data: [v] });
  const dft = (input: string, output: string, axisName: string, extra: Record<string, number> = {}) => ({
    opType: 'DFT',
    input: [input, '', axisName],
    output: [output],
    attribute: Object.entries(extra).map(([name, i]) => ({ name, type: 2, i })),
  });
  const model: ModelProto = {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 20 }],
    graph: {
      name: 'dft2d',
      initializer: [axis('ax1', 1), axis('ax2', 2)],
      node: [
        dft('x', 'a', 'ax2', { onesided: 1 }),
        dft('a', 'b', 'ax1'),
        dft('b', 'c', 'ax1', { inverse: 1 }),
      ],
      input: [{ name: 'x', type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: [{ dimValue: 1 }, { dimValue: H }, { dimValue: W }, { dimValue: 1 }] } } } }],
      output: [{ name: 'c', type: { tensorType: { elemType: DataType.FLOAT } } }],
    },
  };
  const session = await ort.InferenceSession.create(encodeModel(model), { intraOpNumThreads: 1 });
  const x = new ort.Tensor('float32', Float32Array.from({ length: W * H }, (_, i) => Math.sin(i * 0.01)), [1, H, W, 1]);
  const ms = await time(repeats, async () => {
    await session.run({ x });
  });
  await session.release();
  // The graph leaves the last inverse along the rows out (ORT's DFT has no real-output inverse): it ran 2.5 of 4
  // passes, so this timing flatters ORT.
  return { library: 'onnxruntime-node DFT op (2.5 of 4 passes)', width: W, height: H, ms };
}
