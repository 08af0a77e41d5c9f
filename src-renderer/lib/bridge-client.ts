/**
 * NeurmapApi over the local bridge (src-main/bridge/server.ts): POST /api/<method> with the token in the
 * Authorization header, job events over EventSource, and the browser's stand-ins for native dialogs (the
 * picker modal) and for drag-and-drop paths (uploads).
 */
import type { CallOutcome, FolderPurpose, JobEvent, NeurmapApi, OutputFormat, ShellApi, UploadReply } from '../../src-shared/contract/types.ts';
import { CallError } from '../../src-shared/contract/errors.ts';

/** The picker modal, as the bridge client sees it. */
export interface Picker {
  openFiles(): Promise<string[]>;
  chooseFolder(purpose: FolderPurpose): Promise<string | null>;
  saveFile(suggestedName: string, format: OutputFormat): Promise<string | null>;
}

export interface BridgeHttp {
  post<T>(path: string, body: unknown): Promise<T>;
}

export function createBridgeHttp(token: string, baseUrl = ''): BridgeHttp {
  return {
    async post<T>(path: string, body: unknown): Promise<T> {
      let res: Response;
      try {
        res = await fetch(baseUrl + path, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
          body: JSON.stringify(body),
        });
      } catch {
        throw new CallError('offline', 'Cannot reach NeurMAP Studio: is `npm run serve` still running?');
      }
      const text = await res.text();
      let data: unknown;
      try {
        data = JSON.parse(text);
      } catch {
        throw new CallError('bridge-error', text || `the bridge answered ${res.status}`);
      }
      const env = data as Partial<CallOutcome> | null;
      if (env && env.ok === false) throw CallError.fromEnvelope(env.error ?? { code: 'error', message: 'request failed' });
      if (!res.ok) throw new CallError(String(res.status), text);
      return (env?.ok === true ? env.value : data) as T;
    },
  };
}

export function createBridgeApi(opts: { token: string; baseUrl?: string; picker: Picker }): ShellApi {
  const { token, picker } = opts;
  const baseUrl = opts.baseUrl ?? '';
  const http = createBridgeHttp(token, baseUrl);
  const call =
    <T>(method: string) =>
    (...args: unknown[]) =>
      http.post<T>(`/api/${method}`, { args });

  const listeners = new Set<(e: JobEvent) => void>();
  let source: EventSource | null = null;
  function ensureEvents() {
    if (source) return;
    source = new EventSource(`${baseUrl}/events?token=${encodeURIComponent(token)}`);
    source.onmessage = (m) => {
      let e: JobEvent;
      try {
        e = JSON.parse(m.data) as JobEvent;
      } catch {
        return;
      }
      for (const l of listeners) l(e);
    };
  }

  return {
    shell: 'browser',
    systemInfo: async () => ({ ...(await call<Awaited<ReturnType<NeurmapApi['systemInfo']>>>('systemInfo')()), shell: 'browser' }),
    updateSettings: call('updateSettings'),
    showOpenDialog: () => picker.openFiles(),
    showFolderDialog: (purpose) => picker.chooseFolder(purpose),
    showSaveDialog: (name, format) => picker.saveFile(name, format),
    recentFiles: call('recentFiles'),
    openImage: call('openImage'),
    listFolder: call('listFolder'),
    closeImage: call('closeImage'),
    deblur: call('deblur'),
    estimateMotion: call('estimateMotion'),
    exportImage: call('exportImage'),
    startBatch: call('startBatch'),
    startAdapt: call('startAdapt'),
    finishAdapt: call('finishAdapt'),
    cancelJob: call('cancelJob'),
    listModels: call('listModels'),
    selectModel: call('selectModel'),
    deleteModel: call('deleteModel'),
    onJobEvent(cb) {
      listeners.add(cb);
      ensureEvents();
      return () => {
        listeners.delete(cb);
      };
    },
    async pathsForDroppedFiles(files: File[]) {
      const out: string[] = [];
      for (const f of files) {
        const res = await fetch(`${baseUrl}/upload?name=${encodeURIComponent(f.name)}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/octet-stream', Authorization: `Bearer ${token}` },
          body: f,
        });
        const data = (await res.json().catch(() => null)) as (Partial<UploadReply> & { error?: { message: string } }) | null;
        if (!res.ok || !data?.path) throw new CallError('upload', `${f.name}: ${data?.error?.message ?? 'upload failed'}`);
        out.push(data.path);
      }
      return out;
    },
  };
}
