import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two files at a time even on two cores (Vitest's default is one fewer than the cores): most of an
    // end-to-end file's time is spent waiting on its servers, agents and shells, not computing.
    maxWorkers: 2,
  },
});
