/**
 * The engine's face for the app: the StudioApi that Electron's IPC handlers and the local bridge forward to
 * (after validating arguments and path grants). Plain Node; never imports electron.
 */
import path from 'node:path';
import fs from 'node:fs/promises';
import { z } from 'zod';
import type {
  AdaptRequest,
  Asset,
  BatchRequest,
  DeblurResult as ApiDeblurResult,
  ExportRequest,
  FolderPhoto,
  ImageInfo,
  JobEvent,
  MotionResult as ApiMotionResult,
  ModelSummary,
  Settings,
  SettingsPatch,
  StudioApi,
  SystemInfo,
} from '../../../src-shared/contract/types.ts';
import { settingsSchema } from '../../../src-shared/contract/schemas.ts';
import { decodeImage, exportImage, type DecodedPhoto } from '../image/index.ts';
import type { DeblurResult } from '../infer/deblur.ts';
import type { MotionResult } from '../infer/motion.ts';
import { heatMap, rasterToPng } from '../infer/motion-render.ts';
import { estimatePhotoBlur } from '../map/photo-blur.ts';
import { deblurWithMapCore } from '../jobs/map-pipeline.ts';
import { deconvolves, ESTIMATE_SHARE as MAP_ESTIMATE_SHARE } from '../map/deblur-photo.ts';
import { withMapThreads, type MapThreads } from '../map/map-threads.ts';
import { learnedParts, partsId, selectedPersonalRefiner } from '../jobs/learned-parts.ts';
import { motionFromEstimate, regionSummary } from '../map/kernel-motion.ts';
import { renderKernelTrace } from '../map/kernel-trace.ts';
import type { BlurEstimate } from '../map/blur-estimate.ts';
import type { ModelSession } from '../infer/session.ts';
import { SessionProvider } from '../infer/session-provider.ts';
import { applyStrength } from '../infer/strength.ts';
import type { Progress } from '../infer/tiling.ts';
import { runBatch, validateBatchFolders } from '../jobs/batch.ts';
import { deblurPhotoFile } from '../jobs/deblur-photo.ts';
import { chooseModels } from '../jobs/model-choice.ts';
import { scanPhotoFolder } from '../jobs/scan-folder.ts';
import { selectionRefusal, type ModelRegistry } from '../models/index.ts';
import { engineInfo } from '../system-info.ts';
import { JobRunner, type JobContext } from './job-runner.ts';
import { JsonStore } from './json-store.ts';
import { createModelRegistry } from './locations.ts';
import { PREVIEW_MAX_SIDE, rasterPreview, resultPreview, THUMBNAIL_MAX_SIDE } from './previews.ts';
import { AdaptJobs } from './adapt-jobs.ts';
import { AnalysisAhead, deblurPreview } from './analysis-ahead.ts';

/** Tile progress of a network run as job progress. */
function tileProgress(progress: JobContext['progress']): (p: Progress) => void {
  return (p) => progress({ fraction: p.fraction, message: `tile ${p.done} of ${p.total}`, etaSeconds: p.etaMs === null ? null : p.etaMs / 1000 });
}

export interface StudioOptions {
  userDataDir: string;
  modelsDir: string;
  /** Turns an asset path ("preview/<id>") into a URL the shell serves. */
  assetUrl: (assetPath: string) => string;
  /** Long side of the display-sized renderings (default PREVIEW_MAX_SIDE; tests use small photos and sides). */
  previewMaxSide?: number;
}

const RecentSchema = z.array(z.string()).max(50);
const RECENT_MAX = 10;
/** Open photos kept in memory; older ones are closed (their results too). */
const OPEN_IMAGES_MAX = 4;
const FOLDER_SCORE_SIDE = 768;

interface OpenImage {
  info: ImageInfo;
  photo: DecodedPhoto;
  /**
   * The MAP core's blur estimate, shared by deblur and the motion view: made in the background from the moment the
   * photo opens (analysis-ahead.ts), or by the first of them to need it.
   */
  estimate: BlurEstimate | null;
  motion: MotionResult | null;
}

interface StoredResult {
  imageId: string;
  result: DeblurResult;
}

export class Studio implements StudioApi {
  private readonly registry: ModelRegistry;
  private readonly jobs = new JobRunner();
  private readonly settingsStore: JsonStore<Settings>;
  private readonly recentStore: JsonStore<string[]>;
  private readonly images = new Map<string, OpenImage>();
  private readonly results = new Map<string, StoredResult>();
  /** Asset path → bytes, or a producer for assets made on first request (thumbnails). */
  private readonly assets = new Map<string, Asset | (() => Promise<Asset>)>();
  private readonly folderScores = new Map<string, { mtimeMs: number; score: number }>();
  private readonly adapt: AdaptJobs;
  private readonly ahead: AnalysisAhead;
  /** Every deblur path's sessions and threads, as Settings choose (the app's deblur, its batch, systemInfo). */
  readonly sessions: SessionProvider;

  constructor(private readonly opts: StudioOptions) {
    this.registry = createModelRegistry(opts.userDataDir, opts.modelsDir);
    this.settingsStore = new JsonStore(path.join(opts.userDataDir, 'settings.json'), (raw) => settingsSchema.parse(raw), () => settingsSchema.parse({}));
    this.sessions = new SessionProvider(() => this.settingsStore.read());
    this.recentStore = new JsonStore(path.join(opts.userDataDir, 'recent.json'), (raw) => RecentSchema.parse(raw), () => []);
    this.adapt = new AdaptJobs(this.registry, this.jobs, opts.userDataDir);
    this.ahead = new AnalysisAhead(() => this.sessions.mapPool());
  }

  // ---- system ----

  async systemInfo(): Promise<SystemInfo> {
    const [info, settings, selected] = await Promise.all([engineInfo(), this.settingsStore.read(), this.registry.selected()]);
    let active = 'no model installed';
    let skipped: Array<{ name: string; reason: string }> = [];
    const session = await this.deblurSession().catch(() => null);
    if (session) {
      active = session.provider.toUpperCase();
      skipped = session.attempts.filter((a) => !a.ok).map((a) => ({ name: a.provider, reason: a.reason ?? 'failed' }));
    }
    return {
      appVersion: info.app,
      versions: info.versions,
      executionProvider: { active, available: info.executionProviders.available, skipped },
      trainingBackend: info.trainingBackend,
      learnedParts: { ...info.learnedParts, ...(selected?.refiner ? { personal: selected.name } : {}) },
      threads: settings.threads || info.threads,
      platform: info.platform,
      settings,
      shell: process.versions.electron ? 'electron' : 'browser',
    };
  }

  async updateSettings(patch: SettingsPatch): Promise<Settings> {
    const next = settingsSchema.parse({ ...(await this.settingsStore.read()), ...patch });
    await this.settingsStore.write(next);
    await this.sessions.close(); // the next run opens sessions with the new provider and threads
    return next;
  }

  async recentFiles(): Promise<string[]> {
    const list = await this.recentStore.read();
    const present = await Promise.all(list.map((p) => fs.access(p).then(() => p, () => null)));
    return present.filter((p): p is string => p !== null);
  }

  // ---- photos ----

  async openImage(file: string): Promise<ImageInfo> {
    const photo = await decodeImage(file);
    const id = this.jobs.newId();
    const preview = await rasterPreview(photo.raster, this.previewSide);
    const info: ImageInfo = {
      id,
      path: file,
      name: path.basename(file),
      width: photo.raster.width,
      height: photo.raster.height,
      format: photo.source.format,
      bitDepth: photo.raster.depth,
      exif: photo.metadata.summary,
      previewUrl: this.addAsset(`preview/${id}.jpg`, { mime: 'image/jpeg', bytes: preview.bytes }),
      previewWidth: preview.width,
      previewHeight: preview.height,
    };
    const img: OpenImage = { info, photo, estimate: null, motion: null };
    this.images.set(id, img);
    await this.evictOldImages();
    // Analysed ahead unless a batch or an adaptation has the cores (Deblur then estimates when clicked).
    if (!this.jobs.longJobRunning) {
      void this.ahead.start(photo.raster, this.previewSide).then((e) => {
        img.estimate ??= e;
      });
    }
    const recent = [file, ...(await this.recentStore.read()).filter((p) => p !== file)].slice(0, RECENT_MAX);
    await this.recentStore.write(recent);
    return info;
  }

  async closeImage(id: string): Promise<void> {
    const img = this.images.get(id);
    if (img) this.ahead.stop(img.photo.raster);
    this.images.delete(id);
    this.dropAssets(`preview/${id}`);
    this.dropAssets(`heatmap/${id}`);
    for (const [rid, r] of this.results) {
      if (r.imageId === id) {
        this.results.delete(rid);
        this.dropAssets(`result/${rid}`);
      }
    }
  }

  async listFolder(dir: string): Promise<FolderPhoto[]> {
    const files = await scanPhotoFolder(dir, { recursive: false });
    const out: FolderPhoto[] = [];
    for (const rel of files) {
      const file = path.join(dir, rel);
      const thumb = `thumb/${this.jobs.newId()}.jpg`;
      this.assets.set(thumb, async () => {
        const photo = await decodeImage(file);
        return { mime: 'image/jpeg', bytes: (await rasterPreview(photo.raster, THUMBNAIL_MAX_SIDE)).bytes };
      });
      const blurScore = await this.folderBlurScore(file).catch(() => undefined);
      out.push({ path: file, name: rel, thumbnailUrl: this.opts.assetUrl(thumb), ...(blurScore === undefined ? {} : { blurScore }) });
    }
    return out;
  }

  async deblur(id: string, jobId: string): Promise<ApiDeblurResult> {
    const img = this.image(id);
    const settings = await this.settingsStore.read();
    const parts = learnedParts({ ...settings, personal: await selectedPersonalRefiner(this.registry) });
    const pool = await this.sessions.mapPool();
    const result = await this.jobs.run(
      jobId,
      'deblur',
      async ({ signal, progress }) => {
        const stage = (p: { stage: string; fraction: number; etaMs: number | null }) => progress({ fraction: p.fraction, message: p.stage, etaSeconds: p.etaMs === null ? null : p.etaMs / 1000 });
        const estimate = await this.estimateOf(img, pool, signal, (f) => stage({ stage: 'estimating blur', fraction: MAP_ESTIMATE_SHARE * f, etaMs: null }));
        // A display-sized first look (the MAP core alone) shows while the full resolution is deblurred.
        const preview = deconvolves(estimate) ? ((await this.ahead.preview(img.photo.raster, signal)) ?? (await deblurPreview(img.photo.raster, estimate, this.previewSide, pool, signal))) : null;
        if (preview) {
          const rendering = await resultPreview(preview, this.previewSide);
          const previewUrl = this.addAsset(`preview/${id}-deblur-${jobId}.jpg`, { mime: 'image/jpeg', bytes: rendering.bytes });
          progress({ fraction: MAP_ESTIMATE_SHARE, message: 'preview shown; deblurring at full resolution', etaSeconds: null, previewUrl });
        }
        return deblurWithMapCore(img.photo.raster, {
          parts,
          openRefiner: (file) => this.sessions.open(file, 'refine'),
          signal,
          ...(pool ? { pool } : { threads: 1 }),
          tileSize: settings.tileSize,
          estimate,
          onProgress: stage,
        });
      },
      (r) => ({
        message: !deconvolves(r.estimate)
          ? `no blur worth undoing was found (${r.estimate.regions[0]?.reason ?? 'sharp'}): the photo is left as it was`
          : `deblurred in ${r.seconds.toFixed(1)} s`,
      }),
    );
    img.estimate = result.estimate;
    const resultId = this.jobs.newId();
    this.results.set(resultId, { imageId: id, result });
    const preview = await resultPreview(result, this.previewSide);
    return {
      id: resultId,
      imageId: id,
      modelId: partsId(parts),
      previewUrl: this.addAsset(`result/${resultId}.jpg`, { mime: 'image/jpeg', bytes: preview.bytes }),
      seconds: result.seconds,
      provider: String(result.provider).toUpperCase(),
    };
  }

  async estimateMotion(id: string, jobId: string): Promise<ApiMotionResult> {
    const img = this.image(id);
    const motion = await this.motionOf(img, jobId);
    const estimate = img.estimate!;
    const heat = heatMap(motion.field, { maxSide: this.previewSide });
    return {
      imageId: id,
      grid: {
        cols: motion.grid.cols,
        rows: motion.grid.rows,
        step: motion.grid.step,
        vectors: motion.grid.cells.map((c) => [c.x, c.y, c.u, c.v] as [number, number, number, number]),
      },
      heatmapUrl: this.addAsset(`heatmap/${id}.png`, { mime: 'image/png', bytes: await rasterToPng(heat.raster) }),
      scaleMaxPx: heat.maxPx,
      blurScore: motion.blurScore,
      blurTraceUrl: this.addAsset(`heatmap/${id}-trace.png`, { mime: 'image/png', bytes: await rasterToPng(renderKernelTrace(estimate)) }),
      regions: estimate.regions.map(regionSummary),
      regionCols: estimate.cols,
      regionRows: estimate.rows,
    };
  }

  async exportImage(req: ExportRequest): Promise<{ path: string }> {
    const stored = this.results.get(req.resultId);
    if (!stored) throw new Error('that result is no longer open: deblur the photo again');
    const img = this.image(stored.imageId);
    const motion = req.protectSharp ? await this.motionOf(img, this.jobs.newId()) : null;
    const raster = applyStrength(img.photo.raster, stored.result, req.strength, { protect: motion ? { field: motion.field } : null });
    const res = await exportImage(raster, img.photo.metadata, {
      path: req.path,
      format: req.format,
      quality: req.quality,
      bitDepth: req.bitDepth,
      overwrite: req.overwrite,
      sourcePath: img.info.path,
    });
    return { path: res.path };
  }

  // ---- jobs ----

  async startBatch(req: BatchRequest): Promise<string> {
    const settings = await this.settingsStore.read();
    const parts = learnedParts({ ...settings, personal: await selectedPersonalRefiner(this.registry) });
    const jobId = this.jobs.newId();
    const batchSettings = {
      inputDir: req.inputDir,
      outputDir: req.outputDir,
      recursive: req.recursive,
      format: req.format,
      quality: req.quality,
      suffix: req.suffix,
      skipExisting: req.skipExisting,
      processing: { model: partsId(parts), strength: req.strength, protectSharp: req.protectSharp },
    };
    // Checks that would fail every file fail the call itself, before a job id is handed out.
    await validateBatchFolders(batchSettings);
    this.jobs.assertCanStart('batch');
    void this.jobs
      .run(
        jobId,
        'batch',
        ({ signal, progress }) =>
          runBatch(
            batchSettings,
            (input, output, ctx) =>
              deblurPhotoFile({ kind: 'map', parts }, input, output, {
                strength: req.strength,
                protectSharp: req.protectSharp,
                format: req.format,
                quality: req.quality,
                overwrite: ctx.overwrite,
                sessions: this.sessions,
                tileSize: settings.tileSize,
                signal: ctx.signal,
                onFraction: ctx.onFraction,
              }).then(() => undefined),
            {
              signal,
              onProgress: (p) =>
                progress({
                  fraction: (p.index + p.fileFraction) / Math.max(1, p.total),
                  message: `${p.done} done, ${p.skipped} skipped, ${p.failed} failed of ${p.total}`,
                  etaSeconds: p.etaSeconds,
                  file: { index: p.index, total: p.total, name: p.file, status: p.status, ...(p.error ? { error: p.error } : {}) },
                }),
            },
          ),
        (s) => ({
          message: s.stoppedBy ? `stopped: ${s.stoppedBy}` : `${s.done} done, ${s.skipped} skipped, ${s.failed.length} failed of ${s.total}`,
          result: s,
        }),
      )
      .catch(() => undefined); // the job's own final event carries the error
    return jobId;
  }

  startAdapt(req: AdaptRequest): Promise<string> {
    return this.adapt.start(req);
  }

  finishAdapt(jobId: string, keep: boolean): Promise<void> {
    return this.adapt.finish(jobId, keep);
  }

  async cancelJob(jobId: string): Promise<void> {
    this.jobs.cancel(jobId);
  }

  onJobEvent(cb: (e: JobEvent) => void): () => void {
    return this.jobs.onEvent(cb);
  }

  // ---- models ----

  async listModels(): Promise<ModelSummary[]> {
    return (await this.registry.list()).map((m) => ({
      id: m.id,
      name: m.name,
      kind: m.origin,
      task: m.refiner ? 'refine' : m.kind,
      selected: m.selected,
      selectable: selectionRefusal(m) === null,
      ...(m.card?.created ? { created: m.card.created } : {}),
      ...(m.card?.baseModel ? { baseModel: String(m.card.baseModel) } : {}),
      ...(m.card?.metrics ? { metrics: m.card.metrics as Record<string, number> } : {}),
      ...(m.ok ? {} : { error: m.error ?? 'cannot be loaded' }),
    }));
  }

  async selectModel(id: string): Promise<void> {
    await this.registry.select(id);
  }

  async deleteModel(id: string): Promise<void> {
    await this.registry.delete(id);
  }

  // ---- assets ----

  async readAsset(assetPath: string): Promise<Asset | null> {
    const a = this.assets.get(assetPath);
    if (!a) return null;
    if (typeof a !== 'function') return a;
    const made = await a();
    this.assets.set(assetPath, made);
    return made;
  }

  async dispose(): Promise<void> {
    this.jobs.cancelAll();
    this.ahead.stop();
    await this.adapt.dispose();
    await this.sessions.close();
  }

  // ---- internals ----

  private get previewSide(): number {
    return this.opts.previewMaxSide ?? PREVIEW_MAX_SIDE;
  }

  private image(id: string): OpenImage {
    const img = this.images.get(id);
    if (!img) throw new Error('that photo is no longer open: open it again');
    return img;
  }

  private addAsset(assetPath: string, asset: Asset): string {
    this.assets.set(assetPath, asset);
    return this.opts.assetUrl(assetPath);
  }

  private dropAssets(prefix: string): void {
    for (const k of this.assets.keys()) if (k.startsWith(prefix)) this.assets.delete(k);
  }

  private async evictOldImages(): Promise<void> {
    const ids = [...this.images.keys()];
    for (const id of ids.slice(0, Math.max(0, ids.length - OPEN_IMAGES_MAX))) await this.closeImage(id);
  }

  private async deblurSession(): Promise<ModelSession> {
    return this.sessions.open((await chooseModels(this.registry)).deblur, 'deblur');
  }

  private async motionOf(img: OpenImage, jobId: string): Promise<MotionResult> {
    if (img.motion) return img.motion;
    const estimate =
      img.estimate ??
      (await this.jobs.run(
        jobId,
        'motion',
        async ({ signal, progress }) => this.estimateOf(img, await this.sessions.mapPool(), signal, (f) => progress({ fraction: f, message: 'estimating blur', etaSeconds: null })),
        (e) => ({ message: `blur score ${motionFromEstimate(e).blurScore.toFixed(1)} px` }),
      ));
    img.motion = motionFromEstimate(estimate);
    return img.motion;
  }

  /** This photo's blur estimate: made already, being made ahead (waited for), or made now on the warm threads. */
  private async estimateOf(img: OpenImage, pool: MapThreads | null, signal: AbortSignal, onProgress: (fraction: number) => void): Promise<BlurEstimate> {
    const raster = img.photo.raster;
    img.estimate ??=
      (await this.ahead.estimate(raster, signal, onProgress)) ??
      (pool ? await withMapThreads(pool, signal, (regions) => estimatePhotoBlur(raster, { signal, onProgress, regions })) : await estimatePhotoBlur(raster, { signal, onProgress, threads: 1 }));
    return img.estimate;
  }

  /** A photo's blur score, from the same estimate as the motion view; cached by modification time. */
  private async folderBlurScore(file: string): Promise<number> {
    const st = await fs.stat(file);
    const hit = this.folderScores.get(file);
    if (hit && hit.mtimeMs === st.mtimeMs) return hit.score;
    const photo = await decodeImage(file);
    const score = motionFromEstimate(await estimatePhotoBlur(photo.raster)).blurScore;
    this.folderScores.set(file, { mtimeMs: st.mtimeMs, score });
    return score;
  }

}
