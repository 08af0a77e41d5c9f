/**
 * The model registry: base models shipped in models/ and personal models made by "adapt to my photos".
 *
 * Base models (read-only), in `modelsDir`:
 *   deblur.onnx       id "fast"   (G)
 *   deblur-fine.onnx  id "fine"   (G, when shipped)
 *   motion.onnx       id "motion" (M)
 *   <stem>.card.json  optional card beside each; otherwise a card is made up from the file.
 * Personal models, in `personalDir` (the user data folder's model folder), one sub-folder each:
 *   <dir>/refiner.onnx G, the refiner of the MAP core's result (required)   id "personal:<dir>"
 *   <dir>/motion.onnx  M adapted alongside (optional)
 *   (<dir>/model.onnx  G of the old end-to-end base, before the MAP core: listed as unusable, to adapt again)
 *   <dir>/card.json    the card (required, validated with zod)
 *   selection.json     { "deblur": "<id>" }: the selected deblur model
 *
 * Every entry is checked (card parses, ONNX file decodes and has the right inputs/outputs; cached by file
 * version). A broken personal model is listed with `ok: false` and its `error`, and is never selected or loaded;
 * nothing here throws for one bad model.
 */
import { readFile, readdir, stat, mkdir, rm, rename, writeFile, copyFile } from 'node:fs/promises';
import path from 'node:path';
import { parseCard, type ModelCard, type ModelCardInput } from './card.ts';
import { inspectModel, closeSessions, type ModelInfo, type ModelRole, type SessionRole } from '../infer/session.ts';
import { oneLine } from '../graph/onnx-file.ts';

export type ModelOrigin = 'base' | 'personal';

export interface ModelEntry {
  /** "fast", "fine", "motion" or "personal:<folder>". */
  id: string;
  kind: ModelRole;
  origin: ModelOrigin;
  name: string;
  /** The ONNX file (G for deblur entries, M for the motion entry). */
  path: string;
  /** G refines the MAP core's result (personal models): it deblurs through the MAP core, not on its own. */
  refiner: boolean;
  /** A personal model's own M, when it has one. */
  motionPath: string | null;
  card: ModelCard | null;
  ok: boolean;
  /** Why the model cannot be used (one line), when !ok. */
  error: string | null;
  selected: boolean;
  bytes: number;
  sizeMultiple: number | null;
}

/** Why `select` refuses an entry, or null when it can be selected (lists offer "Use" only then). */
export function selectionRefusal(e: ModelEntry): string | null {
  if (e.kind !== 'deblur') return `model "${e.id}" is a ${e.kind} model and cannot be selected for deblurring`;
  if (!e.ok) return `model "${e.id}" cannot be used: ${e.error}`;
  return null;
}

const BASE: { id: string; file: string; kind: ModelRole; name: string }[] = [
  { id: 'fast', file: 'deblur.onnx', kind: 'deblur', name: 'Fast' },
  { id: 'fine', file: 'deblur-fine.onnx', kind: 'deblur', name: 'Fine' },
  { id: 'motion', file: 'motion.onnx', kind: 'motion', name: 'Motion estimator' },
];

export const PERSONAL_PREFIX = 'personal:';
/** A personal model's files. */
const PERSONAL_REFINER = 'refiner.onnx';
const OLD_PERSONAL_G = 'model.onnx';
const SELECTION_FILE = 'selection.json';
const DIR_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export class ModelRegistry {
  private readonly checked = new Map<string, { version: string; info: ModelInfo | null; error: string | null }>();

  constructor(readonly modelsDir: string, readonly personalDir: string) {}

  /** All models, base first then personal (newest first); broken ones included with their error. */
  async list(): Promise<ModelEntry[]> {
    const selectedId = await this.readSelection();
    const entries: ModelEntry[] = [];
    for (const b of BASE) {
      const file = path.join(this.modelsDir, b.file);
      const st = await stat(file).catch(() => null);
      if (!st?.isFile()) continue;
      const { info, error } = await this.check(file, b.kind);
      const card = await this.baseCard(file, b, st.mtime).catch(() => null);
      entries.push({
        id: b.id, kind: b.kind, origin: 'base', name: card?.name ?? b.name, path: file, refiner: false, motionPath: null, card,
        ok: !error, error, selected: false, bytes: st.size, sizeMultiple: info?.sizeMultiple ?? null,
      });
    }
    const personal: ModelEntry[] = [];
    const dirs = await readdir(this.personalDir, { withFileTypes: true }).catch(() => []);
    for (const d of dirs) {
      if (!d.isDirectory() || !DIR_NAME.test(d.name)) continue;
      personal.push(await this.personalEntry(d.name));
    }
    personal.sort((a, b) => (b.card?.created ?? '').localeCompare(a.card?.created ?? '') || a.id.localeCompare(b.id));
    entries.push(...personal);
    const chosen = this.resolveSelection(entries, selectedId);
    if (chosen) chosen.selected = true;
    return entries;
  }

  async get(id: string): Promise<ModelEntry | null> {
    return (await this.list()).find((e) => e.id === id) ?? null;
  }

  /** The deblur model in use: the selected one when usable, else "fast", "fine", then the newest usable personal one. */
  async selected(): Promise<ModelEntry | null> {
    return (await this.list()).find((e) => e.selected) ?? null;
  }

  /** The motion model to pair with a deblur entry: its own M when it has one, else the base "motion". */
  async motionModel(forEntry?: ModelEntry | null): Promise<ModelEntry | null> {
    const all = await this.list();
    const base = all.find((e) => e.id === 'motion' && e.ok) ?? null;
    if (forEntry?.motionPath && forEntry.ok) {
      return { ...forEntry, id: `${forEntry.id}#motion`, kind: 'motion', path: forEntry.motionPath, refiner: false, motionPath: null, selected: false };
    }
    return base;
  }

  /** Select a deblur model (persisted). Throws for an unknown, broken or motion model. */
  async select(id: string): Promise<ModelEntry> {
    const e = await this.get(id);
    if (!e) throw new Error(`no model "${id}"`);
    const refusal = selectionRefusal(e);
    if (refusal) throw new Error(refusal);
    await mkdir(this.personalDir, { recursive: true });
    await atomicWrite(path.join(this.personalDir, SELECTION_FILE), JSON.stringify({ deblur: id }, null, 2) + '\n');
    return { ...e, selected: true };
  }

  /** Delete a personal model (folder and all). Base models cannot be deleted. */
  async delete(id: string): Promise<void> {
    const dir = this.personalFolder(id);
    const st = await stat(dir).catch(() => null);
    if (!st?.isDirectory()) throw new Error(`no personal model "${id}"`);
    await closeSessions(path.join(dir, PERSONAL_REFINER)).catch(() => {});
    await closeSessions(path.join(dir, 'motion.onnx')).catch(() => {});
    // Move aside first so a half-deleted folder never lists as a (broken) model.
    const trash = path.join(this.personalDir, `.deleting-${path.basename(dir)}-${process.pid}-${Date.now()}`);
    await rename(dir, trash);
    await rm(trash, { recursive: true, force: true });
    if ((await this.readSelection()) === id) await rm(path.join(this.personalDir, SELECTION_FILE), { force: true });
    for (const k of [...this.checked.keys()]) if (k.startsWith(dir + path.sep)) this.checked.delete(k);
  }

  /**
   * Store a personal model: its refiner (bytes or a path), optionally its M, and its card. Written into a hidden
   * folder then renamed, so a crash never leaves a half-written model. Returns the new entry.
   */
  async savePersonal(args: { card: ModelCardInput; refiner: Uint8Array | string; motion?: Uint8Array | string; folder?: string }): Promise<ModelEntry> {
    const card = parseCard(args.card);
    const folder = args.folder ?? `${slug(card.name)}-${new Date(card.created).toISOString().replace(/[-:.TZ]/g, '').slice(0, 14)}`;
    if (!DIR_NAME.test(folder)) throw new Error(`invalid personal model folder name "${folder}"`);
    const final = path.join(this.personalDir, folder);
    if (await stat(final).catch(() => null)) throw new Error(`personal model "${PERSONAL_PREFIX}${folder}" already exists`);
    const tmp = path.join(this.personalDir, `.saving-${folder}-${process.pid}-${Date.now()}`);
    await mkdir(tmp, { recursive: true });
    try {
      const put = async (src: Uint8Array | string, name: string) => {
        if (typeof src === 'string') await copyFile(src, path.join(tmp, name));
        else await writeFile(path.join(tmp, name), src);
      };
      await put(args.refiner, PERSONAL_REFINER);
      if (args.motion) await put(args.motion, 'motion.onnx');
      await writeFile(path.join(tmp, 'card.json'), JSON.stringify(card, null, 2) + '\n');
      await rename(tmp, final);
    } catch (e) {
      await rm(tmp, { recursive: true, force: true });
      throw e;
    }
    return this.personalEntry(folder);
  }

  /** The folder of a personal model id; throws for base ids and names that could leave personalDir. */
  personalFolder(id: string): string {
    if (!id.startsWith(PERSONAL_PREFIX)) {
      if (BASE.some((b) => b.id === id)) throw new Error(`"${id}" is a base model and cannot be deleted`);
      throw new Error(`no personal model "${id}"`);
    }
    const name = id.slice(PERSONAL_PREFIX.length);
    if (!DIR_NAME.test(name)) throw new Error(`invalid personal model id "${id}"`);
    return path.join(this.personalDir, name);
  }

  // ---- internals -----------------------------------------------------------------------------------------

  private async personalEntry(name: string): Promise<ModelEntry> {
    const dir = path.join(this.personalDir, name);
    const id = PERSONAL_PREFIX + name;
    const file = path.join(dir, PERSONAL_REFINER);
    const motionFile = path.join(dir, 'motion.onnx');
    const entry: ModelEntry = {
      id, kind: 'deblur', origin: 'personal', name, path: file, refiner: true, motionPath: null, card: null,
      ok: false, error: null, selected: false, bytes: 0, sizeMultiple: null,
    };
    try {
      const cardFile = path.join(dir, 'card.json');
      let raw: string;
      try {
        raw = await readFile(cardFile, 'utf8');
      } catch (e) {
        throw new Error(`${cardFile}: cannot read model card (${oneLine(e)})`);
      }
      let json: unknown;
      try {
        json = JSON.parse(raw);
      } catch (e) {
        throw new Error(`${cardFile}: model card is not valid JSON (${oneLine(e)})`);
      }
      entry.card = parseCard(json, cardFile);
      entry.name = entry.card.name;
      if (entry.card.kind !== 'deblur') throw new Error(`${cardFile}: personal models must be deblur models (kind "${entry.card.kind}")`);
      const st = await stat(file).catch(() => null);
      if (!st?.isFile()) {
        if (await stat(path.join(dir, OLD_PERSONAL_G)).then((o) => o.isFile(), () => false)) {
          throw new Error(`adapted from the old end-to-end network "${entry.card.baseModel}", which the MAP core replaced: adapt again to make a personal refiner`);
        }
        throw new Error(`${file}: model file is missing`);
      }
      entry.bytes = st.size;
      const g = await this.check(file, 'refine');
      if (g.error) throw new Error(g.error);
      entry.sizeMultiple = g.info?.sizeMultiple ?? null;
      if (await stat(motionFile).then((s) => s.isFile(), () => false)) {
        const m = await this.check(motionFile, 'motion');
        if (m.error) throw new Error(m.error);
        entry.motionPath = motionFile;
      }
      entry.ok = true;
    } catch (e) {
      entry.ok = false;
      entry.error = oneLine(e);
    }
    return entry;
  }

  private async check(file: string, role: SessionRole): Promise<{ info: ModelInfo | null; error: string | null }> {
    try {
      const st = await stat(file);
      const version = `${st.mtimeMs}:${st.size}:${role}`;
      const hit = this.checked.get(file);
      if (hit && hit.version === version) return hit;
      let res: { version: string; info: ModelInfo | null; error: string | null };
      try {
        res = { version, info: await inspectModel(file, role), error: null };
      } catch (e) {
        res = { version, info: null, error: oneLine(e) };
      }
      this.checked.set(file, res);
      return res;
    } catch (e) {
      return { info: null, error: `${file}: ${oneLine(e)}` };
    }
  }

  private async baseCard(file: string, b: (typeof BASE)[number], mtime: Date): Promise<ModelCard> {
    const cardFile = file.replace(/\.onnx$/, '.card.json');
    try {
      return parseCard(JSON.parse(await readFile(cardFile, 'utf8')), cardFile);
    } catch {
      return parseCard({
        name: b.name,
        created: mtime.toISOString(),
        baseModel: 'none (pretrained)',
        kind: b.kind,
        trainingData: { summary: 'Supervised pretraining on synthetic blur; see models/MODEL_CARD.md' },
        metrics: {},
      });
    }
  }

  private async readSelection(): Promise<string | null> {
    try {
      const j = JSON.parse(await readFile(path.join(this.personalDir, SELECTION_FILE), 'utf8')) as { deblur?: unknown };
      return typeof j.deblur === 'string' ? j.deblur : null;
    } catch {
      return null;
    }
  }

  private resolveSelection(entries: ModelEntry[], id: string | null): ModelEntry | null {
    const usable = (e: ModelEntry | undefined) => (e && e.ok && e.kind === 'deblur' ? e : null);
    return (
      usable(entries.find((e) => e.id === id))
      ?? usable(entries.find((e) => e.id === 'fast'))
      ?? usable(entries.find((e) => e.id === 'fine'))
      ?? entries.find((e) => e.origin === 'personal' && e.ok)
      ?? null
    );
  }
}

function slug(s: string): string {
  const v = s.normalize('NFKD').replace(/[^A-Za-z0-9]+/g, '-').replace(/^-+|-+$/g, '').toLowerCase().slice(0, 60);
  return v || 'model';
}

async function atomicWrite(file: string, text: string): Promise<void> {
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, file);
}
