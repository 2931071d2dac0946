import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqliteStore } from '../../plugins/store-sqlite/index.ts';
import { makeRecord, runStoreCompliance } from '../../src/store/compliance.ts';
import type { Store } from '../../src/store/index.ts';

runStoreCompliance('sqlite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'shoal-sqlite-'));
  const path = join(dir, 'data', 'shoal.sqlite');
  return {
    store: createSqliteStore({ path, durability: 'os' }),
    reopen: async () => createSqliteStore({ path, durability: 'os' }),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

describe('sqlite store specifics', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });
  const tempDir = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'shoal-sqlite-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    return dir;
  };
  const opened = async (path: string, durability: 'fsync' | 'os' = 'fsync'): Promise<Store> => {
    const store = createSqliteStore({ path, durability });
    await store.open();
    cleanups.push(() => store.close());
    return store;
  };

  it('a second store on the same file fails at open with STORE_LOCKED, and opens once the first closes', async () => {
    const path = join(await tempDir(), 'db.sqlite');
    const first = await opened(path);
    await first.put(Buffer.from('k'), makeRecord('v'));
    const second = createSqliteStore({ path });
    await expect(second.open()).rejects.toMatchObject({ code: 'STORE_LOCKED' });
    await first.close();
    const third = await opened(path);
    expect(Buffer.from((await third.get(Buffer.from('k')))!.value).toString()).toBe('v');
  });

  it('a store in another process (another daemon) holds the lock until it exits', async () => {
    const path = join(await tempDir(), 'db.sqlite');
    const plugin = new URL('../../plugins/store-sqlite/index.ts', import.meta.url).href;
    const script =
      `const { createSqliteStore } = await import(${JSON.stringify(plugin)});` +
      `const s = createSqliteStore({ path: ${JSON.stringify(path)} }); await s.open();` +
      "process.stdout.write('ready\\n'); process.stdin.resume(); process.stdin.on('end', () => process.exit(0));";
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    cleanups.push(async () => {
      child.stdin.end();
      await exited;
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout.once('data', () => resolve());
      child.once('exit', (code) => reject(new Error(`child exited with ${code}`)));
    });
    await expect(createSqliteStore({ path }).open()).rejects.toMatchObject({ code: 'STORE_LOCKED' });
    child.stdin.end();
    await exited;
    const store = await opened(path);
    expect(await store.get(Buffer.from('x'))).toBeUndefined();
  });

  it('a path below a regular file fails at open with STORE_UNWRITABLE', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'file'), 'not a directory');
    const store = createSqliteStore({ path: join(dir, 'file', 'sub', 'db.sqlite') });
    await expect(store.open()).rejects.toMatchObject({ code: 'STORE_UNWRITABLE' });
  });

  it('uses WAL and a real schema: metadata as columns, the key index serving range scans', async () => {
    const path = join(await tempDir(), 'db.sqlite');
    const store = await opened(path, 'fsync');
    await store.put(Buffer.from([1, 2]), makeRecord('abc', { type: 'doc', contentType: 'application/json' }));
    await store.close();
    const db = new DatabaseSync(path, { readOnly: true });
    try {
      expect(db.prepare('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' });
      const row = db.prepare('SELECT key, type, content_type, size, tombstone, value FROM records').get();
      expect(row).toEqual({
        key: Uint8Array.from([1, 2]),
        type: 'doc',
        content_type: 'application/json',
        size: 3,
        tombstone: 0,
        value: new Uint8Array(Buffer.from('abc')),
      });
      const plan = db
        .prepare('EXPLAIN QUERY PLAN SELECT key FROM records WHERE key >= ? AND key < ? ORDER BY key LIMIT 5')
        .all(new Uint8Array(0), new Uint8Array([1]));
      expect(JSON.stringify(plan)).toMatch(/USING (COVERING )?INDEX/);
    } finally {
      db.close();
    }
  });

  it('a failing batch leaves nothing behind (atomic)', async () => {
    const store = await opened(join(await tempDir(), 'db.sqlite'));
    await store.put(Buffer.from('a'), makeRecord('old'));
    const broken = makeRecord('x');
    // A NOT NULL column receiving null makes the second op fail inside the transaction.
    (broken.meta as { version: unknown }).version = null;
    await expect(
      store.batch([
        { type: 'put', key: Buffer.from('a'), record: makeRecord('new') },
        { type: 'put', key: Buffer.from('b'), record: broken },
      ]),
    ).rejects.toMatchObject({ code: 'STORE_ERROR' });
    expect(Buffer.from((await store.get(Buffer.from('a')))!.value).toString()).toBe('old');
    expect(await store.get(Buffer.from('b'))).toBeUndefined();
  });

  it('getMany keeps order and duplicates across more keys than one IN query holds', async () => {
    const store = await opened(join(await tempDir(), 'db.sqlite'), 'os');
    const ops = Array.from({ length: 300 }, (_, i) => ({
      type: 'put' as const,
      key: Buffer.from(`k${i}`),
      record: makeRecord(`v${i}`),
    }));
    await store.batch(ops.filter((_, i) => i % 3 !== 0));
    const asked = [...ops.map((o) => o.key), Buffer.from('k5'), Buffer.from('k5')];
    const got = await store.getMany(asked);
    expect(got.length).toBe(asked.length);
    got.forEach((rec, i) => {
      const n = i < 300 ? i : 5;
      expect(rec ? Buffer.from(rec.value).toString() : undefined).toBe(n % 3 === 0 ? undefined : `v${n}`);
    });
  });

  it('operations after close fail with STORE_ERROR', async () => {
    const store = await opened(join(await tempDir(), 'db.sqlite'));
    await store.close();
    await expect(store.get(Buffer.from('a'))).rejects.toMatchObject({ code: 'STORE_ERROR' });
  });
});
