/**
 * The one API the renderer sees, whether through Electron's preload (window.neurmap) or the local
 * bridge in a plain browser. Types only: no Node or Electron imports, so the renderer can import it.
 * Every argument is validated in the main process / bridge (see schemas.ts) before it reaches the engine.
 */

export type ImageId = string;
export type ResultId = string;
export type JobId = string;
export type ModelId = string;

export type OutputFormat = 'jpeg' | 'png' | 'tiff' | 'webp';
export type ExecutionProviderChoice = 'auto' | 'cuda' | 'dml' | 'coreml' | 'cpu';

export interface ExifSummary {
  make?: string;
  model?: string;
  lens?: string;
  /** Seconds, e.g. 0.008 for 1/125 s. */
  exposureTime?: number;
  fNumber?: number;
  iso?: number;
  /** Millimetres (the real focal length). */
  focalLength?: number;
  /** Local time the photo was taken, "2024-05-06T07:08:09", with "+02:00" appended when the camera recorded the offset. */
  dateTaken?: string;
}

export interface ImageInfo {
  id: ImageId;
  path: string;
  name: string;
  width: number;
  height: number;
  format: string;
  bitDepth: 8 | 16;
  exif: ExifSummary;
  /** URL of a display-sized rendering (served by the custom protocol or the bridge; never base64 over IPC). */
  previewUrl: string;
  previewWidth: number;
  previewHeight: number;
}

export interface DeblurResult {
  id: ResultId;
  imageId: ImageId;
  /** What produced it: 'map' for the MAP core. */
  modelId: ModelId;
  /** The deblurred photo (strength 1) at preview size; the renderer blends strength itself for instant feedback. */
  previewUrl: string;
  seconds: number;
  provider: string;
}

/** Arrows on a coarse grid: cell centre (x, y) and motion (u, v), all in image pixels, canonical sign. */
export interface QuiverGrid {
  cols: number;
  rows: number;
  step: number;
  vectors: Array<[x: number, y: number, u: number, v: number]>;
}

export interface MotionResult {
  imageId: ImageId;
  grid: QuiverGrid;
  /** Magnitude heat map at preview size, and the magnitude (px) at the top of its colour scale. */
  heatmapUrl: string;
  scaleMaxPx: number;
  /** Per-photo blur score in pixels (higher = blurrier). */
  blurScore: number;
  /** The estimated kernels ("blur trace"), one per region laid out as on the photo, as an image. */
  blurTraceUrl: string;
  /** The regions behind the trace, row-major: bounds in image px, half-extent of the blur and the guard's verdict. */
  regions: BlurRegion[];
  regionCols: number;
  regionRows: number;
}

export interface BlurRegion {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  halfExtentPx: number;
  /** 0 (left as shot) … 1 (fully deblurred). */
  confidence: number;
  /** Why the confidence is low, when it is (for example "sharp", "no structure"). */
  reason: string | null;
}

export interface ExportRequest {
  resultId: ResultId;
  /** 0 = original, 1 = network output, up to 2 extrapolates. */
  strength: number;
  protectSharp: boolean;
  format: OutputFormat;
  quality: number;
  bitDepth: 8 | 16;
  /** A path granted by the save dialog in this run. */
  path: string;
  overwrite: boolean;
}

export interface BatchRequest {
  inputDir: string;
  outputDir: string;
  recursive: boolean;
  format: OutputFormat;
  quality: number;
  suffix: string;
  skipExisting: boolean;
  strength: number;
  protectSharp: boolean;
}

export interface AdaptRequest {
  blurryDir: string;
  sharpDir?: string;
  name: string;
  minutes?: number;
  iterations?: number;
  baseModelId?: ModelId;
}

export type JobKind = 'deblur' | 'motion' | 'batch' | 'adapt';

/** The held-out score of a model in an adaptation: never trained on, scored before and after. */
export interface HeldOutScore {
  /** Motion the base motion model still finds in the deblurred photos, mean px (lower: sharper). */
  motionLeftPx: number;
  /** PSNR in dB between each photo and its reblur from the deblurred one (higher: more consistent). */
  reblurPsnr: number;
}

/** The before/after card of a finished adaptation (the final JobEvent's `result`), shown before keep/discard. */
export interface AdaptSummary {
  status: 'completed' | 'cancelled' | 'stopped';
  iterations: number;
  /** The iteration this run continued from (the checkpoint a cancelled run with the same name kept), else null. */
  resumedFrom: number | null;
  seconds: number;
  before: HeldOutScore;
  after: HeldOutScore;
  better: boolean;
  training: { blurry: number; heldOut: number; sharp: number; sharpSource: 'given' | 'library' | 'bundled'; skipped: string[] };
}

export interface JobEvent {
  jobId: JobId;
  kind: JobKind;
  state: 'running' | 'done' | 'failed' | 'cancelled';
  /** 0..1 of the whole job. */
  fraction: number;
  message: string;
  etaSeconds: number | null;
  /** Batch: the file being processed and per-file outcomes. */
  file?: { index: number; total: number; name: string; status: 'running' | 'done' | 'skipped' | 'failed'; error?: string };
  /** Adapt: the iteration and every loss value, for live curves. */
  training?: { iteration: number; iterations: number; losses: Record<string, number>; iterationsPerSecond: number };
  /** Final outcome (batch summary, adapt before/after card), present when state is not 'running'. */
  result?: unknown;
}

export interface ModelSummary {
  id: ModelId;
  name: string;
  kind: 'base' | 'personal';
  task: 'deblur' | 'motion';
  selected: boolean;
  /** It can be chosen for deblurring (a working deblur model): the Models panel offers "Use" only then. */
  selectable: boolean;
  created?: string;
  baseModel?: string;
  metrics?: Record<string, number>;
  /** Set when a personal model cannot be loaded: it is listed, skipped, never fatal. */
  error?: string;
}

export interface Settings {
  executionProvider: ExecutionProviderChoice;
  /** 0 = as many as the machine has. */
  threads: number;
  tileSize: number;
}

export interface SystemInfo {
  appVersion: string;
  versions: Record<string, string>;
  executionProvider: { active: string; available: string[]; skipped: Array<{ name: string; reason: string }> };
  trainingBackend: { name: string; notes: string[] };
  threads: number;
  platform: string;
  settings: Settings;
  /** 'electron' or 'browser' (the local bridge). */
  shell: 'electron' | 'browser';
}

export interface FolderPhoto {
  path: string;
  name: string;
  thumbnailUrl: string;
  blurScore?: number;
}

export interface NeurmapApi {
  systemInfo(): Promise<SystemInfo>;
  updateSettings(settings: Partial<Settings>): Promise<Settings>;

  /** Dialogs grant the paths they return for this run; no other path reaches the engine. */
  showOpenDialog(): Promise<string[]>;
  showFolderDialog(purpose: 'open' | 'batch-input' | 'batch-output' | 'adapt-blurry' | 'adapt-sharp'): Promise<string | null>;
  showSaveDialog(suggestedName: string, format: OutputFormat): Promise<string | null>;
  recentFiles(): Promise<string[]>;

  openImage(path: string): Promise<ImageInfo>;
  listFolder(dir: string): Promise<FolderPhoto[]>;
  closeImage(id: ImageId): Promise<void>;
  deblur(id: ImageId, jobId: JobId): Promise<DeblurResult>;
  estimateMotion(id: ImageId, jobId: JobId): Promise<MotionResult>;
  exportImage(req: ExportRequest): Promise<{ path: string }>;

  startBatch(req: BatchRequest): Promise<JobId>;
  startAdapt(req: AdaptRequest): Promise<JobId>;
  /** Keep or discard the personal model an adaptation produced. */
  finishAdapt(jobId: JobId, keep: boolean): Promise<void>;
  cancelJob(jobId: JobId): Promise<void>;
  onJobEvent(cb: (e: JobEvent) => void): () => void;

  listModels(): Promise<ModelSummary[]>;
  selectModel(id: ModelId): Promise<void>;
  deleteModel(id: ModelId): Promise<void>;
}

/** Methods that need the user's choice of a path: implemented by each shell (Electron dialogs, or the browser's picker). */
export type DialogMethods = 'showOpenDialog' | 'showFolderDialog' | 'showSaveDialog';

/**
 * What the engine's Studio service implements (src-main/engine/studio): the API without the dialogs.
 * The shells (Electron IPC handlers, the local bridge) validate arguments and path grants, then forward here.
 */
export type StudioApi = Omit<NeurmapApi, DialogMethods>;

/** Bytes behind the URLs the Studio hands out (previews, results, heat maps, thumbnails). */
export interface Asset {
  mime: string;
  bytes: Uint8Array;
}
