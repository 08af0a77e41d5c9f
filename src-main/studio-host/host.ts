/**
 * The engine host's side: runs the Studio and answers the shell's messages (see protocol.ts). Errors travel as
 * {code, message}, the same envelope the IPC dispatcher sends, so a shell cannot tell a hosted Studio from a local one.
 */
import { assetUrlOf } from '../ipc/asset-url.ts';
import { STUDIO_METHODS } from '../../src-shared/contract/methods.ts';
import { toErrorEnvelope } from '../../src-shared/contract/errors.ts';
import { loadStudio, disposeStudio, type StudioService } from './studio-loader.ts';
import type { FromHost, HostSettings, MessageLink, ToHost } from './protocol.ts';

export function serveStudio(link: MessageLink<ToHost, FromHost>, exit: () => void): void {
  let studio: Promise<StudioService> | null = null;

  async function start(settings: HostSettings): Promise<StudioService> {
    const s = await loadStudio({
      userDataDir: settings.userDataDir,
      modelsDir: settings.modelsDir,
      assetUrl: (assetPath) => {
        link.post({ type: 'handed-out', assetPath });
        return assetUrlOf(settings.assetUrl, assetPath);
      },
    });
    s.onJobEvent((event) => link.post({ type: 'job-event', event }));
    return s;
  }

  async function answer(id: number, work: (s: StudioService) => unknown): Promise<void> {
    try {
      if (!studio) throw new Error('the engine host was not initialised');
      link.post({ type: 'reply', id, ok: true, value: await work(await studio) });
    } catch (err) {
      link.post({ type: 'reply', id, ok: false, error: toErrorEnvelope(err) });
    }
  }

  link.onMessage((msg) => {
    switch (msg.type) {
      case 'init':
        if (studio) return;
        studio = start(msg.settings);
        studio.then(
          () => link.post({ type: 'ready' }),
          (err: unknown) => link.post({ type: 'init-failed', message: err instanceof Error ? err.message : String(err) }),
        );
        return;
      case 'call':
        void answer(msg.id, (s) => {
          if (!STUDIO_METHODS.includes(msg.method)) throw new Error(`unknown method "${String(msg.method).slice(0, 64)}"`);
          const fn = s[msg.method] as (...a: unknown[]) => unknown;
          return fn.apply(s, msg.args);
        });
        return;
      case 'read-asset':
        void answer(msg.id, (s) => s.readAsset(msg.assetPath));
        return;
      case 'dispose':
        void (async () => {
          if (studio) await disposeStudio(await studio).catch(() => {});
          link.post({ type: 'disposed' });
          exit();
        })();
        return;
    }
  });
}
