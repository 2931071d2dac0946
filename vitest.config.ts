import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts', 'plugins/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Cluster tests start real daemons; two cores cannot take many at once.
    maxWorkers: 2,
  },
});
