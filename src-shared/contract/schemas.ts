/**
 * The wire contract of NeurMAP Studio, as zod schemas: what crosses a process boundary (renderer ↔ Electron main or
 * the local bridge ↔ the engine host). Schemas come first; every TypeScript type of the contract is derived from
 * them (types.ts), so a type and its check cannot drift apart.
 *
 * Shared by every process: imports nothing but zod (no Node, no Electron, no engine), so the renderer, the preload,
 * the shells and the engine can all import it. Argument schemas are strict (an unknown field is an error, so a typo
 * in the renderer surfaces at once); result schemas describe what the engine sends and allow extra fields.
 */
import { z } from 'zod';

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Opaque ids handed out by the engine (images, results, models) or made by the renderer (job ids). */
export const idSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(256, 'is too long (256 characters at most)')
  .refine((s) => !CONTROL.test(s), 'must not contain control characters');

/** The platform the checking process runs on (a browser has none: posix rules). */
function platformOf(): string {
  return (globalThis as { process?: { platform?: string } }).process?.platform ?? 'browser';
}

/** node:path's isAbsolute for the running platform, without node:path (the renderer has none). */
export function isAbsolutePath(p: string, platform = platformOf()): boolean {
  if (platform !== 'win32') return p.startsWith('/');
  return /^[\\/]/.test(p) || /^[A-Za-z]:[\\/]/.test(p);
}

/** An absolute file-system path; whether it was granted is checked separately (src-main/ipc/grants.ts). */
export const pathSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(4096, 'is too long')
  .refine((s) => !s.includes('\0'), 'must not contain NUL characters')
  .refine((s) => isAbsolutePath(s), 'must be an absolute path');

export const outputFormatSchema = z.enum(['jpeg', 'png', 'tiff', 'webp']);
export const providerSchema = z.enum(['auto', 'cuda', 'dml', 'coreml', 'cpu']);
export const folderPurposeSchema = z.enum(['open', 'batch-input', 'batch-output', 'adapt-blurry', 'adapt-sharp']);
export const jobKindSchema = z.enum(['deblur', 'motion', 'batch', 'adapt']);

const strength = z.number().finite().min(0, 'must be at least 0').max(2, 'must be at most 2 (200%)');
const quality = z.number().int('must be a whole number').min(1).max(100);

/** A file name without any directory part (the save dialog's suggestion, a file the picker saves, a new folder). */
export const fileNameSchema = z
  .string()
  .min(1)
  .max(255)
  .refine((s) => !/[\\/]/.test(s) && !CONTROL.test(s) && s !== '.' && s !== '..', 'must be a plain file name');

// ---- settings ---------------------------------------------------------------------------------------------

const threads = z.number().int().min(0).max(256);
const tileSize = z.number().int().min(128).max(2048);
export const priorSchema = z.enum(['hand-made', 'learned']);

/** The user's settings, as stored and as sent; a missing field takes its default. */
export const settingsSchema = z.object({
  executionProvider: providerSchema.default('auto'),
  /** 0 = as many as the machine has. */
  threads: threads.default(0),
  // 1024: the MAP core's tiles carry margins of a few kernel lengths, which larger tiles amortise (bench).
  tileSize: tileSize.default(1024),
  /** The MAP core's image prior: the hand-made hyper-Laplacian or the learned denoiser (models/MODEL_CARD.md). */
  prior: priorSchema.default('hand-made'),
  /**
   * Run the shipped refiner on the MAP core's result where it is installed. Off by default: it does not beat the
   * MAP core alone in every blur-size bin (models/MODEL_CARD.md). A selected personal model refines regardless.
   */
  refine: z.boolean().default(false),
});

/** What updateSettings takes: any subset of the settings, nothing else. */
export const settingsPatchSchema = z.strictObject({
  executionProvider: providerSchema.optional(),
  threads: threads.optional(),
  tileSize: tileSize.optional(),
  prior: priorSchema.optional(),
  refine: z.boolean().optional(),
});

// ---- requests ---------------------------------------------------------------------------------------------

export const exportRequestSchema = z.strictObject({
  resultId: idSchema,
  /** 0 = original, 1 = network output, up to 2 extrapolates. */
  strength,
  protectSharp: z.boolean(),
  format: outputFormatSchema,
  quality,
  bitDepth: z.union([z.literal(8), z.literal(16)]),
  /** A path granted by the save dialog in this run. */
  path: pathSchema,
  overwrite: z.boolean(),
});

export const batchRequestSchema = z.strictObject({
  inputDir: pathSchema,
  outputDir: pathSchema,
  recursive: z.boolean(),
  format: outputFormatSchema,
  quality,
  suffix: z
    .string()
    .max(64)
    .refine((s) => !/[\\/]/.test(s) && !CONTROL.test(s), 'must not contain path separators or control characters'),
  skipExisting: z.boolean(),
  strength,
  protectSharp: z.boolean(),
});

export const adaptRequestSchema = z.strictObject({
  blurryDir: pathSchema,
  sharpDir: pathSchema.optional(),
  name: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(64, 'is too long (64 characters at most)')
    .regex(/^[\p{L}\p{N} _.()-]+$/u, 'may use letters, digits, spaces and _ . ( ) - only'),
  minutes: z.number().finite().positive().max(24 * 60).optional(),
  iterations: z.number().int().min(1).max(1_000_000).optional(),
  baseModelId: idSchema.optional(),
});

// ---- results ----------------------------------------------------------------------------------------------

/** What the app shows of a photo's EXIF (the engine's own summary carries more; see tests/architecture). */
export const exifSummarySchema = z.object({
  make: z.string().optional(),
  model: z.string().optional(),
  lens: z.string().optional(),
  /** Seconds, e.g. 0.008 for 1/125 s. */
  exposureTime: z.number().optional(),
  fNumber: z.number().optional(),
  iso: z.number().optional(),
  /** Millimetres (the real focal length). */
  focalLength: z.number().optional(),
  /** Local time the photo was taken, "2024-05-06T07:08:09", with "+02:00" appended when the camera recorded the offset. */
  dateTaken: z.string().optional(),
});

export const imageInfoSchema = z.object({
  id: idSchema,
  path: z.string(),
  name: z.string(),
  width: z.number(),
  height: z.number(),
  format: z.string(),
  bitDepth: z.union([z.literal(8), z.literal(16)]),
  exif: exifSummarySchema,
  /** URL of a display-sized rendering (served by the custom protocol or the bridge; never base64 over IPC). */
  previewUrl: z.string(),
  previewWidth: z.number(),
  previewHeight: z.number(),
});

export const deblurResultSchema = z.object({
  id: idSchema,
  imageId: idSchema,
  /** What produced it: 'map' for the MAP core. */
  modelId: idSchema,
  /** The deblurred photo (strength 1) at preview size; the renderer blends strength itself for instant feedback. */
  previewUrl: z.string(),
  seconds: z.number(),
  provider: z.string(),
});

/** Arrows on a coarse grid: cell centre (x, y) and motion (u, v), all in image pixels, canonical sign. */
export const quiverGridSchema = z.object({
  cols: z.number(),
  rows: z.number(),
  step: z.number(),
  vectors: z.array(z.tuple([z.number(), z.number(), z.number(), z.number()])),
});

export const blurRegionSchema = z.object({
  x0: z.number(),
  y0: z.number(),
  x1: z.number(),
  y1: z.number(),
  halfExtentPx: z.number(),
  /** 0 (left as shot) … 1 (fully deblurred). */
  confidence: z.number(),
  /** Why the confidence is low, when it is (for example "sharp", "no structure"). */
  reason: z.string().nullable(),
});

export const motionResultSchema = z.object({
  imageId: idSchema,
  grid: quiverGridSchema,
  /** Magnitude heat map at preview size, and the magnitude (px) at the top of its colour scale. */
  heatmapUrl: z.string(),
  scaleMaxPx: z.number(),
  /** Per-photo blur score in pixels (higher = blurrier). */
  blurScore: z.number(),
  /** The estimated kernels ("blur trace"), one per region laid out as on the photo, as an image. */
  blurTraceUrl: z.string(),
  /** The regions behind the trace, row-major: bounds in image px, half-extent of the blur and the guard's verdict. */
  regions: z.array(blurRegionSchema),
  regionCols: z.number(),
  regionRows: z.number(),
});

/** The held-out score of a model in an adaptation: never trained on, scored before and after. */
export const heldOutScoreSchema = z.object({
  /** Motion the base motion model still finds in the deblurred photos, mean px (lower: sharper). */
  motionLeftPx: z.number(),
  /** PSNR in dB between each photo and its reblur from the deblurred one (higher: more consistent). */
  reblurPsnr: z.number(),
});

/** The before/after card of a finished adaptation (its final JobEvent's `result`), shown before keep/discard. */
export const adaptSummarySchema = z.object({
  status: z.enum(['completed', 'cancelled', 'stopped']),
  iterations: z.number(),
  /** The iteration this run continued from (the checkpoint a cancelled run with the same name kept), else null. */
  resumedFrom: z.number().nullable(),
  seconds: z.number(),
  before: heldOutScoreSchema,
  after: heldOutScoreSchema,
  better: z.boolean(),
  training: z.object({
    blurry: z.number(),
    heldOut: z.number(),
    sharp: z.number(),
    sharpSource: z.enum(['given', 'library', 'bundled']),
    skipped: z.array(z.string()),
  }),
});

/** What a batch did (its final JobEvent's `result`). */
export const batchSummarySchema = z.object({
  total: z.number(),
  done: z.number(),
  skipped: z.number(),
  failed: z.array(z.object({ file: z.string(), error: z.string() })),
  cancelled: z.boolean(),
  /** Set when the job stopped early because the output cannot take more files (disk full, read-only). */
  stoppedBy: z.string().nullable(),
  /** The batch's manifest file (what makes a rerun resume). */
  manifest: z.string(),
});

const jobEventFields = {
  jobId: idSchema,
  state: z.enum(['running', 'done', 'failed', 'cancelled']),
  /** 0..1 of the whole job. */
  fraction: z.number(),
  message: z.string(),
  etaSeconds: z.number().nullable(),
  /**
   * Deblur: the result at preview size (the MAP core alone, from the same blur estimate), shown while the full
   * resolution is still being deblurred; the call's answer replaces it.
   */
  previewUrl: z.string().optional(),
  /** Batch: the file being processed and per-file outcomes. */
  file: z
    .object({
      index: z.number(),
      total: z.number(),
      name: z.string(),
      status: z.enum(['running', 'done', 'skipped', 'failed']),
      error: z.string().optional(),
    })
    .optional(),
  /**
   * Adapt: the iteration and every loss value, for live curves; now and then `sharper`, how much less motion the
   * held-out photos keep with the refiner as trained so far than with the one it started from (percent).
   */
  training: z
    .object({
      iteration: z.number(),
      iterations: z.number(),
      losses: z.record(z.string(), z.number()),
      iterationsPerSecond: z.number(),
      sharper: z.object({ iteration: z.number(), percent: z.number() }).optional(),
    })
    .optional(),
};

/**
 * Progress and outcome of a job, keyed by its kind: the final event of a batch carries its summary, that of an
 * adaptation its before/after card (`result`, present once the state is no longer 'running'); deblur and motion
 * jobs end without one (their call's own answer is the result).
 */
export const jobEventSchema = z.discriminatedUnion('kind', [
  z.object({ ...jobEventFields, kind: z.literal('deblur'), result: z.undefined().optional() }),
  z.object({ ...jobEventFields, kind: z.literal('motion'), result: z.undefined().optional() }),
  z.object({ ...jobEventFields, kind: z.literal('batch'), result: batchSummarySchema.optional() }),
  z.object({ ...jobEventFields, kind: z.literal('adapt'), result: adaptSummarySchema.optional() }),
]);

export const modelSummarySchema = z.object({
  id: idSchema,
  name: z.string(),
  kind: z.enum(['base', 'personal']),
  /** 'refine': a personal model, the refiner of the MAP core's result ("adapt to my photos"). */
  task: z.enum(['deblur', 'refine', 'motion']),
  selected: z.boolean(),
  /** It can be chosen for deblurring (a working deblur model): the Models panel offers "Use" only then. */
  selectable: z.boolean(),
  created: z.string().optional(),
  baseModel: z.string().optional(),
  metrics: z.record(z.string(), z.number()).optional(),
  /** Set when a personal model cannot be loaded: it is listed, skipped, never fatal. */
  error: z.string().optional(),
});

export const systemInfoSchema = z.object({
  appVersion: z.string(),
  versions: z.record(z.string(), z.string()),
  executionProvider: z.object({
    active: z.string(),
    available: z.array(z.string()),
    skipped: z.array(z.object({ name: z.string(), reason: z.string() })),
  }),
  trainingBackend: z.object({ name: z.string(), notes: z.array(z.string()) }),
  /**
   * The MAP core's learned parts that are installed (Settings offers only those); `personal`: the name of the
   * selected personal model, whose refiner then refines instead of the shipped one.
   */
  learnedParts: z.object({ prior: z.boolean(), refiner: z.boolean(), personal: z.string().optional() }),
  threads: z.number(),
  platform: z.string(),
  settings: settingsSchema,
  /** 'electron' or 'browser' (the local bridge). */
  shell: z.enum(['electron', 'browser']),
});

export const folderPhotoSchema = z.object({
  path: z.string(),
  name: z.string(),
  thumbnailUrl: z.string(),
  blurScore: z.number().optional(),
});

// ---- errors -----------------------------------------------------------------------------------------------

/**
 * The one error shape of every boundary: what a failed call answers (IPC, the bridge's HTTP, the engine host's
 * messages). `code` is machine-readable ("invalid-argument", "not-granted", the engine's "not-found", …);
 * `message` is the one line the user reads.
 */
export const errorEnvelopeSchema = z.object({ code: z.string(), message: z.string() });

/** What a transport sends back for a call: never a thrown Error (their serialisation differs per transport). */
export const callOutcomeSchema = z.union([
  z.object({ ok: z.literal(true), value: z.unknown() }),
  z.object({ ok: z.literal(false), error: errorEnvelopeSchema }),
]);

// ---- the local bridge's own routes (a browser has no native dialogs and no dropped-file paths) -------------

/** POST /fs/list: the picker modal's folder browser. No dir (or null) lists the home folder. */
export const fsListRequestSchema = z.strictObject({
  dir: pathSchema.nullable().optional(),
  showHidden: z.boolean().optional(),
});

export const folderEntrySchema = z.object({
  name: z.string(),
  path: z.string(),
  kind: z.enum(['dir', 'file']),
  size: z.number().optional(),
  modified: z.string().optional(),
});

export const folderListingSchema = z.object({
  dir: z.string(),
  parent: z.string().nullable(),
  entries: z.array(folderEntrySchema),
  roots: z.array(z.object({ name: z.string(), path: z.string() })),
});

/** A name the picker creates in a folder: a plain name that is not hidden. */
const newFolderName = fileNameSchema.refine((s) => !s.startsWith('.'), 'must not start with a dot');

/** POST /fs/pick: what the user picked in the modal (granted like a native dialog's answer), or a folder to create. */
export const fsPickRequestSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('open'), paths: z.array(pathSchema).min(1).max(5000) }),
  z.strictObject({ kind: z.literal('folder'), purpose: folderPurposeSchema, path: pathSchema }),
  z.strictObject({ kind: z.literal('save'), dir: pathSchema, name: fileNameSchema }),
  z.strictObject({ kind: z.literal('mkdir'), dir: pathSchema, name: newFolderName }),
]);

export const fsPickReplySchema = z.object({ paths: z.array(z.string()) });

/** POST /upload?name=<file>: a file dropped on the page, stored in a temp folder and granted. */
export const uploadQuerySchema = z.object({ name: z.string().max(4096).default('') });
export const uploadReplySchema = z.object({ path: z.string() });
