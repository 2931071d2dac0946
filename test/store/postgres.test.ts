/**
 * Needs a PostgreSQL server: `.ci/postgres.sh` installs and starts one and prints its URL; the tests
 * read `SHOAL_TEST_PG_URL` (default postgres://shoal:shoal@127.0.0.1:5432/shoal_test). Without a
 * reachable server they are skipped, except in CI (`CI` set), where that is a failure.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createPostgresStore, type PostgresStoreOptions } from '../../plugins/store-postgres/index.ts';
import { makeRecord, runStoreCompliance } from '../../src/store/compliance.ts';
import type { Store } from '../../src/store/index.ts';

const URL_ = process.env.SHOAL_TEST_PG_URL ?? 'postgres://shoal:shoal@127.0.0.1:5432/shoal_test';
const SCHEMA = 'shoal_test';
const inCi = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';

async function probe(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: URL_, connectionTimeoutMillis: 3000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (err) {
    return (err as Error).message || String(err);
  } finally {
    await client.end().catch(() => {});
  }
}

const unreachable = await probe();
const tables: string[] = [];

async function dropTables(): Promise<void> {
  if (tables.length === 0) return;
  const client = new pg.Client({ connectionString: URL_ });
  await client.connect();
  try {
    for (const t of tables.splice(0)) {
      await client.query(`DROP TABLE IF EXISTS "${SCHEMA}"."${t}"`);
      await client.query(`DELETE FROM "${SCHEMA}".shoal_migrations WHERE table_name = $1`, [t]);
    }
  } finally {
    await client.end();
  }
}

function options(over: Partial<PostgresStoreOptions> = {}): PostgresStoreOptions {
  const table = `t_${randomBytes(6).toString('hex')}`;
  tables.push(table);
  return { connectionString: URL_, schema: SCHEMA, table, durability: 'os', poolSize: 4, ...over };
}

if (unreachable !== undefined) {
  const why = `PostgreSQL at ${URL_} is not reachable (${unreachable}); run .ci/postgres.sh and set SHOAL_TEST_PG_URL`;
  if (inCi) {
    it('postgres store: server reachable in CI', () => {
      throw new Error(why);
    });
  } else {
    it.skip(`postgres store tests skipped: ${why}`, () => {});
  }
} else {
  afterAll(dropTables);

  runStoreCompliance('postgres', async () => {
    const opts = options();
    return {
      store: createPostgresStore(opts),
      reopen: async () => createPostgresStore(opts),
      cleanup: async () => {},
    };
  });

  describe('postgres store specifics', () => {
    const open: Store[] = [];
    afterEach(async () => {
      for (const s of open.splice(0)) await s.close().catch(() => {});
    });
    const opened = async (opts: PostgresStoreOptions): Promise<Store> => {
      const store = createPostgresStore(opts);
      await store.open();
      open.push(store);
      return store;
    };

    it('a wrong password fails at open with STORE_UNREACHABLE naming credentials, without the password', async () => {
      const url = new URL(URL_);
      url.password = 'definitely-wrong-pw';
      const store = createPostgresStore(options({ connectionString: url.toString() }));
      const err = await store.open().then(
        () => undefined,
        (e: unknown) => e as Error & { code: string },
      );
      expect(err?.code).toBe('STORE_UNREACHABLE');
      expect(err?.message).toMatch(/credentials/);
      expect(err?.message).not.toContain('definitely-wrong-pw');
    });

    it('a closed port fails at open with STORE_UNREACHABLE', async () => {
      const server = createServer();
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as { port: number };
      await new Promise<void>((resolve) => server.close(() => resolve()));
      const url = new URL(URL_);
      url.port = String(port);
      const store = createPostgresStore(options({ connectionString: url.toString() }));
      await expect(store.open()).rejects.toMatchObject({ code: 'STORE_UNREACHABLE' });
    });

    it('creates the table by migration once, and a second store on the same table fails with STORE_LOCKED', async () => {
      const opts = options({ durability: 'fsync' });
      const first = await opened(opts);
      await first.put(Buffer.from('k'), makeRecord('v'));
      await expect(createPostgresStore(opts).open()).rejects.toMatchObject({ code: 'STORE_LOCKED' });
      await first.close();
      const again = await opened(opts);
      expect(Buffer.from((await again.get(Buffer.from('k')))!.value).toString()).toBe('v');
      const client = new pg.Client({ connectionString: URL_ });
      await client.connect();
      try {
        const res = await client.query(`SELECT version FROM "${SCHEMA}".shoal_migrations WHERE table_name = $1`, [
          opts.table,
        ]);
        expect(res.rows).toEqual([{ version: 1 }]);
        const cols = await client.query(
          'SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ' +
            "AND column_name IN ('key', 'value', 'tombstone') ORDER BY column_name",
          [SCHEMA, opts.table],
        );
        expect(cols.rows).toEqual([
          { column_name: 'key', data_type: 'bytea' },
          { column_name: 'tombstone', data_type: 'boolean' },
          { column_name: 'value', data_type: 'bytea' },
        ]);
      } finally {
        await client.end();
      }
    });

    it('a batch applies the last op per key, and a failing batch leaves nothing behind', async () => {
      const store = await opened(options());
      await store.put(Buffer.from('a'), makeRecord('old'));
      await store.batch([
        { type: 'put', key: Buffer.from('x'), record: makeRecord('1') },
        { type: 'del', key: Buffer.from('x') },
        { type: 'del', key: Buffer.from('y') },
        { type: 'put', key: Buffer.from('y'), record: makeRecord('2') },
        { type: 'put', key: Buffer.from('y'), record: makeRecord('3') },
      ]);
      expect(await store.get(Buffer.from('x'))).toBeUndefined();
      expect(Buffer.from((await store.get(Buffer.from('y')))!.value).toString()).toBe('3');
      const invalid = makeRecord('bad', { type: 'nonsense' as 'blob' });
      await expect(
        store.batch([
          { type: 'put', key: Buffer.from('a'), record: makeRecord('new') },
          { type: 'del', key: Buffer.from('y') },
          { type: 'put', key: Buffer.from('b'), record: invalid },
        ]),
      ).rejects.toMatchObject({ code: 'STORE_ERROR' });
      expect(Buffer.from((await store.get(Buffer.from('a')))!.value).toString()).toBe('old');
      expect(await store.get(Buffer.from('y'))).toBeDefined();
      expect(await store.get(Buffer.from('b'))).toBeUndefined();
    });

    it('operations before open or after close fail with STORE_ERROR', async () => {
      const store = createPostgresStore(options());
      await expect(store.get(Buffer.from('a'))).rejects.toMatchObject({ code: 'STORE_ERROR' });
    });
  });
}
