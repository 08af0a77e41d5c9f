import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import { writeFileAtomic } from '../fs/atomic-file.ts';
import type { TrainingConfig } from './config.ts';
import type { CoreState, NetworkRole } from './iteration.ts';

/**
 * Resumable training checkpoints: one self-checking file per run.
 *
 *   bytes 0–7    "NMAPCKPT"
 *   bytes 8–39   SHA-256 of everything after byte 39
 *   bytes 40–43  header length L (uint32, little-endian)
 *   44 … 44+L    header, UTF-8 JSON: iteration, config, RNG state, sharp-map pool, per network its variable
 *                shapes and where its weights and Adam moments lie in the payload
 *   then zero padding to a multiple of 4, then the payload: every float32 array back to back (little-endian)
 *
 * Written atomically (temp file in the same folder, fsync, rename: engine/fs/atomic-file.ts), so a crash or a full
 * disk leaves the previous checkpoint whole. A file whose magic or checksum does not match is refused with
 * CheckpointCorruptError, and the trainer then writes nothing over it.
 */
export const CHECKPOINT_MAGIC = 'NMAPCKPT';
export const CHECKPOINT_FORMAT = 1;

export interface TrainingCheckpoint {
  /** Iterations completed: training resumes at this 0-based iteration. */
  iteration: number;
  config: TrainingConfig;
  /**
   * The random state: every batch is drawn from an Rng seeded by (seed, iteration) (data.ts), so the seed and
   * the next iteration are the whole state of the data stream.
   */
  rng: { seed: number; nextIteration: number };
  sharpPool: { capacity: number; entries: Array<[number, number]> };
  /** Network names per role, to say clearly when a checkpoint is resumed with other networks. */
  networkNames: Partial<Record<NetworkRole, string>>;
  state: CoreState;
  /** Free-form facts the caller wants kept with the checkpoint (job name, input lists…). */
  meta?: Record<string, unknown>;
  savedAt?: string;
}

export class CheckpointCorruptError extends Error {
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`checkpoint ${file} is corrupt or not a NeurMAP checkpoint (${reason}); it is left untouched and was not used — move it away or choose another run folder`);
    this.name = 'CheckpointCorruptError';
  }
}

interface ArrayRef {
  offset: number;
  length: number;
}

interface HeaderNetwork {
  shapes: number[][];
  weights: ArrayRef[];
  adam: { step: number; m: ArrayRef[]; v: ArrayRef[] };
}

interface Header extends Omit<TrainingCheckpoint, 'state'> {
  format: number;
  networks: Partial<Record<NetworkRole, HeaderNetwork>>;
  payloadFloats: number;
}

export function encodeCheckpoint(c: TrainingCheckpoint): Uint8Array {
  const arrays: Float32Array[] = [];
  let floats = 0;
  const ref = (a: Float32Array): ArrayRef => {
    arrays.push(a);
    const r = { offset: floats, length: a.length };
    floats += a.length;
    return r;
  };
  const networks: Partial<Record<NetworkRole, HeaderNetwork>> = {};
  for (const [role, st] of Object.entries(c.state) as Array<[NetworkRole, CoreState[NetworkRole]]>) {
    if (!st) continue;
    networks[role] = {
      shapes: st.shapes,
      weights: st.weights.map(ref),
      adam: { step: st.adam.step, m: st.adam.m.map(ref), v: st.adam.v.map(ref) },
    };
  }
  const header: Header = {
    format: CHECKPOINT_FORMAT,
    savedAt: c.savedAt ?? new Date().toISOString(),
    iteration: c.iteration,
    config: c.config,
    rng: c.rng,
    sharpPool: c.sharpPool,
    networkNames: c.networkNames,
    meta: c.meta,
    networks,
    payloadFloats: floats,
  };
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const payloadStart = align4(44 + headerBytes.length);
  const out = new Uint8Array(payloadStart + floats * 4);
  out.set(Buffer.from(CHECKPOINT_MAGIC, 'latin1'), 0);
  new DataView(out.buffer).setUint32(40, headerBytes.length, true);
  out.set(headerBytes, 44);
  const payload = new DataView(out.buffer, payloadStart);
  let o = 0;
  for (const a of arrays) {
    for (let i = 0; i < a.length; i++, o += 4) payload.setFloat32(o, a[i], true);
  }
  out.set(crypto.createHash('sha256').update(out.subarray(40)).digest(), 8);
  return out;
}

export function decodeCheckpoint(bytes: Uint8Array, file = 'checkpoint'): TrainingCheckpoint {
  if (bytes.length < 44) throw new CheckpointCorruptError(file, `only ${bytes.length} bytes`);
  if (Buffer.from(bytes.subarray(0, 8)).toString('latin1') !== CHECKPOINT_MAGIC) throw new CheckpointCorruptError(file, 'wrong magic bytes');
  const digest = crypto.createHash('sha256').update(bytes.subarray(40)).digest();
  if (!digest.equals(Buffer.from(bytes.subarray(8, 40)))) throw new CheckpointCorruptError(file, 'checksum mismatch');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(40, true);
  let header: Header;
  try {
    header = JSON.parse(Buffer.from(bytes.subarray(44, 44 + headerLength)).toString('utf8')) as Header;
  } catch (err) {
    throw new CheckpointCorruptError(file, `unreadable header: ${(err as Error).message}`);
  }
  if (header.format !== CHECKPOINT_FORMAT) throw new CheckpointCorruptError(file, `format ${header.format}, this version reads ${CHECKPOINT_FORMAT}`);
  const payloadStart = align4(44 + headerLength);
  if (bytes.length !== payloadStart + header.payloadFloats * 4) throw new CheckpointCorruptError(file, 'payload size does not match its header');
  const read = (r: ArrayRef): Float32Array => {
    const a = new Float32Array(r.length);
    const base = payloadStart + r.offset * 4;
    for (let i = 0; i < r.length; i++) a[i] = view.getFloat32(base + 4 * i, true);
    return a;
  };
  const state: CoreState = {};
  for (const [role, n] of Object.entries(header.networks) as Array<[NetworkRole, HeaderNetwork]>) {
    state[role] = { shapes: n.shapes, weights: n.weights.map(read), adam: { step: n.adam.step, m: n.adam.m.map(read), v: n.adam.v.map(read) } };
  }
  return {
    iteration: header.iteration,
    config: header.config,
    rng: header.rng,
    sharpPool: header.sharpPool,
    networkNames: header.networkNames,
    meta: header.meta,
    savedAt: header.savedAt,
    state,
  };
}

/** Atomically replaces `file` with the checkpoint. On any failure (disk full…) the previous file is intact. */
export async function saveCheckpoint(file: string, c: TrainingCheckpoint): Promise<void> {
  await writeFileAtomic(file, encodeCheckpoint(c));
}

/** The checkpoint in `file`; null when there is none; CheckpointCorruptError when it does not verify. */
export async function loadCheckpoint(file: string): Promise<TrainingCheckpoint | null> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  return decodeCheckpoint(bytes, file);
}

function align4(n: number): number {
  return (n + 3) & ~3;
}
