import type { Member, Override, RingMember } from '../ring/index.ts';
import type { ChainHead, Epoch, EpochChange, LayoutState } from './index.ts';

/** Mutable working state of one chain; {@link freeze} turns it into an immutable {@link LayoutState}. */
export interface WorkingState {
  number: number;
  hash: string;
  readonly members: Map<string, RingMember>;
  readonly overrides: Map<string, Override>;
  checkpoint: readonly ChainHead[] | undefined;
  readonly down: Set<string>;
  readonly revoked: Set<string>;
}

export function emptyState(genesis: string): WorkingState {
  return {
    number: 0,
    hash: genesis,
    members: new Map(),
    overrides: new Map(),
    checkpoint: undefined,
    down: new Set(),
    revoked: new Set(),
  };
}

export function cloneState(s: WorkingState | LayoutState): WorkingState {
  return {
    number: s.number,
    hash: s.hash,
    members: new Map(s.members),
    overrides: new Map(s.overrides),
    checkpoint: s.checkpoint,
    down: new Set(s.down),
    revoked: new Set(s.revoked),
  };
}

export function freeze(s: WorkingState): LayoutState {
  return Object.freeze({
    number: s.number,
    hash: s.hash,
    members: new Map(s.members) as ReadonlyMap<string, RingMember>,
    overrides: new Map(s.overrides) as ReadonlyMap<string, Override>,
    checkpoint: s.checkpoint,
    down: new Set(s.down) as ReadonlySet<string>,
    revoked: new Set(s.revoked) as ReadonlySet<string>,
  });
}

function normaliseMember(m: Member): RingMember {
  return Object.freeze({ id: m.id, zone: m.zone, capacity: m.capacity ?? 1, state: m.state ?? 'up' });
}

/** Applies an epoch's change in place: removals first, then additions (so a change can replace an entry). */
export function apply(s: WorkingState, epoch: Epoch, hash: string): void {
  const c = epoch.change;
  for (const id of c.membersRemoved ?? []) {
    s.members.delete(id);
    s.down.delete(id);
  }
  for (const o of c.revoked ?? []) s.revoked.add(o.id);
  for (const id of c.membersDown ?? []) s.down.add(id);
  for (const id of c.membersUp ?? []) s.down.delete(id);
  for (const m of c.membersAdded ?? []) s.members.set(m.id, normaliseMember(m));
  for (const key of c.overridesRemoved ?? []) s.overrides.delete(key);
  for (const o of c.overridesSet ?? [])
    s.overrides.set(o.key, Object.freeze({ key: o.key, replicas: [...o.replicas] }));
  if (c.checkpoint !== undefined) s.checkpoint = c.checkpoint;
  s.number = epoch.number;
  s.hash = hash;
}

const sameMember = (a: RingMember, b: RingMember) =>
  a.zone === b.zone && a.capacity === b.capacity && a.state === b.state;
const sameOverride = (a: Override, b: Override) =>
  a.replicas.length === b.replicas.length && a.replicas.every((r, i) => r === b.replicas[i]);

/**
 * The change that turns `current` into `target` (members and overrides; keys sorted so the result is
 * deterministic). Empty fields are left out.
 */
export function restoringChange(
  current: LayoutState,
  target: LayoutState,
  reason: string,
): Omit<EpochChange, 'restoreOf'> {
  const membersAdded = [...target.members.values()]
    .filter((m) => {
      const now = current.members.get(m.id);
      return now === undefined || !sameMember(now, m);
    })
    .map((m) => ({ ...m }));
  const membersRemoved = [...current.members.keys()].filter((id) => !target.members.has(id));
  const overridesSet = [...target.overrides.values()]
    .filter((o) => {
      const now = current.overrides.get(o.key);
      return now === undefined || !sameOverride(now, o);
    })
    .map((o) => ({ key: o.key, replicas: [...o.replicas] }));
  const overridesRemoved = [...current.overrides.keys()].filter((k) => !target.overrides.has(k));
  const byKey = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  membersAdded.sort((a, b) => byKey(a.id, b.id));
  overridesSet.sort((a, b) => byKey(a.key, b.key));
  membersRemoved.sort(byKey);
  overridesRemoved.sort(byKey);
  return {
    reason,
    ...(membersAdded.length ? { membersAdded } : {}),
    ...(membersRemoved.length ? { membersRemoved } : {}),
    ...(overridesSet.length ? { overridesSet } : {}),
    ...(overridesRemoved.length ? { overridesRemoved } : {}),
  };
}
