/**
 * The history of a fault run and its checker. Clients record every operation: invocation, outcome
 * (`ok`; `fail`, which means certainly not applied; `unknown`) and values. Every written value is unique,
 * so a value read names the write it came from. After the heal and convergence, the checker decides:
 *
 * (a) durability, at every level: the converged copy of a key is at least as new (HLC version) as every
 *     acknowledged write of it, and it is a write that was acknowledged or indeterminate, never one that
 *     was refused (a refused write must not take effect, not even later through hints);
 * (b) agreement: every daemon reads the same copy at `one`, and every replica holds it;
 * (c) quorum reads: a read at `quorum`/`all` returns a version at least as new as every write acknowledged
 *     at `quorum`/`all`/`linearizable` before the read was invoked; and such a write gets a version above
 *     every one acknowledged at those levels before it was invoked (else a later write loses to an earlier
 *     one by last-writer-wins: what a clock running behind, or another ahead, does to blind writes);
 * (d) linearizability of the keys used only at `linearizable` (the Wing & Gong search of test/support).
 */
import { checkRegisterHistory, type RegisterOp } from '../support/linearizability.ts';

export type Level = 'one' | 'quorum' | 'all' | 'linearizable';
export type Outcome = 'ok' | 'fail' | 'unknown';

export interface Op {
  client: number;
  daemon: number;
  key: string;
  level: Level;
  type: 'write' | 'read';
  /** The written value; for a read, the value it returned (undefined: not found or no answer). */
  value?: string;
  /** HLC version: of the write (its ETag), or of the copy a read returned. */
  version?: string;
  invoke: number;
  complete?: number;
  outcome: Outcome;
  /** HTTP status and error code, or the client error, for the record. */
  status?: number;
  code?: string;
  /** The error body, cut (diagnostics). */
  message?: string;
}

/** The converged state of a key: what each daemon reads at `one`, and whether the replicas agree. */
export interface FinalRead {
  key: string;
  /** One entry per daemon read: value and version (undefined: not found), or an error. */
  reads: Array<{ daemon: number; value?: string; version?: string; error?: string }>;
  /** Replica versions from `?meta=1` on one daemon (all must be equal), if fetched. */
  replicaVersions?: Array<string | undefined>;
}

export interface Violation {
  kind:
    | 'lost-write'
    | 'refused-write-applied'
    | 'unknown-value'
    | 'disagreement'
    | 'stale-read'
    | 'reordered-write'
    | 'not-linearizable';
  key: string;
  detail: string;
}

export interface CheckReport {
  violations: Violation[];
  /** Acknowledged writes that the converged state lost (counted per write). */
  lostWrites: number;
  linearizabilityViolations: number;
  ackedWrites: number;
  keysChecked: number;
  linearizableKeys: number;
  /** Linearizable keys whose search hit its budget (neither proven nor refuted). */
  undecided: number;
}

const QUORUM_WRITE = new Set<Level>(['quorum', 'all', 'linearizable']);

export function checkHistory(history: readonly Op[], finals: readonly FinalRead[]): CheckReport {
  const violations: Violation[] = [];
  let lostWrites = 0;
  let ackedWrites = 0;
  const byKey = groupBy(history, (o) => o.key);
  const finalOf = new Map(finals.map((f) => [f.key, f]));

  for (const [key, ops] of byKey) {
    const writes = ops.filter((o) => o.type === 'write');
    const acked = writes.filter((o) => o.outcome === 'ok');
    ackedWrites += acked.length;
    const final = finalOf.get(key);
    if (writes.length === 0) continue;
    if (!final) {
      violations.push({ kind: 'disagreement', key, detail: 'no final read of a written key' });
      continue;
    }
    // (b) agreement
    const seen = new Set(final.reads.map((r) => (r.error ? `error: ${r.error}` : `${r.value}@${r.version}`)));
    const replicas = new Set(final.replicaVersions ?? []);
    if (seen.size > 1 || replicas.size > 1 || (final.replicaVersions && !replicas.has(final.reads[0]?.version))) {
      const reads = final.reads.map((r) => `d${r.daemon}=${r.error ?? `${r.value}@${r.version}`}`).join(' ');
      violations.push({ kind: 'disagreement', key, detail: `${reads}; replicas ${[...replicas].join(',')}` });
    }
    // (a) durability, against the newest copy any daemon read
    const copy = final.reads
      .filter((r) => !r.error)
      .sort((x, y) => ((x.version ?? '') < (y.version ?? '') ? 1 : -1))[0];
    const lost = acked.filter((w) => !copy?.version || (w.version !== undefined && w.version > copy.version));
    if (lost.length > 0) {
      lostWrites += lost.length;
      const names = lost.map((w) => `${w.value}@${w.version} (${w.level})`).join(', ');
      violations.push({ kind: 'lost-write', key, detail: `final ${copy?.value}@${copy?.version}; lost ${names}` });
    }
    if (copy?.value !== undefined) {
      const source = writes.find((w) => w.value === copy.value);
      if (!source)
        violations.push({ kind: 'unknown-value', key, detail: `final value ${copy.value} was never written` });
      else if (source.outcome === 'fail')
        violations.push({
          kind: 'refused-write-applied',
          key,
          detail: `final value ${copy.value} was refused (${source.status} ${source.code ?? ''}) at ${source.level}`,
        });
    }
    // (c) quorum reads see earlier quorum writes
    for (const r of ops) {
      if (r.type !== 'read' || r.outcome !== 'ok' || (r.level !== 'quorum' && r.level !== 'all')) continue;
      const before = acked.filter((w) => QUORUM_WRITE.has(w.level) && (w.complete ?? Infinity) < r.invoke);
      const newest = before.reduce<Op | undefined>(
        (m, w) => (!m || (w.version ?? '') > (m.version ?? '') ? w : m),
        undefined,
      );
      if (newest?.version && (!r.version || r.version < newest.version))
        violations.push({
          kind: 'stale-read',
          key,
          detail: `read at ${r.level} on d${r.daemon} returned ${r.value}@${r.version} after ${newest.value}@${newest.version} was acknowledged at ${newest.level}`,
        });
    }
  }
  for (const [key, ops] of byKey) violations.push(...reorderedWrites(key, ops));
  for (const r of history)
    if (r.type === 'read' && r.outcome === 'ok' && r.value !== undefined) {
      const source = byKey.get(r.key)?.find((w) => w.type === 'write' && w.value === r.value);
      if (source?.outcome === 'fail')
        violations.push({ kind: 'refused-write-applied', key: r.key, detail: `a read returned refused ${r.value}` });
    }

  // (d) linearizability
  let linearizabilityViolations = 0;
  let undecided = 0;
  const linKeys = [...byKey].filter(([, ops]) => ops.every((o) => o.level === 'linearizable'));
  for (const [key, ops] of linKeys) {
    const result = checkRegisterHistory(toRegister(ops));
    if (result.ok === 'unknown') undecided++;
    else if (!result.ok) {
      linearizabilityViolations++;
      violations.push({ kind: 'not-linearizable', key, detail: result.reason });
    }
  }
  return {
    violations,
    lostWrites,
    linearizabilityViolations,
    ackedWrites,
    keysChecked: byKey.size,
    linearizableKeys: linKeys.length,
    undecided,
  };
}

/** Acknowledged quorum-level writes whose version is below that of one acknowledged before they were invoked. */
function reorderedWrites(key: string, ops: readonly Op[]): Violation[] {
  const acked = ops.filter((o) => o.type === 'write' && o.outcome === 'ok' && QUORUM_WRITE.has(o.level) && o.version);
  const byComplete = [...acked].sort((a, b) => (a.complete ?? 0) - (b.complete ?? 0));
  const out: Violation[] = [];
  let newest: Op | undefined;
  let i = 0;
  for (const w of [...acked].sort((a, b) => a.invoke - b.invoke)) {
    for (; i < byComplete.length && (byComplete[i].complete ?? 0) < w.invoke; i++)
      if (!newest || (byComplete[i].version ?? '') > (newest.version ?? '')) newest = byComplete[i];
    if (newest?.version && (w.version ?? '') < newest.version)
      out.push({
        kind: 'reordered-write',
        key,
        detail: `${w.value}@${w.version} (${w.level} on d${w.daemon}) was invoked after ${newest.value}@${newest.version} (${newest.level} on d${newest.daemon}) was acknowledged, with a lower version`,
      });
  }
  return out;
}

/** A key's operations in the register checker's terms: refused ones left out, unknown ones incomplete. */
export function toRegister(ops: readonly Op[]): RegisterOp<string | undefined>[] {
  return ops
    .filter((o) => o.outcome !== 'fail' && (o.type === 'write' || o.outcome === 'ok'))
    .map((o) => ({
      process: o.client,
      type: o.type,
      value: o.value,
      invoke: o.invoke,
      complete: o.outcome === 'ok' ? o.complete : undefined,
    }));
}

/** The operations of the keys a report blames (at most `maxKeys`, `maxOps` each), one line each. */
export function minimalHistory(history: readonly Op[], report: CheckReport, maxKeys = 3, maxOps = 40): string {
  const keys = [...new Set(report.violations.map((v) => v.key))].slice(0, maxKeys);
  const t0 = Math.min(...history.map((o) => o.invoke));
  const ms = (t: number | undefined) => (t === undefined ? '?' : `${((t - t0) / 1000).toFixed(3)}s`);
  return keys
    .map((key) => {
      const ops = history.filter((o) => o.key === key).sort((a, b) => a.invoke - b.invoke);
      const lines = ops.slice(-maxOps).map((o) => {
        const what = `${o.type} ${o.value ?? '∅'}${o.version ? `@${o.version}` : ''}`;
        const answer = `${o.outcome}${o.status ? ` ${o.status}` : ''}${o.code ? ` ${o.code}` : ''}`;
        return `  c${o.client}→d${o.daemon} ${o.level.padEnd(12)} [${ms(o.invoke)}, ${ms(o.complete)}] ${what}: ${answer}`;
      });
      const cut = ops.length > maxOps ? `  (${ops.length - maxOps} earlier operations left out)\n` : '';
      return `key ${key}:\n${cut}${lines.join('\n')}`;
    })
    .join('\n');
}

function groupBy<T>(xs: readonly T[], by: (x: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const x of xs) {
    const k = by(x);
    const list = m.get(k);
    if (list) list.push(x);
    else m.set(k, [x]);
  }
  return m;
}
