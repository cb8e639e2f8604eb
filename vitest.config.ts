import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{coordinator,worker,monitor,model,shared,bin,test}/**/*.test.ts'],
    exclude: ['dist/**', 'node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
