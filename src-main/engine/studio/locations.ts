import path from 'node:path';
import { baseModelsDir, userDataDir } from '../paths.ts';
import { ModelRegistry } from '../models/index.ts';

/** Where personal models live inside the user data folder. */
export function personalModelsDir(userData: string): string {
  return path.join(userData, 'models');
}

/** The registry over the shipped models and this user's personal ones. */
export function createModelRegistry(userData = userDataDir(), modelsDir = baseModelsDir()): ModelRegistry {
  return new ModelRegistry(modelsDir, personalModelsDir(userData));
}
