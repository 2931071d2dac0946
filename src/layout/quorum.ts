/**
 * Majority-signed cluster epochs. A cluster epoch N (after the founding one) takes effect only with the
 * co-signatures of a majority of the members at N − 1, all given under one ballot of a single-decree Paxos
 * run for N (see vote.ts for the acceptor rules).
 *
 * **Why two different epochs N cannot both verify.** Each co-signature is a Paxos "accepted" message: a member
 * signs (hash of epoch N, ballot b) only when it accepts that epoch at ballot b, and Paxos guarantees that once a
 * majority accepted an epoch at one ballot, every proposal at a higher ballot carries the same epoch (a proposer
 * must first hear from a majority, and it takes the highest-ballot epoch any of them accepted). Two epochs with
 * majority co-signatures at their own ballots would be two values chosen by one Paxos instance, which it
 * excludes as long as fewer than half the voters sign against the rules. Co-signatures at different ballots do
 * not add up (that would let a value be "chosen" that Paxos never chose). A member that signed two epochs N
 * under the same ballot or broke its promise is caught by the fork evidence and quarantine of src/overrides.
 *
 * The founding epoch (no members yet) is signed by its founder alone. A cluster that lost its majority cannot
 * change its membership chain until enough members are back (as etcd or CockroachDB), but keeps serving.
 *
 * @packageDocumentation
 */
import type { PrivateKey } from '@libp2p/interface';
import type { Epoch } from './index.ts';
import { signEd25519, signerOf, verifyEd25519 } from './signature.ts';

/** A Paxos ballot: `round` first, then the proposer's peer id, so two proposers never share one. */
export interface Ballot {
  readonly round: number;
  readonly proposer: string;
}

export const ZERO_BALLOT: Ballot = { round: 0, proposer: '' };

/** Negative, zero or positive as `a` is below, equal to or above `b`. */
export function compareBallots(a: Ballot, b: Ballot): number {
  if (a.round !== b.round) return a.round - b.round;
  return a.proposer < b.proposer ? -1 : a.proposer > b.proposer ? 1 : 0;
}

/** The co-signatures that make a cluster epoch valid: `[signer, signature]` pairs, all under `ballot`. */
export interface EpochQuorum {
  readonly ballot: Ballot;
  readonly sigs: ReadonlyArray<readonly [string, string]>;
}

/** Domain separation: a co-signature is never valid as an epoch signature or a receipt, nor the reverse. */
const COSIGN_PREFIX = 'shoal/layout-cosign/v1\n';

/** The bytes a co-signature covers: the epoch's hash and the ballot it was accepted under. */
export function cosignBytes(hash: string, ballot: Ballot): Uint8Array {
  return new TextEncoder().encode(`${COSIGN_PREFIX}${hash}\n${ballot.round}\n${ballot.proposer}`);
}

/** This member's co-signature of the epoch of hash `hash`, accepted at `ballot`. */
export function cosign(hash: string, ballot: Ballot, key: PrivateKey): [string, string] {
  return [signerOf(key), signEd25519(key, cosignBytes(hash, ballot))];
}

/** Members needed for a majority of `voters`. */
export const majorityOf = (voters: number): number => Math.floor(voters / 2) + 1;

/** A well-formed ballot (round ≥ 1: every proposal outbids the acceptors' initial zero ballot). */
export const isBallot = (b: unknown): b is Ballot =>
  typeof b === 'object' &&
  b !== null &&
  Number.isSafeInteger((b as Ballot).round) &&
  (b as Ballot).round > 0 &&
  typeof (b as Ballot).proposer === 'string';

/**
 * Why `epoch` (of hash `hash`) lacks a valid majority of `voters` (the members before it), or undefined when
 * at least a majority of them co-signed it under its quorum's ballot.
 */
export function quorumProblem(epoch: Epoch, hash: string, voters: ReadonlySet<string>): string | undefined {
  const q = epoch.quorum;
  const need = majorityOf(voters.size);
  if (q === undefined || q === null || typeof q !== 'object')
    return `no co-signatures (needs ${need} of ${voters.size})`;
  if (!isBallot(q.ballot) || !Array.isArray(q.sigs)) return 'malformed co-signatures';
  if (q.sigs.length > voters.size) return 'more co-signatures than voters';
  const bytes = cosignBytes(hash, q.ballot);
  const valid = new Set<string>();
  for (const pair of q.sigs) {
    if (!Array.isArray(pair) || pair.length !== 2) return 'malformed co-signatures';
    const [signer, sig] = pair;
    if (!voters.has(signer) || valid.has(signer)) continue;
    if (verifyEd25519(signer, bytes, sig)) valid.add(signer);
  }
  if (valid.size < need) return `co-signed by ${valid.size} of ${voters.size} members (needs ${need})`;
  return undefined;
}
