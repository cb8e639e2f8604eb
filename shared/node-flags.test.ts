import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { NODE_FLAGS, WORKER_NODE_FLAGS } from './node-flags.js';

const repo = (path: string): string => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');

describe('NODE_FLAGS', () => {
  it('are what the image\'s entrypoint starts node with (the CLI\'s shebang stays portable: plain `node`)', () => {
    expect(repo('bin/nabla.ts').split('\n')[0]).toBe('#!/usr/bin/env node');
    expect(repo('Dockerfile')).toContain(`ENTRYPOINT ["node", ${NODE_FLAGS.map((flag) => JSON.stringify(flag)).join(', ')}, "/app/dist/bin/nabla.js"]`);
  });
});

describe('WORKER_NODE_FLAGS', () => {
  it('are what the compose file\'s workers and the README\'s remote workers run with', () => {
    const workerService = /\n {2}worker:\n([\s\S]*?)\n {2}\S/.exec(repo('docker-compose.yml'))?.[1] ?? '';
    expect(workerService).toContain(`NODE_OPTIONS: ${WORKER_NODE_FLAGS.join(' ')}`);
    expect(repo('README.md')).toContain(`NODE_OPTIONS=${WORKER_NODE_FLAGS.join(' ')} npx nabla worker`);
  });
});
