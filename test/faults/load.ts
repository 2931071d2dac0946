/**
 * Load for fault runs: concurrent clients issue seeded random reads and writes through the daemons that
 * are up, and record each one in the history. Bounded in count and in time. Values are unique
 * (`<round>.<client>.<n>`), so a read names the write it saw.
 */
import { recordUrl } from '../support/cluster.ts';
import type { Level, Op } from './history.ts';
import { prng } from './schedule.ts';

export interface LoadOptions {
  seed: number;
  /** Prefix of every key (a round's own namespace). */
  prefix: string;
  clients: number;
  /** Keys used at one, quorum and all (mixed), and keys used only at linearizable. */
  keys: number;
  linearizableKeys: number;
  /** Stop after this many operations in all, or at this time (ms since the epoch), whichever comes first. */
  maxOps: number;
  until: number;
  /** Per-request deadline; a request past it is `unknown`. Default 4 000 ms. */
  timeoutMs?: number;
  /** Daemon URLs by slot, and the slots clients may use now (up and not leaving). */
  url: (slot: number) => string;
  up: () => number[];
  /** Pause between a client's operations, ms. Default 5. */
  thinkMs?: number;
  /**
   * Share of a client's operations that go to its home daemon (slot `client mod members`) on its own share
   * of the keys: demand from one zone per key, for the DSM to follow. Default 0 (uniform).
   */
  affinity?: number;
  /** Once aborted, the clients stop `tailMs` later (default 0). */
  stop?: AbortSignal;
  tailMs?: number;
}

export const keysOf = (o: Pick<LoadOptions, 'prefix' | 'keys' | 'linearizableKeys'>) => ({
  mixed: Array.from({ length: o.keys }, (_, i) => `${o.prefix}/k${i}`),
  linearizable: Array.from({ length: o.linearizableKeys }, (_, i) => `${o.prefix}/lin${i}`),
});

const MIXED: Level[] = ['one', 'quorum', 'all'];

/** Runs the clients to the end; resolves with the history (every operation, in invocation order). */
export async function runLoad(o: LoadOptions): Promise<Op[]> {
  const history: Op[] = [];
  const { mixed, linearizable } = keysOf(o);
  let issued = 0;
  let stopAt = Number.POSITIVE_INFINITY;
  o.stop?.addEventListener('abort', () => {
    stopAt = Date.now() + (o.tailMs ?? 0);
  });
  const going = () => issued < o.maxOps && Date.now() < Math.min(o.until, stopAt);
  const client = async (c: number) => {
    const rnd = prng(o.seed * 7919 + c);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
    for (let n = 0; going(); n++) {
      const up = o.up();
      if (up.length === 0) {
        await sleep(100);
        continue;
      }
      issued++;
      const lin = linearizable.length > 0 && rnd() < 0.3;
      const home = rnd() < (o.affinity ?? 0) ? up[c % up.length] : undefined;
      const own = mixed.filter((_, i) => i % o.clients === c);
      const key = lin ? pick(linearizable) : pick(home !== undefined && own.length > 0 ? own : mixed);
      const level: Level = lin ? 'linearizable' : pick(MIXED);
      const daemon = home ?? pick(up);
      const op: Op =
        rnd() < 0.5
          ? {
              client: c,
              daemon,
              key,
              level,
              type: 'write',
              value: `${o.prefix}.${c}.${n}`,
              invoke: 0,
              outcome: 'unknown',
            }
          : { client: c, daemon, key, level, type: 'read', invoke: 0, outcome: 'unknown' };
      history.push(op);
      await perform(o.url(daemon), op, o.timeoutMs ?? 4_000);
      await sleep(o.thinkMs ?? 5);
    }
  };
  await Promise.all(Array.from({ length: o.clients }, (_, c) => client(c)));
  return history;
}

/** Sends one operation and fills in its outcome. */
export async function perform(base: string, op: Op, timeoutMs: number): Promise<void> {
  op.invoke = performance.now();
  try {
    const r = await fetch(recordUrl({ url: base }, op.key, op.level), {
      method: op.type === 'write' ? 'PUT' : 'GET',
      body: op.type === 'write' ? op.value : undefined,
      headers: op.type === 'write' ? { 'content-type': 'text/plain' } : undefined,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await r.text();
    const complete = performance.now();
    op.status = r.status;
    const version = r.headers.get('etag')?.replace(/^W\//, '').replaceAll('"', '');
    if (r.ok || (op.type === 'read' && r.status === 404)) {
      op.outcome = 'ok';
      op.complete = complete;
      if (r.ok) op.version = version;
      if (op.type === 'read') op.value = r.ok ? text : undefined;
      return;
    }
    op.code = codeOf(text);
    op.message = text.slice(0, 160);
    // Refused before anything was stored: the catalogue says so (Cassandra's Unavailable). 4xx: the request
    // itself was refused. Anything else (QUORUM_NOT_REACHED: sent, too few answered in time) may have
    // taken effect somewhere.
    op.outcome = r.status < 500 || op.code === 'REPLICAS_UNAVAILABLE' ? 'fail' : 'unknown';
  } catch (err) {
    // Nothing was sent to a daemon that refused the connection; a timeout or a reset is indeterminate.
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    op.code = cause ?? (err as Error).name;
    op.outcome = cause === 'ECONNREFUSED' ? 'fail' : 'unknown';
  }
}

function codeOf(text: string): string | undefined {
  try {
    return (JSON.parse(text) as { code?: string }).code;
  } catch {
    return undefined;
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
