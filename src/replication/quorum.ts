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

/** A fan-out in progress: `reached` once `need` answered, `settled` once every started call ended. */
export interface QuorumCall<T> {
  reached: Promise<QuorumOutcome<T>>;
  settled: Promise<QuorumOutcome<T>>;
}

function pendingOutcome<T>() {
  const outcome: QuorumOutcome<T> = { ok: [], failed: [] };
  const {
    promise: reached,
    resolve: resolveReached,
    reject: rejectReached,
  } = Promise.withResolvers<QuorumOutcome<T>>();
  // The caller may never await `reached` once it failed: keep that rejection from going unhandled.
  reached.catch(() => {});
  return { outcome, reached, resolveReached, rejectReached };
}

export function quorumCall<T>(
  targets: readonly string[],
  need: Need,
  call: (target: string) => Promise<T>,
): QuorumCall<T> {
  const { outcome, reached, resolveReached, rejectReached } = pendingOutcome<T>();
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

/**
 * A read that asks only as many targets as it needs (Cassandra's speculative retry): `targets` in
 * order of preference, the first `need` called at once; the next one is called when a call fails, and
 * when `hedgeMs` pass without `need` answers (a slow replica costs one extra call, not the read).
 * `settled` resolves when every call that was started has finished; `onExtra` is told of each call
 * beyond the first `need`. Rejects as soon as `need`
 * successes have become impossible. A quorum read of a majority sees every write a majority
 * acknowledged, whichever majority answers, so asking the others too bought nothing but read repair.
 */
export function staggeredQuorumCall<T>(
  targets: readonly string[],
  need: number,
  hedgeMs: number,
  call: (target: string) => Promise<T>,
  onExtra: () => void = () => {},
): QuorumCall<T> {
  const { outcome, reached, resolveReached, rejectReached } = pendingOutcome<T>();
  const { promise: settled, resolve: resolveSettled } = Promise.withResolvers<QuorumOutcome<T>>();
  let started = 0;
  let running = 0;
  let done = false;
  let hedge: NodeJS.Timeout | undefined;
  const finish = (ok: boolean): void => {
    done = true;
    clearTimeout(hedge);
    if (ok) resolveReached({ ok: [...outcome.ok], failed: [...outcome.failed] });
    else rejectReached({ ok: [...outcome.ok], failed: [...outcome.failed] });
  };
  const check = (): void => {
    if (!done) {
      if (outcome.ok.length >= need) finish(true);
      else if (outcome.ok.length + running + (targets.length - started) < need) finish(false);
    }
    if (running === 0 && (done || started === targets.length)) resolveSettled(outcome);
  };
  const start = (): void => {
    const target = targets[started++];
    running++;
    call(target).then(
      (value) => {
        running--;
        outcome.ok.push({ target, value });
        check();
      },
      (error: unknown) => {
        running--;
        outcome.failed.push({ target, error });
        if (!done && started < targets.length) {
          onExtra();
          start();
        }
        check();
      },
    );
  };
  const armHedge = (): void => {
    hedge = setTimeout(() => {
      if (done || started >= targets.length) return;
      onExtra();
      start();
      if (started < targets.length) armHedge();
    }, hedgeMs);
    hedge.unref();
  };
  while (started < Math.min(need, targets.length)) start();
  if (started < targets.length) armHedge();
  check();
  return { reached, settled };
}
