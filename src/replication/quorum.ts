/**
 * Calls every target in parallel and resolves as soon as `need` of them succeeded, without waiting
 * for the rest; `settled` resolves when every call has finished (read repair and hints use it).
 * Rejects as soon as `need` successes have become impossible.
 */
export interface QuorumOutcome<T> {
  ok: Array<{ target: string; value: T }>;
  failed: Array<{ target: string; error: unknown }>;
}

/**
 * How many successes a call needs: a count, or a rule over the targets that succeeded (a joint quorum
 * during a move: a majority of the old holders and one of the new, see {@link groupsNeed}).
 */
export type Need = number | ((succeeded: readonly string[]) => boolean);

/** Whether `ids` satisfy `need`. */
export function satisfies(need: Need, ids: readonly string[]): boolean {
  return typeof need === 'number' ? ids.length >= need : need(ids);
}

/** A rule needing, in every group, at least that group's `need` of its members. */
export function groupsNeed(
  groups: ReadonlyArray<{ readonly members: readonly string[]; readonly need: number }>,
): (ids: readonly string[]) => boolean {
  return (ids) => groups.every((g) => g.members.filter((m) => ids.includes(m)).length >= g.need);
}

export function quorumCall<T>(
  targets: readonly string[],
  need: Need,
  call: (target: string) => Promise<T>,
): { reached: Promise<QuorumOutcome<T>>; settled: Promise<QuorumOutcome<T>> } {
  const outcome: QuorumOutcome<T> = { ok: [], failed: [] };
  let resolveReached!: (o: QuorumOutcome<T>) => void;
  let rejectReached!: (o: QuorumOutcome<T>) => void;
  const reached = new Promise<QuorumOutcome<T>>((res, rej) => {
    resolveReached = res;
    rejectReached = rej;
  });
  // The caller may never await `reached` once it failed: keep that rejection from going unhandled.
  reached.catch(() => {});
  let done = false;
  const reachedNow = (): boolean =>
    typeof need === 'number' ? outcome.ok.length >= need : need(outcome.ok.map((o) => o.target));
  const stillPossible = (): boolean => {
    if (typeof need === 'number') {
      return outcome.ok.length + (targets.length - outcome.ok.length - outcome.failed.length) >= need;
    }
    const failed = new Set(outcome.failed.map((f) => f.target));
    return need(targets.filter((t) => !failed.has(t)));
  };
  const check = () => {
    if (done) return;
    if (reachedNow()) {
      done = true;
      resolveReached({ ok: [...outcome.ok], failed: [...outcome.failed] });
    } else if (!stillPossible()) {
      done = true;
      rejectReached({ ok: [...outcome.ok], failed: [...outcome.failed] });
    }
  };
  const settled = Promise.all(
    targets.map((target) =>
      call(target).then(
        (value) => {
          outcome.ok.push({ target, value });
          check();
        },
        (error: unknown) => {
          outcome.failed.push({ target, error });
          check();
        },
      ),
    ),
  ).then(() => outcome);
  check();
  return { reached, settled };
}
