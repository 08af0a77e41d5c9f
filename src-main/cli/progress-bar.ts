/** Progress for long work on stderr: a redrawn bar on a terminal, plain lines when piped (logs stay readable). */
export class ProgressBar {
  private lastLine = '';
  private readonly tty: boolean;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {
    this.tty = !!stream.isTTY;
  }

  /** fraction 0..1 of the whole job, a label, optional seconds left. */
  update(fraction: number, label: string, etaSeconds?: number | null): void {
    const pct = Math.round(Math.min(1, Math.max(0, fraction)) * 100);
    const eta = etaSeconds == null ? '' : ` ETA ${formatSeconds(etaSeconds)}`;
    if (this.tty) {
      const width = 24;
      const filled = Math.round((pct / 100) * width);
      const line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(pct).padStart(3)}% ${label}${eta}`;
      this.stream.write(`\r${line.slice(0, (this.stream.columns || 100) - 1).padEnd(this.lastLine.length)}`);
      this.lastLine = line;
    }
  }

  /** A line that stays (a file finished or failed). */
  log(line: string): void {
    if (this.tty && this.lastLine) this.stream.write(`\r${' '.repeat(Math.min(this.lastLine.length, (this.stream.columns || 100) - 1))}\r`);
    this.stream.write(`${line}\n`);
    this.lastLine = '';
  }

  done(): void {
    if (this.tty && this.lastLine) this.stream.write('\n');
    this.lastLine = '';
  }
}

export function formatSeconds(s: number): string {
  if (s < 60) return `${Math.round(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
