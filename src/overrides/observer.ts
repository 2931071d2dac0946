import type { EpochRejectReason } from '../layout/index.ts';

/** Why a move announcement (intent) was refused. */
export type IntentRefusal = 'non-member' | 'bad-signature' | 'not-coordinator' | 'quarantined';
export const INTENT_REFUSALS: readonly IntentRefusal[] = [
  'non-member',
  'bad-signature',
  'not-coordinator',
  'quarantined',
];

/** What the layout machinery reports to metrics (src/api/layout-metrics.ts). */
export interface LayoutObserver {
  /** An epoch offered to this daemon (pushed, pulled or fetched) was refused. */
  epochRejected(chain: 'cluster' | 'partition', reason: EpochRejectReason): void;
  /** Two chains of a partition forked here; `equivocation` when one key signed both sides. */
  forkFound(equivocation: boolean): void;
  /** A move announcement was refused. */
  intentRefused(reason: IntentRefusal): void;
}

export const SILENT_LAYOUT_OBSERVER: LayoutObserver = {
  epochRejected: () => {},
  forkFound: () => {},
  intentRefused: () => {},
};
