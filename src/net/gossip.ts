import { type Message, TopicValidatorResult } from '@libp2p/gossipsub';
import { type NetCore, type PeerInfo, peerInfo } from './core.ts';
import { GossipQueueFullError, MessageTooLargeError, NetAbortedError, NetNotRunningError } from './errors.ts';

/** Receives one gossip message that passed validation. Exceptions are logged and swallowed. */
export type GossipHandler = (data: Uint8Array, from: PeerInfo) => void;

export interface SubscribeOptions {
  /** Returns false to reject the message: it is not delivered nor forwarded, and the sender's peer score drops. */
  validate?: (data: Uint8Array, from: PeerInfo) => boolean;
}

export interface GossipLimits {
  /** Messages per second this daemon publishes, all topics together (token bucket rate). Default 50. */
  maxMessagesPerSecond: number;
  /** Token bucket size: how many messages may leave at once after a quiet period. Default 100. */
  burst: number;
  /** publish() calls that may wait behind the rate limit before new ones are rejected. Default 10 000. */
  maxQueued: number;
  /** Largest message published or accepted; bigger inbound messages are rejected. Default 64 KiB. */
  maxMessageBytes: number;
}

export const DEFAULT_GOSSIP_LIMITS: GossipLimits = {
  maxMessagesPerSecond: 50,
  burst: 100,
  maxQueued: 10_000,
  maxMessageBytes: 64 * 1024,
};

interface Queued {
  topic: string;
  data: Uint8Array;
  resolve(): void;
  reject(err: Error): void;
  signal?: AbortSignal;
}

interface Topic {
  handlers: Set<GossipHandler>;
  validators: Set<NonNullable<SubscribeOptions['validate']>>;
}

/**
 * Gossip over gossipsub with signed messages (origin is authenticated). gossipsub has no send
 * backpressure and signing is costly, so publish() goes through a token bucket: batch many small
 * facts into one compact message rather than publishing each.
 */
/** Gossip message counts since start (see {@link Gossip.counts}). */
export interface GossipCounts {
  /** Published (handed to gossipsub, which accepted them). */
  sent: number;
  /** Delivered to this daemon's handlers (after validation). */
  received: number;
  /** Refused by a topic validator (or oversized): neither delivered nor forwarded. */
  rejected: number;
  /** publish() calls that sent nothing: too large, queue full, aborted, or refused by gossipsub (no peers). */
  dropped: number;
}

export class Gossip {
  /** Messages since start: published, delivered to this daemon's handlers, refused by a validator, and not sent. */
  readonly counts: GossipCounts = { sent: 0, received: 0, rejected: 0, dropped: 0 };
  readonly #core: NetCore;
  readonly #limits: GossipLimits;
  readonly #topics = new Map<string, Topic>();
  readonly #queue: Queued[] = [];
  #tokens: number;
  #lastRefill = Date.now();
  #timer: NodeJS.Timeout | undefined;
  #pumping = false;
  #running = false;

  constructor(core: NetCore, limits: GossipLimits) {
    this.#core = core;
    this.#limits = limits;
    this.#tokens = limits.burst;
  }

  start(): void {
    this.#running = true;
    this.#core.libp2p.services.pubsub.addEventListener('message', this.#onMessage);
  }

  stop(): void {
    this.#running = false;
    this.#core.libp2p.services.pubsub.removeEventListener('message', this.#onMessage);
    clearTimeout(this.#timer);
    for (const q of this.#queue.splice(0)) q.reject(new NetNotRunningError('net stopped before the message was sent'));
  }

  subscribe(topic: string, handler: GossipHandler, opts: SubscribeOptions = {}): () => void {
    const pubsub = this.#core.libp2p.services.pubsub;
    let t = this.#topics.get(topic);
    if (t === undefined) {
      const entry: Topic = { handlers: new Set(), validators: new Set() };
      t = entry;
      this.#topics.set(topic, entry);
      pubsub.topicValidators.set(topic, (_peer, msg) => this.#validate(entry, msg));
      pubsub.subscribe(topic);
    }
    const entry = t;
    entry.handlers.add(handler);
    if (opts.validate !== undefined) entry.validators.add(opts.validate);
    return () => {
      entry.handlers.delete(handler);
      if (opts.validate !== undefined) entry.validators.delete(opts.validate);
      if (entry.handlers.size === 0 && this.#topics.get(topic) === entry) {
        this.#topics.delete(topic);
        pubsub.topicValidators.delete(topic);
        pubsub.unsubscribe(topic);
      }
    };
  }

  publish(topic: string, data: Uint8Array, opts: { signal?: AbortSignal } = {}): Promise<void> {
    if (!this.#running) return Promise.reject(new NetNotRunningError());
    if (data.byteLength > this.#limits.maxMessageBytes) {
      this.counts.dropped++;
      return Promise.reject(
        new MessageTooLargeError(`gossip message of ${data.byteLength} bytes exceeds ${this.#limits.maxMessageBytes}`),
      );
    }
    if (opts.signal?.aborted === true) return Promise.reject(new NetAbortedError('publish aborted'));
    if (this.#queue.length >= this.#limits.maxQueued) {
      this.counts.dropped++;
      return Promise.reject(new GossipQueueFullError(topic, this.#limits.maxQueued));
    }
    return new Promise((resolve, reject) => {
      this.#queue.push({ topic, data, resolve, reject, signal: opts.signal });
      this.#pump();
    });
  }

  #validate(topic: Topic, msg: Message): TopicValidatorResult {
    const ok = this.#valid(topic, msg);
    if (!ok) this.counts.rejected++;
    return ok ? TopicValidatorResult.Accept : TopicValidatorResult.Reject;
  }

  #valid(topic: Topic, msg: Message): boolean {
    if (msg.data.byteLength > this.#limits.maxMessageBytes) return false;
    const from = peerInfo(this.#core, msg.type === 'signed' ? msg.from.toString() : '');
    try {
      for (const v of topic.validators) if (!v(msg.data, from)) return false;
    } catch (err) {
      this.#core.logger.debug({ err, topic: msg.topic }, 'gossip validator threw; rejecting');
      return false;
    }
    return true;
  }

  readonly #onMessage = (evt: CustomEvent<Message>): void => {
    const msg = evt.detail;
    const topic = this.#topics.get(msg.topic);
    if (topic === undefined || msg.type !== 'signed') return;
    this.counts.received++;
    const from = peerInfo(this.#core, msg.from.toString());
    for (const handler of topic.handlers) {
      try {
        handler(msg.data, from);
      } catch (err) {
        this.#core.logger.warn({ err, topic: msg.topic }, 'gossip handler threw');
      }
    }
  };

  #refill(): void {
    const now = Date.now();
    this.#tokens = Math.min(
      this.#limits.burst,
      this.#tokens + ((now - this.#lastRefill) * this.#limits.maxMessagesPerSecond) / 1000,
    );
    this.#lastRefill = now;
  }

  #pump(): void {
    if (this.#pumping || !this.#running) return;
    this.#pumping = true;
    try {
      this.#refill();
      while (this.#queue.length > 0 && this.#tokens >= 1) {
        const q = this.#queue.shift()!;
        if (q.signal?.aborted === true) {
          this.counts.dropped++;
          q.reject(new NetAbortedError('publish aborted'));
          continue;
        }
        this.#tokens -= 1;
        this.#core.libp2p.services.pubsub.publish(q.topic, q.data).then(
          () => {
            this.counts.sent++;
            q.resolve();
          },
          (err: unknown) => {
            this.counts.dropped++;
            q.reject(err instanceof Error ? err : new Error(String(err)));
          },
        );
      }
      if (this.#queue.length > 0 && this.#timer === undefined) {
        const waitMs = Math.ceil(((1 - this.#tokens) * 1000) / this.#limits.maxMessagesPerSecond);
        this.#timer = setTimeout(() => {
          this.#timer = undefined;
          this.#pump();
        }, waitMs);
      }
    } finally {
      this.#pumping = false;
    }
  }
}
