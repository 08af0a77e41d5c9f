/**
 * The one error of every boundary. A failed call travels as an ErrorEnvelope ({code, message}, schemas.ts) and
 * surfaces on the far side as a CallError carrying the same code and message: in the shells' dispatcher (a call
 * refused before the engine), the engine host's client (an engine error from the other process), the preload
 * (an IPC answer) and the renderer's bridge client (an HTTP answer). No zod at run time: the preload bundles this.
 */
import type { ErrorEnvelope } from './types.ts';

/** Codes the shells give a call they refuse before the engine sees it (the engine's own codes pass through). */
export type ShellErrorCode =
  | 'invalid-argument'
  | 'not-granted'
  | 'unknown-method'
  | 'unavailable'
  | 'engine-stopped'
  | 'engine-error'
  | 'bad-request'
  | 'offline';

export class CallError extends Error {
  override readonly name = 'CallError';
  constructor(
    readonly code: ShellErrorCode | (string & {}),
    message: string,
  ) {
    super(message);
  }

  static fromEnvelope(envelope: ErrorEnvelope): CallError {
    return new CallError(envelope.code, envelope.message);
  }
}

/**
 * The envelope of anything thrown: a CallError's own, an engine error's code (ImageError, FolderError carry
 * one) with its message, else 'engine-error'.
 */
export function toErrorEnvelope(err: unknown): ErrorEnvelope {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { code: typeof code === 'string' && code ? code : 'engine-error', message: err.message || err.name };
  }
  return { code: 'engine-error', message: String(err) };
}
