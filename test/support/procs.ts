import { readdirSync, readFileSync } from 'node:fs';

/** A process's parent pid and state from /proc (undefined once it is gone; a zombie counts as gone). */
export function procStat(pid: number): { ppid: number; state: string } | undefined {
  try {
    // pid (comm) state ppid ...: comm may hold spaces, so split after its closing parenthesis.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return state === 'Z' ? undefined : { ppid: Number(ppid), state };
  } catch {
    return undefined;
  }
}

/** Every live descendant of `root` (its children, their children, ...). */
export function descendants(root: number): number[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    const s = Number.isInteger(pid) ? procStat(pid) : undefined;
    if (s) parent.set(pid, s.ppid);
  }
  const out: number[] = [];
  let frontier = [root];
  while (frontier.length > 0) {
    const next = [...parent].filter(([, pp]) => frontier.includes(pp)).map(([pid]) => pid);
    out.push(...next);
    frontier = next;
  }
  return out;
}
