/**
 * The engine host's side: runs the Studio and answers the shell's messages (see protocol.ts). Errors travel as
 * {code, message}, the same envelope the IPC dispatcher sends, so a shell cannot tell a hosted Studio from a local one.
 * The Studio is the one allow-list of assets: it reads back only what it handed out (and still holds).
 */
import { assetUrlOf } from '../ipc/asset-url.ts';
import { STUDIO_METHODS } from '../../src-shared/contract/methods.ts';
import { toErrorEnvelope } from '../../src-shared/contract/errors.ts';
import type { Studio } from '../engine/studio/studio.ts';
import type { FromHost, HostSettings, MessageLink, ToHost } from './protocol.ts';

export function serveStudio(link: MessageLink<ToHost, FromHost>, exit: () => void): void {
  let studio: Promise<Studio> | null = null;

  async function start(settings: HostSettings): Promise<Studio> {
    // Loaded on 'init', so an engine that cannot load (a native module missing) is an init failure with its reason.
    const { Studio } = await import('../engine/studio/studio.ts');
    const s = new Studio({
      userDataDir: settings.userDataDir,
      modelsDir: settings.modelsDir,
      assetUrl: (assetPath) => assetUrlOf(settings.assetUrl, assetPath),
    });
    s.onJobEvent((event) => link.post({ type: 'job-event', event }));
    return s;
  }

  async function answer(id: number, work: (s: Studio) => unknown): Promise<void> {
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
          if (studio) await studio.then((s) => s.dispose()).catch(() => {});
          link.post({ type: 'disposed' });
          exit();
        })();
        return;
    }
  });
}
