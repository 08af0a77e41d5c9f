/**
 * The browser's stand-in for native open/folder/save dialogs: state for PickerModal.svelte. The modal
 * browses folders through the bridge (/fs/list) and reports the user's pick to /fs/pick, which grants it.
 */
import type { FolderListing, FolderPurpose, FsListRequest, FsPickReply, FsPickRequest, OutputFormat } from '../../src-shared/contract/types.ts';
import type { BridgeHttp, Picker } from './bridge-client.ts';

export interface PickRequest {
  mode: 'open' | 'folder' | 'save';
  purpose?: FolderPurpose;
  suggestedName?: string;
  format?: OutputFormat;
  resolve: (value: string[] | null) => void;
}

class PickerState implements Picker {
  current = $state<PickRequest | null>(null);
  http: BridgeHttp | null = null;
  lastDir: string | null = null;

  private ask(req: Omit<PickRequest, 'resolve'>): Promise<string[] | null> {
    if (this.current) this.current.resolve(null);
    return new Promise((resolve) => {
      this.current = { ...req, resolve };
    });
  }

  async openFiles(): Promise<string[]> {
    return (await this.ask({ mode: 'open' })) ?? [];
  }

  async chooseFolder(purpose: FolderPurpose): Promise<string | null> {
    return (await this.ask({ mode: 'folder', purpose }))?.[0] ?? null;
  }

  async saveFile(suggestedName: string, format: OutputFormat): Promise<string | null> {
    return (await this.ask({ mode: 'save', suggestedName, format }))?.[0] ?? null;
  }

  finish(value: string[] | null): void {
    const req = this.current;
    this.current = null;
    req?.resolve(value);
  }

  list(dir: string | null): Promise<FolderListing> {
    if (!this.http) throw new Error('no bridge');
    return this.http.post<FolderListing>('/fs/list', { dir } satisfies FsListRequest);
  }

  async pick(body: FsPickRequest): Promise<string[]> {
    if (!this.http) throw new Error('no bridge');
    return (await this.http.post<FsPickReply>('/fs/pick', body)).paths;
  }
}

export const picker = new PickerState();
