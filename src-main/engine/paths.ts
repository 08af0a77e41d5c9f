import { fileURLToPath } from 'node:url';
import path from 'node:path';
import os from 'node:os';

/** The package root (where package.json and models/ live), both from sources and from the packaged app. */
export const appRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Shipped networks; NEURMAP_MODELS_DIR overrides for tests and for developers trying new weights. */
export function baseModelsDir(): string {
  return process.env.NEURMAP_MODELS_DIR ?? path.join(appRoot, 'models');
}

/** Per-user data (personal models, settings, recent files), following each platform's convention. */
export function userDataDir(): string {
  if (process.env.NEURMAP_USER_DATA) return process.env.NEURMAP_USER_DATA;
  const home = os.homedir();
  if (process.platform === 'win32') return path.join(process.env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'NeurMAP Studio');
  if (process.platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'NeurMAP Studio');
  return path.join(process.env.XDG_DATA_HOME ?? path.join(home, '.local', 'share'), 'neurmap-studio');
}
