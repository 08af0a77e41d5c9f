/**
 * `npm run serve`: the editor in a browser, through the local bridge on 127.0.0.1 with a per-run token.
 * Prints the URL to open (and opens nothing).  Options: --port N (default: a free port).
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { baseModelsDir, userDataDir } from '../engine/paths.ts';
import { newToken } from './auth.ts';
import { ensureRendererBuilt } from './build.ts';
import { AssetUrls, startBridge, type Bridge } from './server.ts';
import { createHostedStudio } from '../studio-host/client.ts';
import { forkNodeHost } from '../studio-host/node-process.ts';

export async function serve(options: { port?: number; log?: (s: string) => void } = {}): Promise<Bridge & { stop(): Promise<void> }> {
  const log = options.log ?? ((s: string) => process.stdout.write(s + '\n'));
  const rendererDir = await ensureRendererBuilt(log);
  const token = newToken();
  const assets = new AssetUrls(token);
  // The engine runs in its own process, so decoding and training never stall the server or its event stream.
  const studio = createHostedStudio({
    spawn: forkNodeHost,
    settings: { userDataDir: userDataDir(), modelsDir: baseModelsDir(), assetUrl: assets.form },
  });
  await studio.ready();
  const bridge = await startBridge({ studio, rendererDir, token, assets, port: options.port });
  return {
    ...bridge,
    async stop() {
      await bridge.close();
      await studio.dispose();
    },
  };
}

export async function runServe(argv: string[], banner?: string): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { port: { type: 'string' } }, allowPositionals: false });
  const port = values.port !== undefined ? Number(values.port) : process.env.NEURMAP_PORT ? Number(process.env.NEURMAP_PORT) : 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be a port number, not ${values.port}`);
  const running = await serve({ port });
  if (banner) process.stdout.write(banner + '\n');
  process.stdout.write(`NeurMAP Studio is running at\n\n  ${running.openUrl}\n\nOpen it in your browser (only this machine can connect; the token in the URL is new each run). Ctrl+C stops it.\n`);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    running.stop().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runServe(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`neurmap serve: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(3);
  });
}
