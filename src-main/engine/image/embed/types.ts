/** The metadata an encoded file receives, already prepared for export (EXIF orientation 1). */
export interface EmbedMetadata {
  /** EXIF as a TIFF structure (no "Exif\0\0" prefix), or null. */
  exif: Uint8Array | null;
  icc: Uint8Array | null;
  xmp: Uint8Array | null;
  /** Pixels per inch to record, or null to leave the encoder's value. */
  density: number | null;
}

/** What an embedder could not keep, in words for the user (e.g. a profile too large for the format). */
export type EmbedWarnings = string[];
