import { readFileSync } from 'node:fs';

const MS_PER_TICK = 10; // USER_HZ = 100 on Linux

/** CPU time (user + system) process `pid` used so far, ms, from /proc (Linux); undefined elsewhere. */
export function processCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) * MS_PER_TICK;
  } catch {
    return undefined;
  }
}

/** CPU time the daemons used so far, ms, summed; undefined when /proc cannot tell. */
export function daemonCpuMs(c: { daemons: ReadonlyArray<{ proc: { pid?: number } }> }): number | undefined {
  let sum = 0;
  for (const d of c.daemons) {
    const ms = processCpuMs(d.proc.pid);
    if (ms === undefined) return undefined;
    sum += ms;
  }
  return sum;
}
