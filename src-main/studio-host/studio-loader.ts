/**
 * Loads the engine's Studio inside the engine host process. The shells know the Studio only through the
 * StudioApi contract and the host's messages.
 */
import type { Asset, StudioApi } from '../../src-shared/contract/types.ts';

export interface StudioOptions {
  userDataDir: string;
  modelsDir: string;
  /** Turns an engine asset path ("preview/<id>") into a URL this shell serves. */
  assetUrl: (assetPath: string) => string;
}

/** What a shell needs from the engine: the API, plus the bytes behind the asset URLs it handed out. */
export type StudioService = StudioApi & {
  readAsset(assetPath: string): Asset | null | Promise<Asset | null>;
  dispose?(): unknown;
  close?(): unknown;
};

export async function loadStudio(options: StudioOptions): Promise<StudioService> {
  const mod = (await import('../engine/studio/studio.ts')) as unknown as {
    Studio: new (o: StudioOptions) => StudioService;
  };
  return new mod.Studio(options);
}

/** Lets go of the Studio's workers and files, whatever the engine calls that. */
export async function disposeStudio(studio: StudioService): Promise<void> {
  if (typeof studio.dispose === 'function') await studio.dispose();
  else if (typeof studio.close === 'function') await studio.close();
}
