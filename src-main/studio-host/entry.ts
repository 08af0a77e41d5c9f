/**
 * Entry of the engine host process: an Electron utility process (process.parentPort) or a Node child process
 * (process.send), whichever started it. Never imports electron.
 */
import { serveStudio } from './host.ts';
import type { FromHost, ToHost } from './protocol.ts';

interface ParentPort {
  postMessage(message: unknown): void;
  on(event: 'message', cb: (e: { data: unknown }) => void): void;
}

const parentPort = (process as { parentPort?: ParentPort }).parentPort;
// Give pending replies a moment to leave before the process ends.
const exit = () => setTimeout(() => process.exit(0), 50);

if (parentPort) {
  serveStudio({ post: (m: FromHost) => parentPort.postMessage(m), onMessage: (cb) => parentPort.on('message', (e) => cb(e.data as ToHost)) }, exit);
} else if (process.send) {
  const send = process.send.bind(process);
  serveStudio({ post: (m: FromHost) => void send(m), onMessage: (cb) => process.on('message', (m) => cb(m as ToHost)) }, exit);
  // The shell is gone: nobody is left to show results to.
  process.on('disconnect', () => process.exit(0));
} else {
  process.stderr.write('neurmap engine host: start it from NeurMAP Studio (it talks to its parent process only)\n');
  process.exit(2);
}
