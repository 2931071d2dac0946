import type { PrivateKey } from '@libp2p/interface';
import { throwIfAborted } from '../errors/index.ts';
import { epochSignatureValid, GENESIS, hashEpoch, malformed, signEpoch } from './epoch.ts';
import { EpochRejectedError } from './errors.ts';
import type {
  ChainHead,
  Epoch,
  EpochChain,
  EpochChainOptions,
  EpochChange,
  LayoutState,
  OverrideEvent,
  ProposeOptions,
  Scope,
} from './index.ts';
import { apply, cloneState, emptyState, freeze, restoringChange, type WorkingState } from './state.ts';

/** A frozen snapshot is kept every this many epochs, so `layoutAt` replays at most this many. */
const SNAPSHOT_EVERY = 128;

export interface AppendInternals {
  readonly signal?: AbortSignal;
  /** Skip signature and authorisation checks (the epoch is committed by a verified checkpoint). */
  readonly trusted?: boolean;
  /** Do not write to the log (the epoch came from it). */
  readonly persisted?: boolean;
}

export class EpochChainImpl implements EpochChain {
  readonly scope: Scope;
  readonly #options: EpochChainOptions;
  readonly #epochs: Epoch[] = [];
  readonly #hashes: string[] = [];
  readonly #state: WorkingState = emptyState(GENESIS);
  readonly #snapshots: LayoutState[] = [freeze(emptyState(GENESIS))];
  readonly #history = new Map<string, OverrideEvent[]>();
  #frozen: LayoutState | undefined;
  #tail: Promise<unknown> = Promise.resolve();

  constructor(options: EpochChainOptions) {
    this.scope = options.scope;
    this.#options = options;
  }

  get head(): ChainHead {
    return { scope: this.scope, number: this.#state.number, hash: this.#state.hash };
  }

  get(number: number): Epoch | undefined {
    return this.#epochs[number - 1];
  }

  hashAt(number: number): string | undefined {
    return number === 0 ? GENESIS : this.#hashes[number - 1];
  }

  epochs(from = 1): readonly Epoch[] {
    return this.#epochs.slice(Math.max(0, from - 1));
  }

  layout(): LayoutState {
    this.#frozen ??= freeze(this.#state);
    return this.#frozen;
  }

  layoutAt(number: number): LayoutState {
    if (!Number.isInteger(number) || number < 0 || number > this.#state.number) {
      throw new RangeError(`${this.scope}: no epoch ${number} (head is ${this.#state.number})`);
    }
    if (number === this.#state.number) return this.layout();
    const base = Math.floor(number / SNAPSHOT_EVERY);
    const s = cloneState(this.#snapshots[base]);
    for (let n = base * SNAPSHOT_EVERY + 1; n <= number; n++) apply(s, this.#epochs[n - 1], this.#hashes[n - 1]);
    return freeze(s);
  }

  history(key: string): readonly OverrideEvent[] {
    return this.#history.get(key) ?? [];
  }

  append(epoch: Epoch, options: { signal?: AbortSignal } = {}): Promise<void> {
    return this.appendInternal(epoch, options);
  }

  appendInternal(epoch: Epoch, options: AppendInternals): Promise<void> {
    const run = this.#tail.then(() => this.#append(epoch, options));
    this.#tail = run.catch(() => undefined);
    return run;
  }

  async check(epoch: Epoch, options: { signal?: AbortSignal; withoutQuorum?: boolean } = {}): Promise<string> {
    throwIfAborted(options.signal);
    return this.#verify(epoch, false, options.withoutQuorum === true);
  }

  async propose(change: EpochChange, privateKey: PrivateKey, options: ProposeOptions = {}): Promise<Epoch> {
    throwIfAborted(options.signal);
    const { number, hash } = this.#state;
    return signEpoch(
      {
        number: number + 1,
        parent: hash,
        scope: this.scope,
        change,
        ts: options.ts ?? Date.now(),
        basis: options.basis,
      },
      privateKey,
    );
  }

  async rollback(
    toNumber: number,
    privateKey: PrivateKey,
    options: ProposeOptions & { reason?: string } = {},
  ): Promise<Epoch> {
    const target = this.layoutAt(toNumber);
    const reason = options.reason ?? `rollback to ${this.scope}#${toNumber}`;
    const change = { ...restoringChange(this.layout(), target, reason), restoreOf: toNumber };
    return this.propose(change, privateKey, options);
  }

  /** Full verification; returns the epoch's hash or throws EpochRejectedError. */
  async #verify(epoch: Epoch, trusted: boolean, withoutQuorum = false): Promise<string> {
    const number = typeof epoch?.number === 'number' ? epoch.number : -1;
    const reject = (reason: EpochRejectedError['reason'], detail: string) =>
      new EpochRejectedError(reason, this.scope, number, detail);
    const shape = malformed(epoch);
    if (shape !== undefined) throw reject('malformed', shape);
    if (epoch.scope !== this.scope) throw reject('malformed', `scope ${epoch.scope} sent to chain ${this.scope}`);
    const head = this.#state.number;
    const hash = hashEpoch(epoch);
    if (epoch.number <= head && this.#hashes[epoch.number - 1] === hash) {
      throw reject('replay', `already holds epoch ${epoch.number} (head ${head})`);
    }
    if (!trusted && !epochSignatureValid(epoch, hash)) {
      throw reject('bad-signature', `signature does not verify for ${epoch.signer}`);
    }
    if (epoch.number <= head) throw reject('fork', `a different epoch ${epoch.number} is already on the chain`);
    if (epoch.number > head + 1) throw reject('gap', `head is ${head}; fetch ${head + 1}..${epoch.number - 1} first`);
    const problem = this.#options.validate?.(epoch, this.layout());
    if (problem !== undefined) throw reject('malformed', problem);
    if (!trusted && !(await this.#options.authorise(epoch, this.layout()))) {
      throw reject('unauthorised', `${epoch.signer} may not sign ${this.scope}#${epoch.number}`);
    }
    if (epoch.parent !== this.#state.hash) throw reject('fork', `parent ${epoch.parent} is not the head's hash`);
    const unchosen = trusted || withoutQuorum ? undefined : this.#options.quorum?.(epoch, hash, this.layout());
    if (unchosen !== undefined) throw reject('unauthorised', unchosen);
    return hash;
  }

  async #append(epoch: Epoch, options: AppendInternals): Promise<void> {
    throwIfAborted(options.signal);
    const hash = await this.#verify(epoch, options.trusted === true);
    throwIfAborted(options.signal);
    if (!options.persisted && this.#options.log !== undefined) {
      await this.#options.log.append(this.scope, epoch, { signal: options.signal });
    }
    this.#commit(epoch, hash);
  }

  #commit(epoch: Epoch, hash: string): void {
    apply(this.#state, epoch, hash);
    this.#epochs.push(epoch);
    this.#hashes.push(hash);
    this.#frozen = undefined;
    if (epoch.number % SNAPSHOT_EVERY === 0) this.#snapshots.push(freeze(this.#state));
    const c = epoch.change;
    const event = {
      scope: this.scope,
      number: epoch.number,
      hash,
      ts: epoch.ts,
      signer: epoch.signer,
      reason: c.reason,
    };
    const restore = {
      ...(c.restoreOf === undefined ? {} : { restoreOf: c.restoreOf }),
      ...(c.wave === undefined ? {} : { wave: c.wave }),
    };
    const sum = (key: string) => (c.checksums?.[key] === undefined ? {} : { checksum: c.checksums[key] });
    for (const key of c.overridesRemoved ?? [])
      this.#record(key, { ...event, ...restore, ...sum(key), action: 'removed' });
    for (const o of c.overridesSet ?? []) {
      this.#record(o.key, { ...event, ...restore, ...sum(o.key), action: 'set', replicas: [...o.replicas] });
    }
  }

  #record(key: string, e: OverrideEvent): void {
    const list = this.#history.get(key);
    if (list === undefined) this.#history.set(key, [e]);
    else list.push(e);
  }
}
