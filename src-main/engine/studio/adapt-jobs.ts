import type { AdaptRequest } from '../../ipc/contract.ts';
import type { ModelRegistry } from '../models/index.ts';
import type { JobRunner } from './job-runner.ts';

/** "Adapt to my photos" jobs: unpaired NeurMAP fine-tuning into a personal model. */
export class AdaptJobs {
  constructor(
    private readonly registry: ModelRegistry,
    private readonly jobs: JobRunner,
    private readonly userDataDir: string,
  ) {}

  async start(_req: AdaptRequest): Promise<string> {
    throw new Error('adapting to your photos is not available in this build yet');
  }

  async finish(_jobId: string, _keep: boolean): Promise<void> {
    throw new Error('no adaptation to finish');
  }

  async dispose(): Promise<void> {}
}
