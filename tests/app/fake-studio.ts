/**
 * A recording StudioApi for the transport unit tests ONLY (validation, grants, bridge auth).
 * Never used by the e2e suite, which runs the real engine.
 */
import type { JobEvent, StudioApi, Asset } from '../../src-shared/contract/types.ts';

export interface RecordedCall {
  method: string;
  args: unknown[];
}

export function fakeStudio(): StudioApi & { calls: RecordedCall[]; emit(e: JobEvent): void; readAsset(p: string): Asset | null } {
  const calls: RecordedCall[] = [];
  const listeners = new Set<(e: JobEvent) => void>();
  const rec =
    <T>(method: string, value: T) =>
    async (...args: unknown[]): Promise<T> => {
      calls.push({ method, args });
      return value;
    };
  return {
    calls,
    emit(e) {
      for (const l of listeners) l(e);
    },
    readAsset(p) {
      return p === 'preview/img1' ? { mime: 'image/png', bytes: new Uint8Array([137, 80, 78, 71]) } : null;
    },
    systemInfo: rec('systemInfo', {
      appVersion: '0.1.0',
      versions: { node: process.versions.node },
      executionProvider: { active: 'cpu', available: ['cpu'], skipped: [] },
      trainingBackend: { name: 'wasm', notes: [] },
      learnedParts: { prior: true, refiner: false },
      threads: 2,
      platform: 'linux',
      settings: { executionProvider: 'auto', threads: 0, tileSize: 512, prior: 'hand-made', refine: true },
      shell: 'browser',
    }),
    updateSettings: rec('updateSettings', { executionProvider: 'cpu', threads: 2, tileSize: 512, prior: 'hand-made', refine: true }),
    recentFiles: rec('recentFiles', ['/photos/recent.jpg']),
    openImage: rec('openImage', {
      id: 'img1', path: '/photos/a.jpg', name: 'a.jpg', width: 10, height: 10, format: 'jpeg', bitDepth: 8, exif: {},
      previewUrl: '/asset/preview/img1', previewWidth: 10, previewHeight: 10,
    }),
    listFolder: rec('listFolder', []),
    closeImage: rec('closeImage', undefined),
    deblur: rec('deblur', { id: 'r1', imageId: 'img1', modelId: 'm', previewUrl: 'x', seconds: 1, provider: 'cpu' }),
    estimateMotion: rec('estimateMotion', {
      imageId: 'img1', grid: { cols: 1, rows: 1, step: 8, vectors: [[4, 4, 1, 0]] }, heatmapUrl: 'x', scaleMaxPx: 4, blurScore: 1,
      blurTraceUrl: 'y', regions: [{ x0: 0, y0: 0, x1: 10, y1: 10, halfExtentPx: 1, confidence: 1, reason: null }], regionCols: 1, regionRows: 1,
    }),
    exportImage: rec('exportImage', { path: '/out/a.jpg' }),
    startBatch: rec('startBatch', 'job-b'),
    startAdapt: rec('startAdapt', 'job-a'),
    finishAdapt: rec('finishAdapt', undefined),
    cancelJob: rec('cancelJob', undefined),
    onJobEvent(cb) {
      listeners.add(cb);
      return () => listeners.delete(cb);
    },
    listModels: rec('listModels', []),
    selectModel: rec('selectModel', undefined),
    deleteModel: rec('deleteModel', undefined),
  };
}
