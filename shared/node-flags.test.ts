import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { NODE_FLAGS } from './node-flags.js';

const repo = (path: string): string => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');

describe('NODE_FLAGS', () => {
  it('are the flags of the bin shebang and of the Docker entry point', () => {
    expect(repo('bin/nabla.ts').split('\n')[0]).toBe(`#!/usr/bin/env -S node ${NODE_FLAGS.join(' ')}`);
    expect(repo('Dockerfile')).toContain(`ENTRYPOINT ["node", ${NODE_FLAGS.map((flag) => JSON.stringify(flag)).join(', ')}, "/app/dist/bin/nabla.js"]`);
  });
});
