import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLevelStore } from '../../plugins/store-level/index.ts';
import { runStoreCompliance } from '../../src/store/compliance.ts';

runStoreCompliance('level', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'shoal-level-'));
  const location = join(dir, 'db');
  return {
    store: createLevelStore({ location, durability: 'os' }),
    reopen: async () => createLevelStore({ location, durability: 'os' }),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});
