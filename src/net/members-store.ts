import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { type MemberInfo, parseMemberInfo } from './member-codec.ts';

export const MEMBERS_FILE = 'members.json';

/**
 * `<dataDir>/members.json`: when this daemon first started with the data directory (`joinedAt`) and
 * the last known records of the other members, so a restarted daemon finds its cluster again
 * without `--join`. Saves are coalesced (at most one write per 500 ms) and flushed on stop.
 */
export class MembersFile {
  joinedAt = Date.now();
  readonly #path: string;
  readonly #dataDir: string;
  readonly #logger: Logger;
  #timer: NodeJS.Timeout | undefined;
  #source: () => MemberInfo[] = () => [];

  constructor(dataDir: string, logger: Logger) {
    this.#dataDir = dataDir;
    this.#path = join(dataDir, MEMBERS_FILE);
    this.#logger = logger;
  }

  /** Reads the file (a missing or corrupt file yields no members and a fresh joinedAt). */
  async load(): Promise<MemberInfo[]> {
    let text: string;
    try {
      text = await readFile(this.#path, 'utf8');
    } catch {
      return [];
    }
    try {
      const o = JSON.parse(text) as { joinedAt?: unknown; members?: unknown };
      if (typeof o.joinedAt === 'number') this.joinedAt = o.joinedAt;
      return Array.isArray(o.members) ? o.members.map(parseMemberInfo) : [];
    } catch (err) {
      this.#logger.warn({ err, path: this.#path }, 'ignoring corrupt members file');
      return [];
    }
  }

  /** Where saves read the current member list from. */
  track(source: () => MemberInfo[]): void {
    this.#source = source;
  }

  /** Schedules a save (coalesced). */
  changed(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#write().catch((err: unknown) => this.#logger.warn({ err }, 'cannot save members file'));
    }, 500);
    this.#timer.unref();
  }

  /** Writes now if a save is pending (or always when `force`). */
  async flush(force = false): Promise<void> {
    if (this.#timer === undefined && !force) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#write();
  }

  async #write(): Promise<void> {
    await mkdir(this.#dataDir, { recursive: true });
    const tmp = `${this.#path}.tmp-${process.pid}`;
    await writeFile(tmp, JSON.stringify({ joinedAt: this.joinedAt, members: this.#source() }));
    await rename(tmp, this.#path);
  }
}
