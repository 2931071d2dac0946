import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { assertListenFree } from './http-address.ts';

/**
 * The default `--listen` is the fixed interface's `/ip4/127.0.0.1/tcp/0`: any free port. A daemon started on
 * it remembers the port it got in its data directory and asks for the same one on its next start, so its
 * multiaddr (what the other members and `--join` lines hold) survives restarts. A remembered port that
 * another process took meanwhile is given up for a free one. A daemon given `--listen` or `--announce`
 * uses exactly what it was given.
 */
const FILE = 'libp2p-listen.json';

/** The listen addresses of the previous run, if they are known and free now; undefined otherwise. */
export async function rememberedListen(dataDir: string): Promise<{ listen?: string[]; taken?: string[] }> {
  let saved: unknown;
  try {
    saved = JSON.parse(await readFile(join(dataDir, FILE), 'utf8'));
  } catch {
    return {}; // first start, or an unreadable file: any free port, remembered afresh
  }
  if (!Array.isArray(saved) || saved.length === 0 || !saved.every((a) => typeof a === 'string')) return {};
  try {
    await assertListenFree(saved);
  } catch {
    return { taken: saved };
  }
  return { listen: saved };
}

/** Keeps the addresses libp2p listens on (peer id suffix dropped) for the next start. */
export async function rememberListen(dataDir: string, multiaddrs: readonly string[]): Promise<void> {
  const listen = multiaddrs.map((m) => m.replace(/\/p2p\/[^/]+$/, '')).filter((m) => /\/tcp\/[1-9]\d*$/.test(m));
  if (listen.length === 0) return;
  await mkdir(dataDir, { recursive: true });
  await writeFile(join(dataDir, FILE), `${JSON.stringify(listen)}\n`);
}
