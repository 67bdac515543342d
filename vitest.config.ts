import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/globalSetup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // 2-core machines: LMDB and nats-server tests are I/O-bound; keep worker count small.
    maxWorkers: 2,
    minWorkers: 1,
  },
});
