/** Editor state and actions (Svelte 5 runes). Components read `app` and call its methods. */
import type {
  BatchRequest, DeblurResult, FolderPhoto, ImageInfo, JobEvent, JobEventOf, ModelSummary, MotionResult, OutputFormat, SystemInfo,
} from '../../src-shared/contract/types.ts';
import { errorMessage, newJobId, type ShellApi } from './api.ts';
import { EXT, baseName, failureText, stem } from './format.ts';

export type Module = 'edit' | 'batch' | 'adapt' | 'models' | 'settings' | 'about';
export type Zoom = 'fit' | number;
export type SortKey = 'name' | 'blur-desc' | 'blur-asc';

export interface Toast {
  id: number;
  kind: 'error' | 'info' | 'success';
  text: string;
}

export interface Busy {
  jobId: string;
  label: string;
  fraction: number;
  message: string;
  cancellable: boolean;
}

export interface ExportOptions {
  format: OutputFormat;
  quality: number;
  bitDepth: 8 | 16;
  protectSharp: boolean;
}

/** One photo of a batch as its panel lists it. */
export interface BatchFileRow {
  index: number;
  name: string;
  status: 'running' | 'done' | 'skipped' | 'failed';
  error?: string;
}

/**
 * A batch or an adaptation. It runs in the engine whichever view is shown, so its state lives here: the top bar
 * shows it on every view and its panel shows it again when the user comes back.
 */
interface LongJob<K extends 'batch' | 'adapt'> {
  jobId: string;
  /** The latest event; null until the first arrives. */
  last: JobEventOf<K> | null;
}

export interface BatchJob extends LongJob<'batch'> {
  files: Record<number, BatchFileRow>;
}

export interface AdaptJob extends LongJob<'adapt'> {
  /** The personal model's name ('' for a job this page did not start). */
  name: string;
  series: Record<string, Array<[number, number]>>;
  /** How much sharper the held-out photos are than before adapting (percent), by iteration. */
  sharper: Array<[number, number]>;
  iterations: number;
  iterationsPerSecond: number;
  decided: 'kept' | 'discarded' | null;
}

export interface AdaptForm {
  blurryDir: string;
  sharpDir: string;
  name: string;
  minutes: number;
  baseModelId: string;
}

const LONG_LABELS = { batch: 'Batch', adapt: 'Adaptation' } as const;

/** What a batch that stopped early did and did not do, from its summary (the final event's result). */
export function batchOutcome(e: JobEventOf<'batch'>): string {
  const s = e.result;
  if (!s) return e.message;
  const notProcessed = s.total - s.done - s.skipped - s.failed.length;
  const did = `${s.done} done, ${s.skipped} skipped, ${s.failed.length} failed of ${s.total}`;
  return notProcessed > 0 ? `${did}; ${notProcessed} not processed` : did;
}

let toastSeq = 0;

export class AppState {
  api!: ShellApi;
  module = $state<Module>('edit');
  sys = $state<SystemInfo | null>(null);
  models = $state<ModelSummary[]>([]);
  recent = $state<string[]>([]);

  image = $state<ImageInfo | null>(null);
  result = $state<DeblurResult | null>(null);
  /** A running deblur's display-sized first look, shown until its result replaces it. */
  preview = $state<{ id: string; previewUrl: string } | null>(null);
  /** The deblur whose preview may show: its job, and the photo it deblurs. */
  private previewFor: { jobId: string; imageId: string } | null = null;
  motion = $state<MotionResult | null>(null);
  strength = $state(1);
  compare = $state<'split' | 'side'>('split');
  showBefore = $state(false);
  split = $state(0.5);
  zoom = $state<Zoom>('fit');
  overlay = $state<'none' | 'quiver' | 'heatmap' | 'both'>('none');
  arrowScale = $state(1);
  heatOpacity = $state(0.65);

  folder = $state<{ dir: string; photos: FolderPhoto[] } | null>(null);
  sort = $state<SortKey>('name');

  busy = $state<Busy | null>(null);
  opening = $state(false);
  toasts = $state<Toast[]>([]);
  exportOptions = $state<ExportOptions>({ format: 'jpeg', quality: 92, bitDepth: 8, protectSharp: false });
  /** Latest event of every job, by id. */
  jobs = $state<Record<string, JobEvent>>({});
  batchForm = $state<Omit<BatchRequest, 'strength'>>({
    inputDir: '',
    outputDir: '',
    recursive: false,
    format: 'jpeg',
    quality: 92,
    suffix: '-deblurred',
    skipExisting: true,
    protectSharp: false,
  });
  batch = $state<BatchJob | null>(null);
  adaptForm = $state<AdaptForm>({ blurryDir: '', sharpDir: '', name: 'My photos', minutes: 10, baseModelId: '' });
  adapt = $state<AdaptJob | null>(null);
  /** True while a start call is on its way (the engine has not answered with a job id yet). */
  startingLong = $state(false);

  /** The batch or adaptation that runs now, if any (the engine runs one at a time). */
  get longJob(): { kind: 'batch' | 'adapt'; label: string; job: BatchJob | AdaptJob } | null {
    for (const kind of ['batch', 'adapt'] as const) {
      const job = this[kind];
      if (job && (!job.last || job.last.state === 'running')) return { kind, label: LONG_LABELS[kind], job };
    }
    return null;
  }

  async init(api: ShellApi): Promise<void> {
    this.api = api;
    api.onJobEvent((e) => this.onJob(e));
    await Promise.all([
      this.refreshSystem(),
      this.refreshModels(),
      api.recentFiles().then((r) => (this.recent = r), () => {}),
    ]);
  }

  /** What the viewer shows as "after": the result, or the running deblur's preview. */
  get after(): { id: string; previewUrl: string } | null {
    return this.result ?? this.preview;
  }

  private onJob(e: JobEvent): void {
    this.jobs[e.jobId] = e;
    const p = this.previewFor;
    if (e.kind === 'deblur' && e.previewUrl && p?.jobId === e.jobId && this.image?.id === p.imageId) {
      this.preview = { id: `preview-${e.jobId}`, previewUrl: e.previewUrl };
      this.showBefore = false;
    }
    if (this.busy && this.busy.jobId === e.jobId) {
      this.busy.fraction = e.fraction;
      this.busy.message = e.message;
    }
    if (e.kind === 'batch') this.onBatchEvent(e);
    else if (e.kind === 'adapt') this.onAdaptEvent(e);
  }

  /** A running job this page did not start (its events can also come before the start call answers) is adopted. */
  private adopt<K extends 'batch' | 'adapt'>(kind: K, e: JobEvent): boolean {
    if (this[kind]?.jobId === e.jobId) return true;
    if (e.state !== 'running') return false;
    if (kind === 'batch') this.batch = { jobId: e.jobId, last: null, files: {} };
    else this.adapt = { jobId: e.jobId, name: '', last: null, series: {}, sharper: [], iterations: 0, iterationsPerSecond: 0, decided: null };
    return true;
  }

  private onBatchEvent(e: JobEventOf<'batch'>): void {
    if (!this.adopt('batch', e) || !this.batch) return;
    this.batch.last = e;
    if (e.file) this.batch.files[e.file.index] = { index: e.file.index, name: e.file.name, status: e.file.status, error: e.file.error };
    if (e.state !== 'running') this.longJobEnded('batch', e, e.state === 'cancelled' ? batchOutcome(e) : e.message);
  }

  private onAdaptEvent(e: JobEventOf<'adapt'>): void {
    if (!this.adopt('adapt', e) || !this.adapt) return;
    const job = this.adapt;
    job.last = e;
    const t = e.training;
    if (t) {
      job.iterations = t.iterations;
      job.iterationsPerSecond = t.iterationsPerSecond;
      for (const [k, v] of Object.entries(t.losses)) {
        const s = (job.series[k] ??= []);
        if (!s.length || s[s.length - 1][0] !== t.iteration) s.push([t.iteration, v]);
        if (s.length > 2000) job.series[k] = s.filter((_, i) => i % 2 === 0);
      }
      if (t.sharper && job.sharper[job.sharper.length - 1]?.[0] !== t.sharper.iteration) job.sharper.push([t.sharper.iteration, t.sharper.percent]);
    }
    if (e.state !== 'running') this.longJobEnded('adapt', e, e.message);
  }

  /** The panel shows how a job ended; from any other view a toast says it. */
  private longJobEnded(kind: 'batch' | 'adapt', e: JobEvent, line: string): void {
    if (this.module === kind) return;
    const state = e.state === 'done' ? 'finished' : e.state;
    this.toast(e.state === 'failed' ? 'error' : e.state === 'done' ? 'success' : 'info', `${LONG_LABELS[kind]} ${state}: ${line}`);
  }

  async startBatch(): Promise<void> {
    if (this.longJob || this.startingLong) return;
    this.startingLong = true;
    try {
      const id = await this.api.startBatch({ ...$state.snapshot(this.batchForm), strength: this.strength });
      // Its first events may have come before the answer and adopted it already.
      const seen = this.jobs[id];
      if (this.batch?.jobId !== id) this.batch = { jobId: id, last: seen?.kind === 'batch' ? seen : null, files: {} };
    } catch (err) {
      this.fail(err, 'Batch');
    } finally {
      this.startingLong = false;
    }
  }

  async startAdapt(): Promise<void> {
    const f = this.adaptForm;
    if (!f.blurryDir || !f.name.trim() || this.longJob || this.startingLong) return;
    this.startingLong = true;
    try {
      const name = f.name.trim();
      const id = await this.api.startAdapt({
        blurryDir: f.blurryDir,
        ...(f.sharpDir ? { sharpDir: f.sharpDir } : {}),
        name,
        minutes: f.minutes,
        ...(f.baseModelId ? { baseModelId: f.baseModelId } : {}),
      });
      const seen = this.jobs[id];
      if (this.adapt?.jobId === id) this.adapt.name = name;
      else this.adapt = { jobId: id, name, last: seen?.kind === 'adapt' ? seen : null, series: {}, sharper: [], iterations: 0, iterationsPerSecond: 0, decided: null };
    } catch (err) {
      this.fail(err, 'Adapt');
    } finally {
      this.startingLong = false;
    }
  }

  async finishAdapt(keep: boolean): Promise<void> {
    const job = this.adapt;
    if (!job) return;
    try {
      await this.api.finishAdapt(job.jobId, keep);
      job.decided = keep ? 'kept' : 'discarded';
      await this.refreshModels();
      this.toast('success', keep ? `Personal model${job.name ? ` “${job.name}”` : ''} saved` : 'Adapted model discarded');
    } catch (err) {
      this.fail(err, keep ? 'Keep model' : 'Discard model');
    }
  }

  async cancelJob(jobId: string): Promise<void> {
    try {
      await this.api.cancelJob(jobId);
    } catch (err) {
      this.fail(err, 'Cancel');
    }
  }

  toast(kind: Toast['kind'], text: string, ms = kind === 'error' ? 9000 : 4000): void {
    const id = ++toastSeq;
    this.toasts.push({ id, kind, text });
    setTimeout(() => this.dismiss(id), ms);
  }

  dismiss(id: number): void {
    this.toasts = this.toasts.filter((t) => t.id !== id);
  }

  fail(err: unknown, what?: string): void {
    this.toast('error', failureText(what, errorMessage(err)));
  }

  async refreshSystem(): Promise<void> {
    try {
      this.sys = await this.api.systemInfo();
      if (this.sys && this.api.shell) this.sys.shell = this.api.shell;
    } catch (err) {
      this.fail(err, 'System information');
    }
  }

  async refreshModels(): Promise<void> {
    try {
      this.models = await this.api.listModels();
    } catch (err) {
      this.fail(err, 'Models');
    }
  }

  // ---- opening ---------------------------------------------------------------------------------------
  async openDialog(): Promise<void> {
    try {
      const paths = await this.api.showOpenDialog();
      if (paths.length) await this.openPath(paths[0]);
      if (paths.length > 1) this.toast('info', `Opened ${baseName(paths[0])}; ${paths.length - 1} more added to Recent`);
    } catch (err) {
      this.fail(err, 'Open');
    }
  }

  async openFolderDialog(): Promise<void> {
    try {
      const dir = await this.api.showFolderDialog('open');
      if (dir) await this.openFolder(dir);
    } catch (err) {
      this.fail(err, 'Open folder');
    }
  }

  async openFolder(dir: string): Promise<void> {
    this.opening = true;
    try {
      const photos = await this.api.listFolder(dir);
      this.folder = { dir, photos };
      this.module = 'edit';
      if (photos.length === 0) this.toast('info', 'No photos in that folder');
      else if (!this.image) await this.openPath(photos[0].path);
    } catch (err) {
      this.fail(err, 'Open folder');
    } finally {
      this.opening = false;
    }
  }

  async openDropped(files: File[]): Promise<void> {
    if (!files.length) return;
    this.opening = true;
    try {
      const paths = await this.api.pathsForDroppedFiles(files);
      if (!paths.length) {
        this.toast('error', 'The dropped item could not be opened (only files from this computer can be dropped)');
        return;
      }
      await this.openPath(paths[0]);
    } catch (err) {
      this.fail(err, 'Drop');
    } finally {
      this.opening = false;
    }
  }

  async openPath(path: string): Promise<void> {
    this.opening = true;
    try {
      const info = await this.api.openImage(path);
      const old = this.image;
      this.image = info;
      this.result = null;
      this.preview = null;
      this.motion = null;
      this.showBefore = false;
      this.zoom = 'fit';
      this.module = 'edit';
      if (old && old.id !== info.id) this.api.closeImage(old.id).catch(() => {});
      this.api.recentFiles().then((r) => (this.recent = r), () => {});
    } catch (err) {
      this.fail(err, baseName(path));
    } finally {
      this.opening = false;
    }
  }

  sortedPhotos(): FolderPhoto[] {
    const photos = [...(this.folder?.photos ?? [])];
    const score = (p: FolderPhoto) => p.blurScore ?? Number.NaN;
    if (this.sort === 'name') photos.sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));
    else {
      const dir = this.sort === 'blur-desc' ? -1 : 1;
      photos.sort((a, b) => {
        const sa = score(a);
        const sb = score(b);
        if (Number.isNaN(sa) && Number.isNaN(sb)) return a.name.localeCompare(b.name);
        if (Number.isNaN(sa)) return 1;
        if (Number.isNaN(sb)) return -1;
        return dir * (sa - sb);
      });
    }
    return photos;
  }

  // ---- the network -----------------------------------------------------------------------------------
  private async runJob<T>(kind: 'deblur' | 'motion', label: string, fn: (jobId: string) => Promise<T>): Promise<T | null> {
    if (this.busy) return null;
    const jobId = newJobId(kind);
    this.busy = { jobId, label, fraction: 0, message: '', cancellable: true };
    try {
      return await fn(jobId);
    } catch (err) {
      const ev = this.jobs[jobId];
      if (ev?.state === 'cancelled' || /cancel/i.test(errorMessage(err))) this.toast('info', `${label} cancelled`);
      else this.fail(err, label);
      return null;
    } finally {
      this.busy = null;
    }
  }

  async deblur(): Promise<void> {
    const img = this.image;
    if (!img) return;
    const r = await this.runJob('deblur', 'Deblur', (jobId) => {
      this.previewFor = { jobId, imageId: img.id };
      return this.api.deblur(img.id, jobId);
    });
    this.previewFor = null;
    this.preview = null;
    if (r && this.image?.id === img.id) {
      this.result = r;
      this.showBefore = false;
    }
  }

  async analyzeMotion(): Promise<void> {
    const img = this.image;
    if (!img) return;
    const m = await this.runJob('motion', 'Motion analysis', (jobId) => this.api.estimateMotion(img.id, jobId));
    if (m && this.image?.id === img.id) {
      this.motion = m;
      if (this.overlay === 'none') this.overlay = 'quiver';
    }
  }

  async cancelBusy(): Promise<void> {
    if (!this.busy) return;
    try {
      await this.api.cancelJob(this.busy.jobId);
    } catch (err) {
      this.fail(err, 'Cancel');
    }
  }

  async exportResult(): Promise<void> {
    const img = this.image;
    const res = this.result;
    if (!img || !res) {
      this.toast('info', img ? 'Deblur the photo first, then export' : 'Open a photo first');
      return;
    }
    const o = this.exportOptions;
    try {
      const name = `${stem(img.name)}-deblurred.${EXT[o.format]}`;
      const path = await this.api.showSaveDialog(name, o.format);
      if (!path) return;
      this.busy = { jobId: '', label: 'Export', fraction: 0, message: baseName(path), cancellable: false };
      const out = await this.api.exportImage({
        resultId: res.id,
        strength: this.strength,
        protectSharp: o.protectSharp,
        format: o.format,
        quality: o.quality,
        bitDepth: o.format === 'jpeg' || o.format === 'webp' ? 8 : o.bitDepth,
        path,
        overwrite: true,
      });
      this.toast('success', `Exported ${baseName(out.path)}`);
    } catch (err) {
      this.fail(err, 'Export');
    } finally {
      if (this.busy?.label === 'Export') this.busy = null;
    }
  }

  // ---- view ------------------------------------------------------------------------------------------
  toggleBefore(): void {
    if (this.after) this.showBefore = !this.showBefore;
  }

  async selectModel(id: string): Promise<void> {
    try {
      await this.api.selectModel(id);
      await this.refreshModels();
      this.result = null;
    } catch (err) {
      this.fail(err, 'Model');
    }
  }
}

export const app = new AppState();
