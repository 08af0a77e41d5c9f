/** Rec. 709 luminance of linear RGB. */
export function colourLuminance(r: number, g: number, b: number): number {
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
