import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts', 'plugins/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Cluster tests start real daemons; two cores cannot take many at once.
    maxWorkers: 2,
    // Every daemon a test starts without --listen takes any free libp2p port: the default port
    // (--http-port + 1000) of one test's daemon may be another's HTTP port. Tests of that default clear it.
    env: { SHOAL_LISTEN: '/ip4/127.0.0.1/tcp/0' },
  },
});
