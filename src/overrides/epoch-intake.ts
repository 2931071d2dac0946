import { type Epoch, EpochRejectedError, type Layout, type Scope } from '../layout/index.ts';
import type { LayoutObserver } from './observer.ts';
import type { Quarantine } from './quarantine.ts';

const partitionOf = (scope: Scope) => Number(scope.slice('partition:'.length));

/**
 * Why `epoch` comes from a stale coordinator: signed under an older cluster epoch, by a member that no longer
 * coordinates its partition at this daemon's cluster head. The chain judges an epoch at its own basis (so
 * history stays replayable); an epoch arriving now must also come from who coordinates now.
 */
export function staleCoordinator(layout: Layout, epoch: Epoch): string | undefined {
  const head = layout.cluster.head.number;
  if ((epoch.basis ?? head) >= head) return undefined;
  const now = layout.coordinatorOf(partitionOf(epoch.scope));
  if (now === undefined || now === epoch.signer) return undefined;
  return `stale coordinator: ${epoch.signer} signed under cluster epoch ${epoch.basis}; ${now} coordinates ${epoch.scope} at cluster epoch ${head}`;
}

/**
 * The one way partition epochs enter this daemon's chains (pushed, pulled, fetched or its own), over the
 * layout's own checks: a quarantined signer's epoch is refused, and with `checkStale` (epochs pushed as new)
 * so is a stale coordinator's; every refusal is counted by reason.
 */
export async function appendEpochs(
  layout: Layout,
  epochs: readonly Epoch[],
  c: { quarantine: Quarantine; observer: LayoutObserver; checkStale: boolean },
  signal?: AbortSignal,
): Promise<void> {
  // Epochs followed by an epoch of a current coordinator are history (that coordinator built on them): only
  // a trailing run signed by stale coordinators is refused as such.
  const stale = new Map<number, string>(); // index → why, for the trailing run only
  for (let i = epochs.length - 1; c.checkStale && i >= 0; i--) {
    const why = staleCoordinator(layout, epochs[i]);
    if (why === undefined) break;
    stale.set(i, why);
  }
  for (const [i, epoch] of epochs.entries()) {
    try {
      const quarantined = c.quarantine.reasonFor(epoch.signer);
      if (quarantined !== undefined)
        throw new EpochRejectedError('unauthorised', epoch.scope, epoch.number, quarantined);
      const why = stale.get(i);
      if (why !== undefined) throw new EpochRejectedError('unauthorised', epoch.scope, epoch.number, why);
      await layout.append(epoch, { signal });
    } catch (err) {
      if (err instanceof EpochRejectedError) c.observer.epochRejected('partition', err.reason);
      throw err;
    }
  }
}
