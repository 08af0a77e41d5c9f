import path from 'node:path';
import { isImageError } from '../image/index.ts';

export function errorLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0];
}

/** One line about a failed input that names it once: image errors already start with their file's name. */
export function failureLine(file: string, err: unknown): string {
  return isImageError(err) ? errorLine(err) : `${path.basename(file)}: ${errorLine(err)}`;
}
