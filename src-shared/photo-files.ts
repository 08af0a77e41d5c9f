/**
 * Which files are photos, by name: the extensions the app offers to open (the Electron dialog's filter, the
 * browser picker's listing) and the ones a folder scan picks up (batch, adaptation, the folder strip). One list for
 * every process; the content is checked when the engine decodes a file (engine/image/formats.ts sniffs it).
 */
export const PHOTO_EXTENSIONS: readonly string[] = ['.jpg', '.jpeg', '.jpe', '.png', '.tif', '.tiff', '.webp', '.heic', '.heif', '.avif'];

const EXTENSION_SET = new Set(PHOTO_EXTENSIONS);

/** True when the name ends in a photo extension (any case). */
export function hasPhotoExtension(name: string): boolean {
  const dot = name.lastIndexOf('.');
  const slash = Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\'));
  return dot > slash + 1 && EXTENSION_SET.has(name.slice(dot).toLowerCase());
}
