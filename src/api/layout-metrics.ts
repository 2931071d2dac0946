/**
 * Prometheus metrics of the signed layout, fed by its {@link LayoutObserver}:
 *
 * | metric | type | labels | meaning |
 * |---|---|---|---|
 * | `shoal_epochs_rejected_total` | counter | `chain`, `reason` | epochs offered to this daemon and refused (`chain`: cluster, partition; `reason`: malformed, unauthorised, bad-signature, replay, fork, gap) |
 * | `shoal_layout_forks_total` | counter | `kind` | partition chains found forked here (`fork`; `equivocation`: one key signed both sides) |
 * | `shoal_move_intents_refused_total` | counter | `reason` | move announcements refused (`non-member`, `bad-signature`, `not-coordinator`, `quarantined`) |
 * | `shoal_quarantined_signers` | gauge | — | signers quarantined here for equivocation |
 *
 * Every label value is set to 0 up front, so an alert on a rate reads 0 before the first refusal.
 *
 * @packageDocumentation
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { EpochRejectReason } from '../layout/index.ts';
import { INTENT_REFUSALS, type LayoutObserver } from '../overrides/index.ts';

const REASONS: readonly EpochRejectReason[] = ['malformed', 'unauthorised', 'bad-signature', 'replay', 'fork', 'gap'];
const CHAINS = ['cluster', 'partition'] as const;

/** Registers the layout's metrics in `registry`; `quarantined` counts the signers in quarantine now. */
export function createLayoutMetrics(registry: Registry, quarantined: () => number): LayoutObserver {
  const registers = [registry];
  const rejected = new Counter({
    name: 'shoal_epochs_rejected_total',
    help: 'Layout epochs offered to this daemon and refused, by chain (cluster, partition) and reason',
    labelNames: ['chain', 'reason'] as const,
    registers,
  });
  const forks = new Counter({
    name: 'shoal_layout_forks_total',
    help: 'Partition chains found forked here, by kind (fork, equivocation)',
    labelNames: ['kind'] as const,
    registers,
  });
  const intents = new Counter({
    name: 'shoal_move_intents_refused_total',
    help: 'Move announcements refused, by reason (non-member, bad-signature, not-coordinator, quarantined)',
    labelNames: ['reason'] as const,
    registers,
  });
  new Gauge({
    name: 'shoal_quarantined_signers',
    help: 'Signers quarantined here for signing two different epochs with the same number',
    registers,
    collect() {
      this.set(quarantined());
    },
  });
  for (const chain of CHAINS) for (const reason of REASONS) rejected.labels(chain, reason).inc(0);
  for (const kind of ['fork', 'equivocation']) forks.labels(kind).inc(0);
  for (const reason of INTENT_REFUSALS) intents.labels(reason).inc(0);
  return {
    epochRejected: (chain, reason) => rejected.labels(chain, reason).inc(),
    forkFound: (equivocation) => forks.labels(equivocation ? 'equivocation' : 'fork').inc(),
    intentRefused: (reason) => intents.labels(reason).inc(),
  };
}
