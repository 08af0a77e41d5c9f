import path from 'node:path';

/** Where personal models live inside the user data folder. */
export function personalModelsDir(userData: string): string {
  return path.join(userData, 'models');
}
