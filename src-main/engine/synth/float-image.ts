/** A float RGB image in planar CHW layout (the networks' NCHW without N), values nominally in [0, 1]. */
export interface FloatImage {
  width: number;
  height: number;
  data: Float32Array;
}

export function createFloatImage(width: number, height: number): FloatImage {
  return { width, height, data: new Float32Array(3 * width * height) };
}

export function cloneFloatImage(img: FloatImage): FloatImage {
  return { width: img.width, height: img.height, data: img.data.slice() };
}

/** A crop (x0, y0, w, h) that lies inside the image. */
export function cropFloatImage(img: FloatImage, x0: number, y0: number, w: number, h: number): FloatImage {
  const out = createFloatImage(w, h);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < h; y++) {
      const src = c * img.width * img.height + (y0 + y) * img.width + x0;
      out.data.set(img.data.subarray(src, src + w), c * w * h + y * w);
    }
  }
  return out;
}
