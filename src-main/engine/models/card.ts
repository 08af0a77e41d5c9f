/** Model cards: what a model is, where it came from and how well it did, validated with zod. */
import { z } from 'zod';

export const TrainingDataSchema = z.looseObject({
  /** One human-readable line, e.g. "212 blurry phone photos (2024 trip), no sharp references". */
  summary: z.string().max(2000),
  blurryPhotos: z.number().int().nonnegative().optional(),
  sharpPhotos: z.number().int().nonnegative().optional(),
  minutes: z.number().nonnegative().optional(),
});

export const ModelCardSchema = z.looseObject({
  name: z.string().trim().min(1).max(200),
  /** ISO 8601 date-time. */
  created: z.iso.datetime({ offset: true }),
  /** The model it was trained from: a base id ("fast", "fine") or a file name. */
  baseModel: z.string().min(1).max(500),
  kind: z.enum(['deblur', 'motion']).default('deblur'),
  trainingData: TrainingDataSchema,
  /** Metric name → value, e.g. { "psnr_db": 27.1, "reblur_mse": 0.0012 }. */
  metrics: z.record(z.string(), z.number()).default({}),
  description: z.string().max(5000).optional(),
});

export type ModelCard = z.infer<typeof ModelCardSchema>;
export type ModelCardInput = z.input<typeof ModelCardSchema>;

/** Parse a card; throws one line listing what is wrong. */
export function parseCard(json: unknown, what = 'model card'): ModelCard {
  const r = ModelCardSchema.safeParse(json);
  if (!r.success) {
    const issues = r.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(card)'}: ${i.message}`).join('; ');
    throw new Error(`${what}: invalid model card (${issues})`);
  }
  return r.data;
}
