/**
 * Calls every target in parallel and resolves as soon as `need` of them succeeded, without waiting
 * for the rest; `settled` resolves when every call has finished (read repair and hints use it).
 * Rejects as soon as `need` successes have become impossible.
 */
export interface QuorumOutcome<T> {
  ok: Array<{ target: string; value: T }>;
  failed: Array<{ target: string; error: unknown }>;
}

export function quorumCall<T>(
  targets: readonly string[],
  need: number,
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
  const check = () => {
    if (done) return;
    if (outcome.ok.length >= need) {
      done = true;
      resolveReached({ ok: [...outcome.ok], failed: [...outcome.failed] });
    } else if (outcome.ok.length + (targets.length - outcome.ok.length - outcome.failed.length) < need) {
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
