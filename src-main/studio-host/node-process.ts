/** The engine host's entry file, and starting it as a Node child process (the bridge's way; Electron forks the same entry as a utility process). */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { moduleExtension } from '../engine/module-extension.ts';
import type { HostProcess } from './client.ts';
import type { FromHost } from './protocol.ts';

/** The host's entry beside this module: entry.ts from sources, studio-host.js in a build. */
export function hostEntry(): string {
  const ext = moduleExtension();
  return fileURLToPath(new URL(ext === '.ts' ? './entry.ts' : './studio-host.js', import.meta.url));
}

export function forkNodeHost(entry: string = hostEntry()): HostProcess {
  // From sources the child needs tsx's loader; test runners' own flags must not leak into it.
  const execArgv = entry.endsWith('.ts') ? ['--import', import.meta.resolve('tsx')] : [];
  const child = fork(entry, [], { serialization: 'advanced', execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return {
    post: (m) => {
      if (child.connected) child.send(m);
    },
    onMessage: (cb) => child.on('message', (m) => cb(m as FromHost)),
    onExit: (cb) => {
      let told = false;
      const tell = (description: string) => {
        if (!told) cb(description);
        told = true;
      };
      child.once('exit', (code, signal) => tell(signal ? `killed by ${signal}` : `exit code ${code}`));
      child.once('error', (err) => tell(err.message));
    },
    kill: () => child.kill('SIGKILL'),
  };
}
