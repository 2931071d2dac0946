/**
 * Layout epochs: signed, hash-chained changes of "who holds key k" (ring members + per-record overrides).
 *
 * **Chains.** One chain per scope: `cluster` (membership and checkpoints) and `partition:<n>` (overrides of keys in
 * partition n). An epoch names its `number` (1, 2, ...), its `parent` (SHA-256 hex of the previous epoch, or
 * `'genesis'` for number 1), the `change`, its `signer` (an Ed25519 peer id, from which the public key is derived:
 * no separate key field is needed), `ts` (ms) and `sig`. {@link EpochChain.append} accepts only an epoch that is
 * well-formed, correctly signed, authorised, and extends the head; otherwise it throws {@link EpochRejectedError}
 * with a reason: `malformed`, `unauthorised`, `bad-signature`, `replay`, `fork` or `gap`.
 *
 * **Encoding.** Signatures cover `"shoal/layout-epoch/v1\n" + canonicalJson(epoch without sig)`; the hash is SHA-256
 * of `canonicalJson(epoch with sig)` (see canonical.ts for the rules and why JSON rather than MessagePack).
 *
 * **No forks from concurrent proposers.** Each partition chain is signed only by that partition's coordinator: the
 * ring primary in the cluster layout at the epoch's `basis` (a cluster epoch number the epoch names, so every daemon
 * and every later reload reaches the same verdict). Others forward proposals to the coordinator. The cluster chain is
 * proposed by the sequencer, the lowest up peer id ({@link sequencerOf}); others forward. With `clusterQuorum` (the
 * daemon's setting) every cluster epoch after the founding one also carries co-signatures of a majority of the
 * members before it, given under one ballot of a Paxos instance per epoch number (quorum.ts, vote.ts): two different
 * epochs under one number cannot both verify, so the cluster chain cannot fork, and a minority side of a partition
 * cannot change the membership. Without it (one process building a chain: tests, the simulator) any current member
 * may sign; set `strictSequencer` to require the sequencer.

 * **Checkpoints.** {@link Layout.checkpoint} appends a cluster epoch recording the head of every partition chain.
 * A restarting daemon verifies the cluster chain fully, then checks each partition chain's hash links up to the
 * checkpointed head and verifies signatures only after it (SHA-256 is ~50x cheaper than Ed25519 verification).
 *
 * **Rollback** never rewrites history: {@link EpochChain.rollback} signs a NEW epoch with `restoreOf` whose change
 * restores the members and overrides of the earlier layout; the mover then moves the data back.
 *
 * @packageDocumentation
 */
import type { PrivateKey } from '@libp2p/interface';
import type { Member, Override, Placement, Ring, RingMember } from '../ring/index.ts';
import { EpochChainImpl } from './chain.ts';
import { loadLayout, newLayout } from './layout.ts';
import { openChain } from './open.ts';
import type { EpochQuorum } from './quorum.ts';
import type { RevocationOrder } from './revocation.ts';

export { canonicalBytes, canonicalJson } from './canonical.ts';
export { GENESIS, hashEpoch, signEpoch, signingBytes, verifyEpochSignature } from './epoch.ts';
export { EpochRejectedError, type EpochRejectReason } from './errors.ts';
export { MemoryEpochLog } from './log.ts';
export {
  type ClusterAuthoriserOptions,
  clusterAuthoriser,
  clusterValidator,
  coordinatorOf,
  type PartitionPolicyOptions,
  partitionPolicy,
  sequencerOf,
} from './policy.ts';
export {
  type Ballot,
  compareBallots,
  cosign,
  type EpochQuorum,
  isBallot,
  majorityOf,
  quorumProblem,
  ZERO_BALLOT,
} from './quorum.ts';
export { type RevocationOrder, revocationProblem, signRevocation } from './revocation.ts';
export {
  type AcceptorState,
  type AcceptReply,
  type AcceptRequest,
  chooseEpoch,
  onAccept,
  onPrepare,
  type PrepareReply,
  type PrepareRequest,
  type VoterHead,
} from './vote.ts';

/** `'cluster'` or `'partition:<n>'`. */
export type Scope = 'cluster' | `partition:${number}`;

/** The head of a chain: its last epoch's number and hash (number 0 and `'genesis'` when empty). */
export interface ChainHead {
  readonly scope: Scope;
  readonly number: number;
  readonly hash: string;
}

/** What an epoch changes. Removals apply before additions, so one change can replace an entry. */
export interface EpochChange {
  /** Members added, or replaced when the id exists (cluster scope only). */
  readonly membersAdded?: readonly Member[];
  /** Member ids removed (cluster scope only). */
  readonly membersRemoved?: readonly string[];
  /** Overrides set or replaced (partition scope only; every key must be in the partition). */
  readonly overridesSet?: readonly Override[];
  /** Record keys whose override is dropped (partition scope only). */
  readonly overridesRemoved?: readonly string[];
  /** Heads of partition chains (cluster scope only): a checkpoint. */
  readonly checkpoint?: readonly ChainHead[];
  /**
   * Members the cluster agrees are down (cluster scope only): they coordinate no partition until an epoch lists
   * them in `membersUp`; each partition they coordinated goes to its next replica ({@link coordinatorOf}).
   * Placement is unchanged: a down member keeps its replicas.
   */
  readonly membersDown?: readonly string[];
  /** Members back up (cluster scope only): they coordinate their partitions again. */
  readonly membersUp?: readonly string[];
  /**
   * Peer keys revoked by the admin key (cluster scope only; revocation.ts): each order must verify under an
   * admin key the layout knows, and a revoked member must be removed by the same epoch.
   */
  readonly revoked?: readonly RevocationOrder[];
  /** Set on a rollback: the epoch number whose layout this change restores. */
  readonly restoreOf?: number;
  /** The wave of moves (a DSM cycle or a manual placement) this epoch commits, for audit and rollback. */
  readonly wave?: string;
  /**
   * Partition scope: the checksum (hex SHA-256) each moved record had when its new holders' signed receipts
   * were verified, by key (keys of `overridesSet` / `overridesRemoved`): its content at move time, for audit.
   */
  readonly checksums?: Readonly<Record<string, string>>;
  /** Why (free text, shown in the admin API): e.g. `"migrate: forecast eu=0.8"`, `"join"`. */
  readonly reason: string;
}

/** Every field of an epoch except its signature. */
export interface UnsignedEpoch {
  readonly number: number;
  readonly parent: string;
  readonly scope: Scope;
  readonly change: EpochChange;
  /** Peer id (Ed25519) of the signer; its public key is derived from it. */
  readonly signer: string;
  /** Milliseconds since the Unix epoch, as the signer's clock read it (informational, not ordering). */
  readonly ts: number;
  /** Partition scope: the cluster epoch whose ring the signer used (decides who may sign). */
  readonly basis?: number;
}

/** A signed layout epoch: JSON-safe, exactly what goes over the wire and into the {@link EpochLog}. */
export interface Epoch extends UnsignedEpoch {
  /** Ed25519 signature, 128 lowercase hex digits. */
  readonly sig: string;
  /**
   * Cluster scope, with `clusterQuorum`: a majority of the previous members' co-signatures (quorum.ts). Not part
   * of the hash or of `sig`: it proves the epoch was chosen, it does not change what the epoch says.
   */
  readonly quorum?: EpochQuorum;
}

/** The layout a chain's epochs fold to, at some epoch number. Immutable. */
export interface LayoutState {
  readonly number: number;
  readonly hash: string;
  readonly members: ReadonlyMap<string, RingMember>;
  readonly overrides: ReadonlyMap<string, Override>;
  /** The latest checkpoint recorded on this chain (cluster scope). */
  readonly checkpoint: readonly ChainHead[] | undefined;
  /** Members marked down by `membersDown` and not back up yet (cluster scope). */
  readonly down: ReadonlySet<string>;
  /** Peer keys revoked by the admin key: nothing they sign is taken (cluster scope). */
  readonly revoked: ReadonlySet<string>;
}

/** One change to one record's override, for "who holds what since when, and why". */
export interface OverrideEvent {
  readonly scope: Scope;
  readonly number: number;
  readonly hash: string;
  readonly ts: number;
  readonly signer: string;
  readonly action: 'set' | 'removed';
  /** The replicas from this epoch on (`set` only). */
  readonly replicas?: readonly string[];
  readonly reason: string;
  readonly restoreOf?: number;
  /** The wave that made the change (`w-` DSM, `m-` manual placement, `r-` rollback). */
  readonly wave?: string;
  /** The record's checksum when the move copied it (`EpochChange.checksums`). */
  readonly checksum?: string;
}

/** Decides whether `epoch.signer` may sign `epoch`, given the chain's layout before it. */
export type Authorise = (epoch: Epoch, before: LayoutState) => boolean | Promise<boolean>;
/** Returns why `epoch`'s content is not allowed in its chain (→ `malformed`), or undefined. */
export type Validate = (epoch: Epoch, before: LayoutState) => string | undefined;

/** Persistence of epochs; the daemon backs it with its store. Appends happen in chain order, one at a time per scope. */
export interface EpochLog {
  append(scope: Scope, epoch: Epoch, options?: { signal?: AbortSignal }): Promise<void>;
  /** Every stored epoch of `scope`, in append order. */
  load(scope: Scope, options?: { signal?: AbortSignal }): Promise<Epoch[]>;
  /** Every scope with at least one stored epoch. */
  scopes(options?: { signal?: AbortSignal }): Promise<Scope[]>;
  /** Forgets the epochs of `scope` numbered above `after` (a daemon leaving a forked branch). */
  truncate(scope: Scope, after: number, options?: { signal?: AbortSignal }): Promise<void>;
}

/** Options of {@link createEpochChain}. */
export interface EpochChainOptions {
  readonly scope: Scope;
  /** Who may sign (required: there is no safe default). */
  readonly authorise: Authorise;
  /** Extra content rules for this scope. Default none. */
  readonly validate?: Validate;
  /** Accepted epochs are written here before they take effect. Default none (memory only). */
  readonly log?: EpochLog;
  /** Why an epoch (of hash `hash`) lacks the co-signatures it needs (→ `unauthorised`), or undefined. Default none. */
  readonly quorum?: (epoch: Epoch, hash: string, before: LayoutState) => string | undefined;
}

/** Options of {@link EpochChain.propose}. */
export interface ProposeOptions {
  readonly signal?: AbortSignal;
  /** Default `Date.now()`. */
  readonly ts?: number;
  /** Partition scope: the cluster epoch whose ring makes the signer coordinator. */
  readonly basis?: number;
}

/** One verified chain of epochs and the layout they fold to. */
export interface EpochChain {
  readonly scope: Scope;
  readonly head: ChainHead;
  /** Verifies, persists (if a log is set) and applies `epoch`; appends are serialised. Throws EpochRejectedError. */
  append(epoch: Epoch, options?: { signal?: AbortSignal }): Promise<void>;
  /**
   * Runs every check of `append` without applying; resolves to the epoch's hash or throws EpochRejectedError.
   * `withoutQuorum`: all but the co-signature count (a voter checking a candidate before it co-signs).
   */
  check(epoch: Epoch, options?: { signal?: AbortSignal; withoutQuorum?: boolean }): Promise<string>;
  /** Epoch by number (1-based). */
  get(number: number): Epoch | undefined;
  /** Hash of epoch `number` (`'genesis'` for 0). */
  hashAt(number: number): string | undefined;
  /** Epochs from `from` (default 1) to the head, e.g. to serve a peer that reported a gap. */
  epochs(from?: number): readonly Epoch[];
  /** The layout at the head. */
  layout(): LayoutState;
  /** The layout right after epoch `number` (0 = empty). Throws RangeError beyond the head. */
  layoutAt(number: number): LayoutState;
  /** Every epoch that set or removed the override of `key`, oldest first. */
  history(key: string): readonly OverrideEvent[];
  /** Signs the next epoch (head + 1, parent = head hash) with `privateKey`; does not append it. */
  propose(change: EpochChange, privateKey: PrivateKey, options?: ProposeOptions): Promise<Epoch>;
  /** Signs the next epoch restoring the layout at `toNumber` (`change.restoreOf = toNumber`); does not append it. */
  rollback(toNumber: number, privateKey: PrivateKey, options?: ProposeOptions & { reason?: string }): Promise<Epoch>;
}

/** Creates an empty chain. */
export function createEpochChain(options: EpochChainOptions): EpochChain {
  return new EpochChainImpl(options);
}

/**
 * Loads `scope` from `options.log` and re-verifies every epoch. With `trusted` (a head from a verified checkpoint),
 * epochs up to it are checked by hash links only; if the links do not reach `trusted.hash`, every epoch is verified.
 * Throws EpochRejectedError when the stored chain does not verify.
 */
export function openEpochChain(
  options: EpochChainOptions & { readonly log: EpochLog },
  load: { signal?: AbortSignal; trusted?: ChainHead } = {},
): Promise<EpochChain> {
  return openChain(options, load);
}

/** Options of {@link createLayout} and {@link openLayout}. */
export interface LayoutOptions {
  /** Q. Default 4096. */
  readonly partitions?: number;
  /** R. Default 3. */
  readonly replicas?: number;
  /** Where accepted epochs are persisted. Default none (memory only). */
  readonly log?: EpochLog;
  /** Peer ids that may sign the founding cluster epoch. Default: the founder must add itself as a member. */
  readonly bootstrap?: ReadonlySet<string>;
  /** Only the sequencer may sign cluster epochs. Default false (any current member). */
  readonly strictSequencer?: boolean;
  /** Only the partition's ring primary at `basis` may sign partition epochs. Default true. */
  readonly strictCoordinator?: boolean;
  /**
   * Cluster epochs after the founding one need co-signatures of a majority of the previous members (quorum.ts).
   * Default false (a chain built by one process: tests, the simulator).
   */
  readonly clusterQuorum?: boolean;
  /** Admin key ids (revocation.ts) whose orders may revoke member keys. Default none (no revocation). */
  readonly admins?: ReadonlySet<string>;
}

/** The whole layout of a daemon: the cluster chain, one chain per partition, and the rings they imply. */
export interface Layout {
  readonly partitions: number;
  readonly replicas: number;
  readonly cluster: EpochChain;
  /** The chain of a scope (partition chains are created empty on first use). */
  chain(scope: Scope): EpochChain;
  /** The ring of the current cluster members (cached per cluster epoch). */
  ring(): Ring;
  /** The ring of the cluster members at cluster epoch `number`. */
  ringAt(number: number): Ring;
  /**
   * Where `key` lives by the signed layout alone: `resolvePlacement` (src/ring) of the current ring and the
   * key's override in its partition chain (no move in flight: moves are a daemon's announcements).
   */
  placement(key: string): Placement;
  /**
   * Who coordinates partition `partition` now: the one member that may sign its epochs, announce and run its
   * moves, and plan for it: its first replica that the cluster chain does not mark down (see
   * {@link coordinatorOf}). The answer of every daemon with the same cluster head.
   */
  coordinatorOf(partition: number): string | undefined;
  /** {@link coordinatorOf} at cluster epoch `number`. */
  coordinatorAt(number: number, partition: number): string | undefined;
  /** Appends to the chain of `epoch.scope`. Throws EpochRejectedError. */
  append(epoch: Epoch, options?: { signal?: AbortSignal }): Promise<void>;
  /** Signs the next epoch of `scope`; partition epochs get `basis` = current cluster head. Not appended. */
  propose(scope: Scope, change: EpochChange, privateKey: PrivateKey, options?: ProposeOptions): Promise<Epoch>;
  /** Signs a cluster epoch recording the head of every non-empty partition chain. Not appended. */
  checkpoint(privateKey: PrivateKey, options?: ProposeOptions & { reason?: string }): Promise<Epoch>;
  /** Signs a rollback of `scope` to epoch `toNumber` (see {@link EpochChain.rollback}). Not appended. */
  rollback(
    scope: Scope,
    toNumber: number,
    privateKey: PrivateKey,
    options?: ProposeOptions & { reason?: string },
  ): Promise<Epoch>;
  /**
   * Replaces the partition chain of `scope` by `epochs` (the whole chain, from number 1): every epoch
   * beyond the part it shares with the chain held here is verified (signature, authorisation, links)
   * before anything changes, then the log is rewritten and the new chain takes effect. For adopting the
   * other branch of a fork. Throws EpochRejectedError (the chain held here is then unchanged).
   */
  replaceChain(scope: Scope, epochs: readonly Epoch[], options?: { signal?: AbortSignal }): Promise<void>;
  /** Override history of a record key (from its partition chain). */
  history(key: string): readonly OverrideEvent[];
  /** Heads of the cluster chain and of every non-empty partition chain. */
  heads(): ChainHead[];
}

/** An empty layout (a new cluster, or a test). */
export function createLayout(options: LayoutOptions = {}): Layout {
  return newLayout(options);
}

/**
 * Loads and verifies every chain in `options.log`: the cluster chain in full, then each partition chain, trusting
 * hash links up to the head recorded by the latest checkpoint. Throws EpochRejectedError if a stored chain is invalid.
 */
export function openLayout(
  options: LayoutOptions & { readonly log: EpochLog },
  load: { signal?: AbortSignal } = {},
): Promise<Layout> {
  return loadLayout(options, load);
}

/** Re-exported for convenience: placement result of {@link Layout.placement}. */
export type { Placement, Ring };
