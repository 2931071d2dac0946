/**
 * Prometheus metrics of membership and gossip, read from the net when scraped:
 *
 * | metric | type | labels | meaning |
 * |---|---|---|---|
 * | `shoal_cluster_members` | gauge | `state` | members as this daemon sees them (`up`, `suspect`, `down`; itself included, up) |
 * | `shoal_gossip_messages_total` | counter | `kind` | gossip messages: `sent`, `received` (delivered here), `rejected` (by a validator), `dropped` (publishes that sent nothing) |
 *
 * Nothing is counted on the request path: membership and the gossip layer keep their own figures.
 *
 * @packageDocumentation
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { GossipCounts, MemberStatus } from '../net/index.ts';

/** What these metrics read (the daemon's net, once it runs). */
export interface ClusterMetricsSource {
  members(): ReadonlyArray<{ status: MemberStatus }>;
  gossipCounts(): Readonly<GossipCounts>;
}

const STATES: readonly MemberStatus[] = ['up', 'suspect', 'down'];
const KINDS = ['sent', 'received', 'rejected', 'dropped'] as const;

/** Registers the membership and gossip metrics in `registry`; `source` is undefined while the net starts. */
export function registerClusterMetrics(registry: Registry, source: () => ClusterMetricsSource | undefined): void {
  new Gauge({
    name: 'shoal_cluster_members',
    help: 'Cluster members by state as this daemon sees them (itself included)',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      const counts = { up: 0, suspect: 0, down: 0 };
      for (const m of source()?.members() ?? []) counts[m.status]++;
      for (const state of STATES) this.set({ state }, counts[state]);
    },
  });
  new Counter({
    name: 'shoal_gossip_messages_total',
    help: 'Gossip messages sent, received (delivered here), rejected (by a validator) and dropped (not sent)',
    labelNames: ['kind'] as const,
    registers: [registry],
    collect() {
      const counts = source()?.gossipCounts();
      // Absolute totals kept by the gossip layer: reset, then set by one increment.
      this.reset();
      for (const kind of KINDS) this.inc({ kind }, counts?.[kind] ?? 0);
    },
  });
}
