import type { PrivateKey } from '@libp2p/interface';
import { signEd25519, verifyEd25519 } from '../layout/signature.ts';

/** One move announced: `[key, old holders, new holders]`. */
export type IntentMove = [string, string[], string[]];

/**
 * Move announcements are signed like epochs, by the coordinator's peer key, over the moves, their ttl and
 * when they were signed: a receiver takes only an announcement its sender signed, recently. The channel
 * already authenticates the sender; the signature makes every announcement evidence of who made it (it can
 * be logged, relayed or audited), and `at` bounds a replay of a captured one to its own ttl.
 */
const PREFIX = 'shoal/move-intents/v1\n';
/** Clock difference between two members that an announcement's `at` may show. */
export const INTENT_CLOCK_SKEW_MS = 60_000;
const enc = new TextEncoder();

// JSON of strings, numbers and string arrays in fixed positions is canonical: one byte string per message.
const bytes = (signer: string, moves: readonly IntentMove[], ttl: number, at: number, basis: number) =>
  enc.encode(PREFIX + JSON.stringify([signer, at, basis, ttl, moves]));

/** `basis`: the signer's cluster head, under which it coordinates these moves' partitions. */
export function signIntents(
  signer: string,
  moves: readonly IntentMove[],
  ttl: number,
  at: number,
  basis: number,
  key: PrivateKey,
) {
  return signEd25519(key, bytes(signer, moves, ttl, at, basis));
}

/**
 * Why an announcement from `from` is not to be taken (undefined: it is): unsigned, signed by another key
 * or over other content, or signed longer ago than its ttl allows (or in the future).
 */
export function intentsProblem(
  from: string,
  req: { m: readonly IntentMove[]; ttl: number; at?: number; b?: number; sig?: string },
  maxTtlMs: number,
  now = Date.now(),
): string | undefined {
  if (typeof req.sig !== 'string' || typeof req.at !== 'number' || typeof req.b !== 'number') return 'unsigned';
  if (!verifyEd25519(from, bytes(from, req.m, req.ttl, req.at, req.b), req.sig)) return 'its signature does not verify';
  if (req.at > now + INTENT_CLOCK_SKEW_MS) return `signed in the future (${req.at - now} ms ahead)`;
  if (now - req.at > Math.min(req.ttl, maxTtlMs) + INTENT_CLOCK_SKEW_MS)
    return `signed ${now - req.at} ms ago: a replay`;
  return undefined;
}
