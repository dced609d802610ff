/**
 * Storage: what domain services hold. One Store (records, counters, change log), one
 * BlobStore (content) and one ChangeBus (nudges). `commit` is the Store commit followed, on
 * success, by one nudge per account whose change log moved.
 */

import type { Batch, CommitResult, Store } from './store.ts';
import type { BlobStore } from './blob-store.ts';
import type { ChangeBus } from './change-bus.ts';

export class Storage {
  readonly store: Store;
  readonly blobs: BlobStore;
  readonly bus: ChangeBus;

  constructor(parts: { store: Store; blobs: BlobStore; bus: ChangeBus }) {
    this.store = parts.store;
    this.blobs = parts.blobs;
    this.bus = parts.bus;
  }

  async commit(batch: Batch): Promise<CommitResult> {
    const result = await this.store.commit(batch);
    if (result.ok) {
      for (const [account, changeId] of result.changeIds) {
        const collections = new Set<string>();
        for (const c of batch.changes ?? [])
          if (c.account === account) collections.add(c.collection);
        this.bus.publish({ account, changeId, collections: [...collections] });
      }
    }
    return result;
  }

  async close(): Promise<void> {
    await this.bus.close();
    await this.blobs.close();
    await this.store.close();
  }
}
