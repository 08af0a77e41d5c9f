/** The sRGB transfer curve (IEC 61966-2-1), used to blur in linear light as a camera does. */
export function srgbToLinear(v: number): number {
  return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
}

export function linearToSrgb(v: number): number {
  return v <= 0.0031308 ? v * 12.92 : 1.055 * Math.pow(v, 1 / 2.4) - 0.055;
}

export function mapInPlace(data: Float32Array, f: (v: number) => number): Float32Array {
  for (let i = 0; i < data.length; i++) data[i] = f(data[i]);
  return data;
}
