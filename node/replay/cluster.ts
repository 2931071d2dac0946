/**
 * What `shoal replay` asks a live cluster through the admin API: its daemons and zones, where each record lives,
 * and the moves that ended.
 *
 * - **Daemons** ({@link discoverCluster}): `GET /admin/status` of every `--cluster` URL gives its zone and peer
 *   id; requests go only to these URLs (one zone each, several per zone allowed). `GET /admin/peers` of the first
 *   gives every member's zone (to count a record's holders per zone) and the data URLs of members not listed,
 *   which are watched for moves too (each daemon logs only the moves it coordinated).
 * - **Placement** ({@link fetchHolders}): `GET /admin/records/:key` → `placement.replicas`, the peer ids that
 *   hold the key now (override or ring).
 * - **Moves** ({@link MoveWatch}): `GET /admin/migrations?limit=1000` of every daemon, polled; each ended move
 *   carries its key, holders before (`from`) and after (`to`), state, origin (`dsm`, `manual`, `rollback`) and bytes.
 *
 * The admin API rate-limits clients beyond loopback (`429 RATE_LIMITED`): such answers are retried after
 * their `retry-after` (at most 5 times).
 * @module
 */
import type { AdminStatus } from '../../src/api/index.ts';
import type { Migration } from '../../src/dsm/index.ts';
import type { Member } from '../../src/net/membership.ts';
import { AdminRefusal, type AdminTarget, adminRequest } from '../admin-client.ts';

/** A daemon requests are sent to. */
export interface ReplayDaemon {
  url: string;
  zone: string;
  peerId: string;
}

export interface ClusterView {
  /** The `--cluster` daemons, in the order given. */
  daemons: ReplayDaemon[];
  /** Their zones, sorted: the stable order origins are mapped onto. */
  zones: string[];
  /** Zone of every member (peer id → zone), listed or not. */
  memberZones: Map<string, string>;
  /** Every URL whose moves are watched: the listed daemons and the other members' data URLs. */
  watched: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An admin call, retried after `retry-after` while the daemon answers 429. */
export async function adminCall<T>(target: AdminTarget, method: string, path: string): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await adminRequest<T>(target, method, path, { timeoutMs: 15_000 });
    } catch (err) {
      if (!(err instanceof AdminRefusal) || err.code !== 'RATE_LIMITED' || attempt >= 5) throw err;
      await sleep(1000 * attempt);
    }
  }
}

/** Reads the cluster's daemons, zones and members (see the module doc). */
export async function discoverCluster(urls: readonly string[], headers: Record<string, string>): Promise<ClusterView> {
  const daemons = await Promise.all(
    urls.map(async (url) => {
      const s = await adminCall<AdminStatus>({ url, headers }, 'GET', '/admin/status');
      return { url, zone: s.zone, peerId: s.peerId };
    }),
  );
  const { members } = await adminCall<{ members: Member[] }>({ url: urls[0], headers }, 'GET', '/admin/peers');
  const memberZones = new Map(members.map((m) => [m.peerId, m.zone]));
  for (const d of daemons) memberZones.set(d.peerId, d.zone);
  const listed = new Set(daemons.map((d) => d.peerId));
  const others = members.filter((m) => !listed.has(m.peerId) && m.status !== 'down' && m.apiUrl).map((m) => m.apiUrl);
  return {
    daemons,
    zones: [...new Set(daemons.map((d) => d.zone))].sort(),
    memberZones,
    watched: [...new Set([...daemons.map((d) => d.url), ...others])],
  };
}

/** The peer ids that hold `key` now, as `daemon` sees it. */
export async function fetchHolders(daemon: AdminTarget, key: string): Promise<string[]> {
  const r = await adminCall<{ placement?: { replicas?: string[] } }>(
    daemon,
    'GET',
    `/admin/records/${encodeURIComponent(key)}`,
  );
  return r.placement?.replicas ?? [];
}

/**
 * Polls every watched daemon's `/admin/migrations` and hands each move that ended `done`, once, to `onDone`. A
 * daemon that does not answer is skipped that round (the next round asks again).
 */
export class MoveWatch {
  readonly #targets: AdminTarget[];
  readonly #seen = new Set<string>();
  readonly #onDone: (m: Migration) => void;
  /** Moves that ended done since {@link start} (every origin), in the order they were seen. */
  readonly done: Migration[] = [];
  /** Moves in flight on the watched daemons at the last round. */
  inFlight = 0;
  #report = false;
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;
  #polling: Promise<void> | undefined;

  constructor(urls: readonly string[], headers: Record<string, string>, onDone: (m: Migration) => void) {
    this.#targets = urls.map((url) => ({ url, headers }));
    this.#onDone = onDone;
  }

  /** One round over every daemon (a round in progress is joined, not doubled). */
  async poll(): Promise<void> {
    this.#polling ??= this.#round().finally(() => {
      this.#polling = undefined;
    });
    return this.#polling;
  }

  async #round(): Promise<void> {
    const answers = await Promise.all(
      this.#targets.map((t) =>
        adminRequest<{ inFlight: Migration[]; history: Migration[] }>(t, 'GET', '/admin/migrations?limit=1000', {
          timeoutMs: 5000,
        }).catch(() => undefined),
      ),
    );
    const ended: Migration[] = [];
    let inFlight = 0;
    for (const a of answers) {
      if (!a) continue;
      inFlight += a.inFlight.length;
      for (const m of a.history) {
        if (m.state !== 'done' || this.#seen.has(m.id)) continue;
        this.#seen.add(m.id);
        if (this.#report) ended.push(m);
      }
    }
    this.inFlight = inFlight;
    ended.sort((a, b) => (a.endedAt ?? 0) - (b.endedAt ?? 0));
    for (const m of ended) {
      this.done.push(m);
      this.#onDone(m);
    }
  }

  /** Remembers the moves that ended so far without reporting them, then polls every `intervalMs`. */
  async start(intervalMs: number): Promise<void> {
    await this.poll();
    this.#report = true;
    this.#timer = setInterval(() => void this.poll(), intervalMs);
  }

  /** Stops polling after one last round (once: later calls return at once). */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.#polling;
    await this.poll();
  }
}
