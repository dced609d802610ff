/**
 * Records of the outbound queue (outbound-queue.ts): a queued message with its envelope and
 * per-recipient delivery state, and the lease a worker holds while it delivers one.
 */

/** DSN NOTIFY values (RFC 3461 §4.1); absent = the default (FAILURE and DELAY). */
export type NotifyOn = 'SUCCESS' | 'FAILURE' | 'DELAY';

export type RecipientState = 'pending' | 'delivered' | 'failed';

export interface QueueRecipient {
  readonly address: string;
  readonly state: RecipientState;
  /** Attempts made for this recipient. */
  readonly attempts: number;
  /** Last reply or error text, e.g. "550 5.1.1 no such user" or "connect ECONNREFUSED". */
  readonly lastResult?: string;
  /** Enhanced status of the last attempt (RFC 3463), e.g. "4.4.1". */
  readonly status?: string;
  /** The host that answered, for the DSN's Remote-MTA. */
  readonly remoteMta?: string;
  /** NOTIFY=NEVER is an empty list. */
  readonly notify?: readonly NotifyOn[];
  /** ORCPT (RFC 3461 §4.2), as given: "rfc822;addr". */
  readonly orcpt?: string;
  /** For failed recipients: a delivery status notification was queued for them. */
  readonly bounced?: boolean;
}

export interface QueueEntry {
  readonly id: string;
  /** Reverse-path; '' is the null sender (bounces). */
  readonly from: string;
  readonly recipients: readonly QueueRecipient[];
  /** Message size, bytes. */
  readonly size: number;
  /** Number of body chunks stored under ('body', id, n). */
  readonly chunks: number;
  /** Epoch ms. */
  readonly createdAt: number;
  /** Epoch ms of the next attempt (the 'due' index key). */
  readonly nextAttemptAt: number;
  /** Delivery rounds made. */
  readonly attempts: number;
  /** DSN RET (RFC 3461 §4.3). */
  readonly ret: 'FULL' | 'HDRS' | null;
  /** DSN ENVID (RFC 3461 §4.4). */
  readonly envid: string | null;
  /** A delivery status notification made here: never bounced itself. */
  readonly isBounce: boolean;
  /** Principal id of the submitter, when known. */
  readonly submitter?: number;
  readonly lastError?: string;
}

/** A worker's reservation of an entry (stored at ('lease', id)). */
export interface QueueLease {
  readonly owner: string;
  /** Epoch ms after which any worker may take the entry over. */
  readonly expires: number;
}

/** What `enqueue` takes. */
export interface EnqueueInput {
  readonly from: string;
  readonly recipients: readonly {
    readonly address: string;
    readonly notify?: readonly NotifyOn[];
    readonly orcpt?: string;
  }[];
  readonly message: Uint8Array;
  readonly ret?: 'FULL' | 'HDRS' | null;
  readonly envid?: string | null;
  readonly isBounce?: boolean;
  readonly submitter?: number;
}
