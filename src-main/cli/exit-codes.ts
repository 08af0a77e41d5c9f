/** Exit codes scripts can rely on. */
export const EXIT = {
  ok: 0,
  /** Some inputs failed; the others were processed. */
  someFailed: 1,
  /** Bad command line: nothing was done. */
  usage: 2,
  /** Nothing could run: no model installed, unreadable model, output folder not writable. */
  cannotRun: 3,
} as const;

export class UsageError extends Error {}
/** An error that stops the whole command before any input is processed. */
export class CannotRunError extends Error {}
