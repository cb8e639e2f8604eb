import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { authorizationHeader } from '../../shared/auth.js';
import { runNabla, spawnCluster, startNabla } from '../support/cluster.js';
import { writeBlobsCsv } from '../support/csv-problem.js';

const dir = mkdtempSync(join(tmpdir(), 'nabla-auth-'));
const train = writeBlobsCsv({ rows: 300, features: 4, classes: 3, seed: 8, dir });
const job = ['--data', `csv:${train}`, '--sizes', '4,5,3', '--epochs', '2', '--batch', '10', '--check-every', '0'];
const TOKEN = 'correct-horse-battery';

/** Opens a raw upgrade with the given Authorization header and reports the HTTP status it got. */
function upgradeStatus(url: string, authorization?: string): Promise<number> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, { headers: authorization ? { authorization } : {} });
    socket.on('unexpected-response', (_request, response) => { resolve(response.statusCode ?? 0); socket.terminate(); });
    socket.on('open', () => { resolve(101); socket.terminate(); });
    socket.on('error', () => undefined);
  });
}

async function nonce(url: string): Promise<string> {
  const response = await fetch(url.replace(/^ws/, 'http') + '/auth/nonce');
  return ((await response.json()) as { nonce: string }).nonce;
}

describe('token authentication and TLS', () => {
  it('refuses no token, a wrong token and a replayed handshake with 401, and trains with the right one', async () => {
    const reference = await runNabla(['train', ...job, '--workers', '1', '--json']);
    const cluster = await spawnCluster({ workers: 0, args: [...job, '--token', TOKEN] });
    try {
      const noToken = startNabla(['worker', '--connect', cluster.url]);
      const wrongToken = startNabla(['worker', '--connect', cluster.url, '--token', 'not-the-token']);
      expect((await noToken.exited).code).toBe(1);
      expect(noToken.stderr()).toContain('401 missing credentials');
      expect((await wrongToken.exited).code).toBe(1);
      expect(wrongToken.stderr()).toContain('401 wrong token');

      const header = authorizationHeader(TOKEN, 'worker', await nonce(cluster.url));
      expect(await upgradeStatus(cluster.url, header)).toBe(101);
      expect(await upgradeStatus(cluster.url, header)).toBe(401); // the same header again: a replay
      await cluster.coordinator.waitFor((e) => e.event === 'rejected' && String(e.reason).includes('already used nonce'));
      expect(cluster.coordinator.events.some((e) => e.event === 'step')).toBe(false);

      cluster.addWorker(['--token', TOKEN]);
      const done = await cluster.coordinator.waitFor((e) => e.event === 'done');
      expect(done.paramHash).toBe(reference.events.find((e) => e.event === 'done')?.paramHash);
      expect(cluster.coordinator.events.filter((e) => e.event === 'rejected')).toHaveLength(3);
    } finally {
      await cluster.stop();
    }
  });

  it('refuses to listen beyond loopback without a token, saying how to set one', async () => {
    const result = await runNabla(['coordinator', '--listen', '0.0.0.0:0', ...job]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('a token is required: pass --token SECRET (or set NABLA_TOKEN');
  });

  it('serves wss:// with --tls-cert/--tls-key to workers that trust the certificate with --ca', async () => {
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
    const coordinator = startNabla(['coordinator', '--listen', '127.0.0.1:0', '--json', ...job, '--tls-cert', cert, '--tls-key', key, '--token', TOKEN]);
    try {
      const listening = await coordinator.waitFor((e) => e.event === 'listening');
      expect(listening.url).toMatch(/^wss:\/\//);
      const untrusting = startNabla(['worker', '--connect', `wss://127.0.0.1:${listening.port}`, '--token', TOKEN, '--give-up-after', '1']);
      expect((await untrusting.exited).code).toBe(1);
      const worker = startNabla(['worker', '--connect', `wss://127.0.0.1:${listening.port}`, '--token', TOKEN, '--ca', cert]);
      await coordinator.waitFor((e) => e.event === 'done');
      expect((await worker.exited).code).toBe(0);
    } finally {
      coordinator.kill('SIGKILL');
    }
  });
});
