import { EpochChainImpl } from './chain.ts';
import { GENESIS, hashEpoch } from './epoch.ts';
import type { ChainHead, Epoch, EpochChainOptions, EpochLog } from './index.ts';

/** Number up to which `epochs` are committed by `trusted` through unbroken hash links, or 0. */
function trustedPrefix(epochs: readonly Epoch[], trusted: ChainHead | undefined): number {
  if (trusted === undefined || trusted.number < 1 || trusted.number > epochs.length) return 0;
  let parent = GENESIS;
  for (let i = 0; i < trusted.number; i++) {
    const e = epochs[i];
    if (e.number !== i + 1 || e.parent !== parent) return 0;
    parent = hashEpoch(e);
  }
  return parent === trusted.hash ? trusted.number : 0;
}

export async function openChain(
  options: EpochChainOptions & { readonly log: EpochLog },
  load: { signal?: AbortSignal; trusted?: ChainHead },
): Promise<EpochChainImpl> {
  const chain = new EpochChainImpl(options);
  const epochs = await options.log.load(options.scope, { signal: load.signal });
  const upTo = trustedPrefix(epochs, load.trusted);
  for (const e of epochs) {
    await chain.appendInternal(e, { signal: load.signal, persisted: true, trusted: e.number <= upTo });
  }
  return chain;
}
