/**
 * Path grants: a path reaches the engine only if the user chose it in this run, through a dialog
 * (native in Electron, the picker modal in the browser) or a drop. A granted folder grants everything
 * below it. Grants live in memory only and die with the process.
 *
 * Two modes: 'read' (open, list, batch input, adapt folders) and 'write' (the save dialog's file, the
 * batch output folder). A write grant implies read.
 */
import path from 'node:path';

export type GrantMode = 'read' | 'write';

interface Grant {
  mode: GrantMode;
  dir: boolean;
}

export class PathGrants {
  private readonly grants = new Map<string, Grant>();

  constructor(private readonly platform: NodeJS.Platform = process.platform) {}

  /** Normal form used for comparisons: absolute, no '..' or '.', no trailing separator, case-folded where the FS is. */
  key(p: string): string {
    const impl = this.platform === 'win32' ? path.win32 : path.posix;
    let k = impl.resolve(p);
    if (this.platform === 'win32' || this.platform === 'darwin') k = k.toLowerCase();
    return k;
  }

  grantFile(p: string, mode: GrantMode = 'read'): void {
    this.add(p, { mode, dir: false });
  }

  grantDir(p: string, mode: GrantMode = 'read'): void {
    this.add(p, { mode, dir: true });
  }

  private add(p: string, g: Grant): void {
    const k = this.key(p);
    const old = this.grants.get(k);
    this.grants.set(k, {
      mode: old?.mode === 'write' || g.mode === 'write' ? 'write' : 'read',
      dir: (old?.dir ?? false) || g.dir,
    });
  }

  /** True when `p` itself, or a folder above it, was granted with at least `mode`. */
  allows(p: string, mode: GrantMode): boolean {
    const impl = this.platform === 'win32' ? path.win32 : path.posix;
    const ok = (g: Grant | undefined) => g !== undefined && (mode === 'read' || g.mode === 'write');
    let cur = this.key(p);
    if (ok(this.grants.get(cur))) return true;
    for (;;) {
      const parent = impl.dirname(cur);
      if (parent === cur) return false;
      const g = this.grants.get(parent);
      if (g?.dir && ok(g)) return true;
      cur = parent;
    }
  }

  /** For tests and diagnostics. */
  list(): Array<{ path: string; mode: GrantMode; dir: boolean }> {
    return [...this.grants].map(([p, g]) => ({ path: p, ...g }));
  }
}
