import type { PrivateKey } from '@libp2p/interface';
import { decode, encode } from '@msgpack/msgpack';
import type { Logger } from 'pino';
import {
  type AcceptorState,
  type AcceptReply,
  type Ballot,
  chooseEpoch,
  compareBallots,
  cosign,
  type Epoch,
  EpochRejectedError,
  hashEpoch,
  isBallot,
  type Layout,
  majorityOf,
  onAccept,
  onPrepare,
  type PrepareReply,
  type RevocationOrder,
} from '../layout/index.ts';
import { signerOf } from '../layout/signature.ts';
import { type Net, ProtocolError } from '../net/index.ts';
import { internalEntry, KEYSPACE, prefixKey, type Store } from '../store/index.ts';

/** The cluster chain's Paxos messages (msgpack): `prepare` (phase 1), `accept` (phase 2), and `revoke`. */
export const LAYOUT_VOTE_PROTOCOL = '/shoal/layout-vote/1.0.0';

type VoteRequest = { t: 'prepare'; n: number; p: string; b: Ballot } | { t: 'accept'; b: Ballot; e: Epoch };
/** Every message of the protocol: the votes, and an admin's revocation order for the sequencer (revocation.ts). */
type WireRequest = VoteRequest | { t: 'revoke'; o: RevocationOrder };
/** An accept reply, with the voter's co-signature when it accepted; `refused` when the epoch is not a valid next one. */
type AcceptAnswer = (AcceptReply & { sig?: [string, string] }) | { t: 'refused'; why: string };

const STATE_KEY = prefixKey(KEYSPACE.meta, new TextEncoder().encode('layout-vote/cluster'));
const CALL_TIMEOUT_MS = 3000;

export interface ClusterVotesComponents {
  net: Net;
  store: Store;
  peerKey: PrivateKey;
  /** The daemon's layout (the keeper may replace it when it adopts another chain). */
  layout: () => Layout;
  /** Appends what `peer` holds beyond this daemon's cluster head (a voter or proposer that is behind). */
  catchUp: (peer: string) => Promise<void>;
  /** Takes a revocation order a member forwarded (this daemon proposes it when it is the sequencer). */
  onRevoke: (order: RevocationOrder, from: string) => void;
  logger: Logger;
}

/**
 * Both roles of the cluster chain's Paxos (src/layout/quorum.ts, vote.ts) for this daemon: the acceptor, whose
 * promises and acceptances are persisted before it answers, and the proposer the layout keeper runs to get its
 * next cluster epoch co-signed by a majority of the members. Requests are answered one at a time.
 */
export class ClusterVotes {
  readonly #c: ClusterVotesComponents;
  readonly #self: string;
  #state: AcceptorState | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  /** The highest round seen in any ballot, so the next proposal outbids it. */
  #round = 0;

  constructor(components: ClusterVotesComponents) {
    this.#c = components;
    this.#self = signerOf(components.peerKey);
  }

  async start(): Promise<void> {
    const stored = await this.#c.store.get(STATE_KEY);
    if (stored !== undefined) {
      this.#state = JSON.parse(new TextDecoder().decode(stored.value)) as AcceptorState;
      this.#round = this.#state.promised.round;
    }
    await this.#c.net.handle(LAYOUT_VOTE_PROTOCOL, async (bytes, from) => {
      let req: WireRequest;
      try {
        req = decode(bytes) as WireRequest;
      } catch {
        throw new ProtocolError(`undecodable layout vote from ${from.peerId}`);
      }
      if (req?.t === 'revoke') {
        this.#c.onRevoke(req.o, from.peerId);
        return encode({ t: 'queued' });
      }
      if (!isBallot(req?.b)) throw new ProtocolError(`malformed layout vote from ${from.peerId}`);
      return encode(await this.#serve(req, from.peerId), { ignoreUndefined: true });
    });
  }

  async stop(): Promise<void> {
    await this.#c.net.unhandle(LAYOUT_VOTE_PROTOCOL).catch(() => {});
  }

  /**
   * Runs both phases for `own` (the next cluster epoch, signed by this daemon) among the members of the chain
   * before it. Resolves to the chosen epoch with its co-signatures (`own`, or an epoch an earlier proposer got
   * accepted, which must be completed first), or undefined when no majority answered (retried later).
   */
  async propose(own: Epoch, signal?: AbortSignal): Promise<Epoch | undefined> {
    const voters = [...this.#c.layout().cluster.layout().members.keys()];
    const need = majorityOf(voters.length);
    const ballot: Ballot = { round: ++this.#round, proposer: this.#self };
    const promises = (
      await Promise.all(
        voters.map((v) =>
          this.#ask<PrepareReply>(v, { t: 'prepare', n: own.number, p: own.parent, b: ballot }, signal),
        ),
      )
    ).filter((r): r is Extract<PrepareReply, { t: 'promise' }> => r?.t === 'promise');
    if (promises.length < need) {
      this.#c.logger.info({ epoch: own.number, promises: promises.length, need }, 'layout: no majority promised');
      return undefined;
    }
    const epoch = chooseEpoch(promises, own);
    const answers = await Promise.all(
      voters.map((v) => this.#ask<AcceptAnswer>(v, { t: 'accept', b: ballot, e: epoch }, signal)),
    );
    const sigs = answers.flatMap((a) => (a?.t === 'accepted' && a.sig ? [a.sig] : []));
    if (sigs.length < need) {
      this.#c.logger.info(
        {
          epoch: own.number,
          accepted: sigs.length,
          need,
          answers: answers.map((a) => a && ('why' in a ? a.why : a.t)),
        },
        'layout: no majority accepted',
      );
      return undefined;
    }
    return { ...epoch, quorum: { ballot, sigs } };
  }

  /** Hands a revocation order to the sequencer `peer`. */
  async forwardRevocation(peer: string, order: RevocationOrder, signal?: AbortSignal): Promise<void> {
    const req: WireRequest = { t: 'revoke', o: order };
    await this.#c.net.request(peer, LAYOUT_VOTE_PROTOCOL, encode(req), { signal, timeoutMs: CALL_TIMEOUT_MS });
  }

  /** One vote request to `voter` (this daemon answers its own); undefined when it did not answer. */
  async #ask<T extends PrepareReply | AcceptAnswer>(
    voter: string,
    req: VoteRequest,
    signal?: AbortSignal,
  ): Promise<T | undefined> {
    try {
      const reply = (
        voter === this.#self
          ? await this.#serve(req, voter)
          : decode(
              await this.#c.net.request(voter, LAYOUT_VOTE_PROTOCOL, encode(req, { ignoreUndefined: true }), {
                signal,
                timeoutMs: CALL_TIMEOUT_MS,
              }),
            )
      ) as T;
      if (reply.t === 'nack') this.#round = Math.max(this.#round, reply.promised.round);
      if (reply.t === 'ahead') void this.#c.catchUp(voter).catch(() => {});
      return reply;
    } catch (err) {
      this.#c.logger.debug({ err, voter }, 'layout: vote not answered');
      return undefined;
    }
  }

  #serve(req: VoteRequest, from: string): Promise<PrepareReply | AcceptAnswer> {
    const run = this.#queue.then(() => this.#answer(req, from));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #answer(req: VoteRequest, from: string): Promise<PrepareReply | AcceptAnswer> {
    this.#round = Math.max(this.#round, req.b.round);
    const number = req.t === 'prepare' ? req.n : req.e?.number;
    if (typeof number === 'number' && number > this.#head().number + 1 && from !== this.#self) {
      await this.#c.catchUp(from).catch(() => {}); // vote on the proposer's chain, not on a stale one
    }
    if (req.t === 'prepare') {
      const { state, reply } = onPrepare(this.#state, this.#head(), { number: req.n, parent: req.p, ballot: req.b });
      await this.#keep(state);
      return reply;
    }
    let hash: string;
    try {
      hash = await this.#c.layout().cluster.check(req.e, { withoutQuorum: true });
    } catch (err) {
      if (!(err instanceof EpochRejectedError)) throw err;
      if (err.reason !== 'replay' && err.reason !== 'gap' && err.reason !== 'fork')
        return { t: 'refused', why: err.message };
      hash = hashEpoch(req.e); // where the chains stand is answered by onAccept below
    }
    const { state, reply } = onAccept(this.#state, this.#head(), { ballot: req.b, epoch: req.e });
    await this.#keep(state);
    return reply.t === 'accepted' ? { ...reply, sig: cosign(hash, req.b, this.#c.peerKey) } : reply;
  }

  #head() {
    const h = this.#c.layout().cluster.head;
    return { number: h.number, hash: h.hash };
  }

  /** Persists a changed acceptor state before its reply leaves (a forgotten promise would break safety). */
  async #keep(state: AcceptorState | undefined): Promise<void> {
    if (state === undefined || state === this.#state) return;
    const same =
      this.#state !== undefined &&
      this.#state.number === state.number &&
      compareBallots(this.#state.promised, state.promised) === 0 &&
      this.#state.accepted === state.accepted;
    this.#state = state;
    if (same) return;
    const bytes = new TextEncoder().encode(JSON.stringify(state));
    await this.#c.store.put(STATE_KEY, internalEntry(bytes, 'application/json'));
  }
}
