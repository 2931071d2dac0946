/**
 * The acceptor of the cluster chain's Paxos (one single-decree instance per epoch number, see quorum.ts), as
 * pure transitions: state and request in, new state and reply out. The caller persists the new state before
 * it sends the reply (a promise or an acceptance forgotten in a crash would break safety) and, on `accepted`,
 * co-signs the epoch.
 *
 * An instance is identified by the number of the epoch it decides and the hash of its parent (this daemon's
 * head): a request for another number or parent is answered with where this daemon's chain stands instead.
 */

import type { Epoch } from './index.ts';
import type { Ballot } from './quorum.ts';
import { compareBallots, ZERO_BALLOT } from './quorum.ts';

/** What an acceptor remembers of the instance for its next epoch. */
export interface AcceptorState {
  readonly number: number;
  readonly parent: string;
  /** The highest ballot it promised (it ignores lower ones from then on). */
  readonly promised: Ballot;
  /** The epoch it accepted last, and under which ballot. */
  readonly accepted?: { readonly ballot: Ballot; readonly epoch: Epoch };
}

/** This daemon's cluster chain head. */
export interface VoterHead {
  readonly number: number;
  readonly hash: string;
}

export interface PrepareRequest {
  readonly number: number;
  readonly parent: string;
  readonly ballot: Ballot;
}

export interface AcceptRequest {
  readonly ballot: Ballot;
  readonly epoch: Epoch;
}

/** Replies that do not depend on the ballot: the chains disagree on where epoch `number` goes. */
export type Mismatch =
  /** This daemon already holds epoch `number`: the proposer is behind and should pull. */
  | { readonly t: 'ahead'; readonly head: number }
  /** This daemon lacks epochs before `number`: it should pull first. */
  | { readonly t: 'behind'; readonly head: number }
  /** Same number, another parent: the chains forked. */
  | { readonly t: 'fork'; readonly head: number };

export type PrepareReply =
  | { readonly t: 'promise'; readonly accepted?: { readonly ballot: Ballot; readonly epoch: Epoch } }
  | { readonly t: 'nack'; readonly promised: Ballot }
  | Mismatch;

export type AcceptReply = { readonly t: 'accepted' } | { readonly t: 'nack'; readonly promised: Ballot } | Mismatch;

/** Where `number`/`parent` stand against `head`, or undefined when they name this daemon's next epoch. */
function mismatch(head: VoterHead, number: number, parent: string): Mismatch | undefined {
  if (number <= head.number) return { t: 'ahead', head: head.number };
  if (number > head.number + 1) return { t: 'behind', head: head.number };
  if (parent !== head.hash) return { t: 'fork', head: head.number };
  return undefined;
}

/** The state of the instance for `head.number + 1` (a state left from an earlier instance is over). */
function current(state: AcceptorState | undefined, head: VoterHead): AcceptorState {
  if (state !== undefined && state.number === head.number + 1 && state.parent === head.hash) return state;
  return { number: head.number + 1, parent: head.hash, promised: ZERO_BALLOT };
}

/** Phase 1: promise to ignore ballots below `req.ballot`, telling the proposer what was accepted so far. */
export function onPrepare(
  state: AcceptorState | undefined,
  head: VoterHead,
  req: PrepareRequest,
): { state: AcceptorState | undefined; reply: PrepareReply } {
  const off = mismatch(head, req.number, req.parent);
  if (off !== undefined) return { state, reply: off };
  const s = current(state, head);
  if (compareBallots(req.ballot, s.promised) <= 0) return { state: s, reply: { t: 'nack', promised: s.promised } };
  const next: AcceptorState = { ...s, promised: req.ballot };
  return { state: next, reply: s.accepted ? { t: 'promise', accepted: s.accepted } : { t: 'promise' } };
}

/**
 * Phase 2: accept `req.epoch` at `req.ballot` unless a higher ballot was promised. The epoch's content must
 * already have been checked by the caller (a valid next epoch but for its co-signatures).
 */
export function onAccept(
  state: AcceptorState | undefined,
  head: VoterHead,
  req: AcceptRequest,
): { state: AcceptorState | undefined; reply: AcceptReply } {
  const off = mismatch(head, req.epoch.number, req.epoch.parent);
  if (off !== undefined) return { state, reply: off };
  const s = current(state, head);
  if (compareBallots(req.ballot, s.promised) < 0) return { state: s, reply: { t: 'nack', promised: s.promised } };
  const { quorum: _q, ...epoch } = req.epoch; // co-signatures of other ballots are not part of what is accepted
  return { state: { ...s, promised: req.ballot, accepted: { ballot: req.ballot, epoch } }, reply: { t: 'accepted' } };
}

/**
 * The proposer's choice after phase 1: the epoch accepted under the highest ballot among the promises, else
 * its own. Taking it is what keeps an epoch that a majority may already have accepted from being replaced.
 */
export function chooseEpoch(
  promises: ReadonlyArray<{ readonly accepted?: { readonly ballot: Ballot; readonly epoch: Epoch } }>,
  own: Epoch,
): Epoch {
  let best: { ballot: Ballot; epoch: Epoch } | undefined;
  for (const p of promises) {
    if (p.accepted && (best === undefined || compareBallots(p.accepted.ballot, best.ballot) > 0)) best = p.accepted;
  }
  return best?.epoch ?? own;
}
