import type { ExifSummary, SystemInfo } from '../../src-shared/contract/types.ts';

export function formatEta(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s left`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s left`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min left`;
}

export function percent(f: number): string {
  return `${Math.round(Math.max(0, Math.min(1, f)) * 100)}%`;
}

export function exposure(t: number | undefined): string | undefined {
  if (!t) return undefined;
  return t >= 1 ? `${t} s` : `1/${Math.round(1 / t)} s`;
}

export function exifLines(exif: ExifSummary): Array<[string, string]> {
  const lines: Array<[string, string | undefined]> = [
    ['Camera', [exif.make, exif.model].filter(Boolean).join(' ') || undefined],
    ['Lens', exif.lens],
    ['Exposure', exposure(exif.exposureTime)],
    ['Aperture', exif.fNumber ? `f/${exif.fNumber}` : undefined],
    ['ISO', exif.iso ? String(exif.iso) : undefined],
    ['Focal length', exif.focalLength ? `${exif.focalLength} mm` : undefined],
    ['Taken', exif.dateTaken ? new Date(exif.dateTaken).toLocaleString() : undefined],
  ];
  return lines.filter((l): l is [string, string] => !!l[1]);
}

export function baseName(p: string): string {
  return p.replace(/^.*[\\/]/, '');
}

export function stem(name: string): string {
  return name.replace(/\.[^.]+$/, '');
}

export const EXT: Record<string, string> = { jpeg: 'jpg', png: 'png', tiff: 'tif', webp: 'webp' };

/** "what: message" with `what` named once: the engine's messages about a file already start with its name. */
export function failureText(what: string | undefined, message: string): string {
  return !what || message.startsWith(`${what}: `) ? message : `${what}: ${message}`;
}

/** What deblurs with the current Settings: "MAP core · hand-made prior · refiner (personal: My phone)". */
export function deblurPipelineLabel(sys: SystemInfo): string {
  const prior = sys.settings.prior === 'learned' && sys.learnedParts.prior ? 'learned prior' : 'hand-made prior';
  const refiner = sys.learnedParts.personal ? ` · refiner (personal: ${sys.learnedParts.personal})` : sys.settings.refine && sys.learnedParts.refiner ? ' · refiner' : '';
  return `MAP core · ${prior}${refiner}`;
}
