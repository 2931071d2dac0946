import { recordUrl } from '../support/cluster.ts';

type D = { url: string };

export async function put(d: D, key: string, value: string, consistency = 'quorum'): Promise<number> {
  const r = await fetch(recordUrl(d, key, consistency), {
    method: 'PUT',
    body: value,
    signal: AbortSignal.timeout(10_000),
  });
  await r.arrayBuffer();
  return r.status;
}

export async function get(d: D, key: string, consistency = 'quorum'): Promise<{ status: number; body: string }> {
  const r = await fetch(recordUrl(d, key, consistency), { signal: AbortSignal.timeout(10_000) });
  return { status: r.status, body: await r.text() };
}

export interface MetaView {
  version: string;
  replicas: Array<{ peerId: string; version?: string; agrees: boolean; error?: string }>;
}

export async function meta(d: D, key: string): Promise<MetaView> {
  const r = await fetch(`${d.url}/v1/records/${encodeURIComponent(key)}?meta=1`, {
    signal: AbortSignal.timeout(10_000),
  });
  return (await r.json()) as MetaView;
}

export async function eventually(fn: () => Promise<boolean>, ms: number, stepMs = 200): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await fn().catch(() => false)) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** Waits until every daemon holds the same signed cluster layout, listing every daemon (partition epochs build on it). */
export async function layoutAgreed(daemons: readonly D[]): Promise<boolean> {
  type View = { head: { hash: string }; epochs: Array<{ members: string[]; down: string[] }> };
  return eventually(
    async () => {
      const views = await Promise.all(
        daemons.map(async (d) => (await (await fetch(`${d.url}/admin/layout`)).json()) as View),
      );
      const last = views[0].epochs.at(-1);
      // ... and holds none of them down, so each partition's coordinator is its first replica again.
      return (
        views.every((v) => v.head.hash === views[0].head.hash) &&
        last?.members.length === daemons.length &&
        last.down.length === 0
      );
    },
    30_000,
    300,
  );
}

/** Short repair passes, so tests see hints and anti-entropy act within seconds. */
export const FAST_REPAIR = ['--anti-entropy-interval-ms', '1000'];

/** Blocks or unblocks this daemon's links to `peerIds` (fault injection, `--fault-injection on`). */
export const blockLinks = (d: D, action: 'block' | 'unblock', peerIds: string[]) =>
  fetch(`${d.url}/admin/faults/${action}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ peerIds }),
  });
