/**
 * The one API the renderer sees, whether through Electron's preload (window.neurmap) or the local bridge in a plain
 * browser. Every data type is derived from its schema (schemas.ts); only the method signatures are written here.
 * Types only at run time: the renderer imports this file for its types and bundles none of zod.
 */
import type { z } from 'zod';
import type * as S from './schemas.ts';

export type ImageId = string;
export type ResultId = string;
export type JobId = string;
export type ModelId = string;

export type OutputFormat = z.infer<typeof S.outputFormatSchema>;
export type ExecutionProviderChoice = z.infer<typeof S.providerSchema>;
export type FolderPurpose = z.infer<typeof S.folderPurposeSchema>;
export type JobKind = z.infer<typeof S.jobKindSchema>;

export type Settings = z.infer<typeof S.settingsSchema>;
export type SettingsPatch = z.infer<typeof S.settingsPatchSchema>;
export type ExportRequest = z.infer<typeof S.exportRequestSchema>;
export type BatchRequest = z.infer<typeof S.batchRequestSchema>;
export type AdaptRequest = z.infer<typeof S.adaptRequestSchema>;

export type ExifSummary = z.infer<typeof S.exifSummarySchema>;
export type ImageInfo = z.infer<typeof S.imageInfoSchema>;
export type DeblurResult = z.infer<typeof S.deblurResultSchema>;
export type QuiverGrid = z.infer<typeof S.quiverGridSchema>;
export type BlurRegion = z.infer<typeof S.blurRegionSchema>;
export type MotionResult = z.infer<typeof S.motionResultSchema>;
export type HeldOutScore = z.infer<typeof S.heldOutScoreSchema>;
export type AdaptSummary = z.infer<typeof S.adaptSummarySchema>;
export type BatchSummary = z.infer<typeof S.batchSummarySchema>;
export type JobEvent = z.infer<typeof S.jobEventSchema>;
/** The events of a job of kind K (a batch's, an adaptation's), narrowed to what that kind carries. */
export type JobEventOf<K extends JobKind> = Extract<JobEvent, { kind: K }>;
/** The final outcome a job of kind K carries in its last event. */
export type JobResultOf<K extends JobKind> = JobEventOf<K>['result'];
export type ModelSummary = z.infer<typeof S.modelSummarySchema>;
export type SystemInfo = z.infer<typeof S.systemInfoSchema>;
export type FolderPhoto = z.infer<typeof S.folderPhotoSchema>;

export type ErrorEnvelope = z.infer<typeof S.errorEnvelopeSchema>;
export type CallOutcome = z.infer<typeof S.callOutcomeSchema>;

export type FsListRequest = z.infer<typeof S.fsListRequestSchema>;
export type FolderEntry = z.infer<typeof S.folderEntrySchema>;
export type FolderListing = z.infer<typeof S.folderListingSchema>;
export type FsPickRequest = z.input<typeof S.fsPickRequestSchema>;
export type FsPickReply = z.infer<typeof S.fsPickReplySchema>;
export type UploadReply = z.infer<typeof S.uploadReplySchema>;

export interface NeurmapApi {
  systemInfo(): Promise<SystemInfo>;
  updateSettings(settings: SettingsPatch): Promise<Settings>;

  /** Dialogs grant the paths they return for this run; no other path reaches the engine. */
  showOpenDialog(): Promise<string[]>;
  showFolderDialog(purpose: FolderPurpose): Promise<string | null>;
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

/** What the renderer holds: the API plus two shell facts (which shell it is, how dropped files become paths). */
export interface ShellApi extends NeurmapApi {
  shell: 'electron' | 'browser';
  /** Paths of files the user just dropped on the window, granted for this run (uploaded first in a browser). */
  pathsForDroppedFiles(files: File[]): Promise<string[]>;
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
