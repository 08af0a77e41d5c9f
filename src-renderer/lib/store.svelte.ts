/** Editor state and actions (Svelte 5 runes). Components read `app` and call its methods. */
import type {
  DeblurResult, FolderPhoto, ImageInfo, JobEvent, ModelSummary, MotionResult, OutputFormat, SystemInfo,
} from '../../src-main/ipc/contract.ts';
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

let toastSeq = 0;

export class AppState {
  api!: ShellApi;
  module = $state<Module>('edit');
  sys = $state<SystemInfo | null>(null);
  models = $state<ModelSummary[]>([]);
  recent = $state<string[]>([]);

  image = $state<ImageInfo | null>(null);
  result = $state<DeblurResult | null>(null);
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
  /** Latest event of every job, by id (batch and adapt panels read their own). */
  jobs = $state<Record<string, JobEvent>>({});
  private jobListeners = new Set<(e: JobEvent) => void>();

  async init(api: ShellApi): Promise<void> {
    this.api = api;
    api.onJobEvent((e) => this.onJob(e));
    await Promise.all([
      this.refreshSystem(),
      this.refreshModels(),
      api.recentFiles().then((r) => (this.recent = r), () => {}),
    ]);
  }

  onJobEvent(cb: (e: JobEvent) => void): () => void {
    this.jobListeners.add(cb);
    return () => this.jobListeners.delete(cb);
  }

  private onJob(e: JobEvent): void {
    this.jobs[e.jobId] = e;
    if (this.busy && this.busy.jobId === e.jobId) {
      this.busy.fraction = e.fraction;
      this.busy.message = e.message;
    }
    for (const l of this.jobListeners) l(e);
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
    const r = await this.runJob('deblur', 'Deblur', (jobId) => this.api.deblur(img.id, jobId));
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
    if (this.result) this.showBefore = !this.showBefore;
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
