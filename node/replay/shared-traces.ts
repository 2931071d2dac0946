import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * `shared/traces/<name>` (the project's shared traces, `../shared/traces/README.md`) in the nearest parent of the
 * checkout, or else of the working directory, that has one; undefined when there is none.
 */
export function sharedTrace(name: string): string | undefined {
  for (const start of [resolve(import.meta.dirname, '../..'), process.cwd()]) {
    for (let d = start; ; d = dirname(d)) {
      const f = join(d, 'shared', 'traces', name);
      if (existsSync(f)) return f;
      if (dirname(d) === d) break;
    }
  }
  return undefined;
}
