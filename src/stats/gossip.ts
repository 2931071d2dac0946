import type { ClusterView } from './cluster-view.ts';
import { decodeSummary, encodeSummary, type SummaryMessage } from './codec.ts';
import { StatsSummaryError } from './errors.ts';
import type { Stats, StatsLogger } from './index.ts';

/** The narrow pubsub the net layer provides (gossipsub signs messages; `from` is the verified sender). */
export interface StatsPubSub {
  publish(topic: string, data: Uint8Array): Promise<void> | void;
  /** `validate` returning false must reject the message (gossipsub then lowers the sender's score). */
  subscribe(
    topic: string,
    handler: (data: Uint8Array, from: string) => void,
    validate?: (data: Uint8Array) => boolean,
  ): void;
  unsubscribe?(topic: string): void;
}

export interface StatsGossipComponents {
  stats: Pick<Stats, 'recentBuckets' | 'bucketMs' | 'tick'>;
  view: ClusterView;
  pubsub: StatsPubSub;
  logger: StatsLogger;
  /** This node's id as peers see it (the libp2p peer id). */
  nodeId: string;
  zone: string;
  clock?: () => number;
}

export interface StatsGossipOptions {
  /** Default `shoal/stats/1`. */
  topic?: string;
  /** One summary per interval at most (default 15 s). */
  intervalMs?: number;
  /** Closed buckets per summary (default 5, so a lost message is covered by the next ones). */
  buckets?: number;
  /** Default 256. */
  maxKeys?: number;
  /** Default 64 KiB. */
  maxBytes?: number;
}

export interface StatsGossip {
  start(): void;
  stop(): void;
  /** Builds one summary, applies it to the local view and publishes it (skipped while one is in flight). */
  publishNow(): Promise<void>;
  /** The validator given to the pubsub: true only for a well-formed, in-limit summary. */
  validate(data: Uint8Array): boolean;
  /** Messages rejected per sender (malformed, oversized, wrong sender or bucket width). */
  rejected(): Record<string, number>;
  readonly published: number;
}

export function createStatsGossip(c: StatsGossipComponents, o: StatsGossipOptions = {}): StatsGossip {
  const topic = o.topic ?? 'shoal/stats/1';
  const intervalMs = o.intervalMs ?? 15_000;
  const clock = c.clock ?? Date.now;
  const rejected = new Map<string, number>();
  let seq = 0;
  let timer: NodeJS.Timeout | undefined;
  let inFlight = false;
  let running = false;
  let published = 0;

  /**
   * A received summary, decoded and checked against this daemon's clock: it carries closed buckets only, so
   * one newer than the bucket after the current one (a bucket of clock skew) is refused. Applied, it would
   * move the view's newest bucket ahead and prune every real bucket of every node, for good.
   */
  const received = (data: Uint8Array): SummaryMessage => {
    const m = decodeSummary(data, { maxBytes: o.maxBytes });
    const newest = m.from + m.n - 1;
    if (newest > Math.floor(clock() / m.bucketMs) + 1) {
      throw new StatsSummaryError(`stats summary: bucket ${newest} is in the future (summaries carry closed buckets)`);
    }
    return m;
  };

  const validate = (data: Uint8Array): boolean => {
    try {
      const m = received(data);
      return m.bucketMs === c.view.bucketMs;
    } catch {
      return false;
    }
  };

  const onMessage = (data: Uint8Array, from: string): void => {
    if (!running) return;
    try {
      c.view.ingest(received(data), from);
    } catch (err) {
      rejected.set(from, (rejected.get(from) ?? 0) + 1);
      c.logger.debug({ err, from }, 'stats: rejected a summary');
    }
  };

  const publishNow = async (): Promise<void> => {
    if (inFlight) return;
    inFlight = true;
    try {
      c.stats.tick();
      seq = Math.max(seq + 1, clock());
      const bytes = encodeSummary(c.stats, {
        node: c.nodeId,
        zone: c.zone,
        seq,
        buckets: o.buckets,
        maxKeys: o.maxKeys,
        maxBytes: o.maxBytes,
      });
      c.view.ingest(decodeSummary(bytes));
      await c.pubsub.publish(topic, bytes);
      published++;
    } catch (err) {
      c.logger.warn({ err }, 'stats: publishing a summary failed');
    } finally {
      inFlight = false;
    }
  };

  c.view.setSelf(c.nodeId);
  return {
    start() {
      if (running) return;
      running = true;
      c.pubsub.subscribe(topic, onMessage, validate);
      timer = setInterval(() => void publishNow(), intervalMs);
      timer.unref();
    },
    stop() {
      running = false;
      if (timer) clearInterval(timer);
      timer = undefined;
      c.pubsub.unsubscribe?.(topic);
    },
    publishNow,
    validate,
    rejected: () => Object.fromEntries(rejected),
    get published() {
      return published;
    },
  };
}
