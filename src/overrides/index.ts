/**
 * Per-record placement overrides: the machinery that both manual placement (`shoal placement`) and the
 * DSM's mover drive. One module, one factory ({@link createOverrideService}); `node/` only wires it.
 *
 * - `layout-keeper.ts`: the signed cluster chain (membership epochs), proposed by the sequencer;
 * - `cluster-votes.ts`: the majority co-signatures every cluster epoch needs (Paxos per epoch number);
 * - `sync.ts`: partition chains (pushed by coordinators, pulled from peers) → the override table that
 *   `ClusterRing.replicasOf` consults;
 * - `plan.ts`: the pure decisions (placement checks, the steps of a move, the directory entry codec);
 * - `relocate.ts`: the move controller (runs what `plan.ts` decides, step by step, with timeouts);
 * - `holder-directory.ts`: the DHT directory `/shoal/holders/<key>`;
 * - `repair.ts`: anti-entropy among the holders of overridden keys;
 * - `wire.ts`: the override protocol `/shoal/overrides/1.0.0`.
 *
 * @packageDocumentation
 */

export type { ForkRecord } from './forks.ts';
export { type EpochSummary, LAYOUT_PROTOCOL, LayoutKeeper, type LayoutKeeperComponents } from './layout-keeper.ts';
export {
  type Migration,
  MigrationLog,
  type MigrationOrigin,
  type MigrationState,
  type MoveKind,
  moveKind,
} from './migrations.ts';
export { INTENT_REFUSALS, type IntentRefusal, type LayoutObserver, SILENT_LAYOUT_OBSERVER } from './observer.ts';
export {
  checkPlacement,
  DEFAULT_MOVE_TIMEOUTS,
  MOVE_STEPS,
  type MovePlan,
  type MoveStepKind,
  type MoveTimeouts,
  planMove,
  planMoveFrom,
  planWave,
  resolveHolders,
  type WavePlan,
} from './plan.ts';
export type { QuarantineEntry } from './quarantine.ts';
export { planRollback, type RestoreMove, type RollbackTarget } from './rollback.ts';
export {
  createOverrideService,
  type HoldersView,
  type OverrideService,
  type OverrideServiceComponents,
  type OverrideServiceOptions,
  type PlacementView,
} from './service.ts';
export type { WaveFaults, WaveOutcome } from './wave.ts';
export { OVERRIDES_PROTOCOL, type PlaceManyResult, type PlaceRequest, type PlaceResult } from './wire.ts';
