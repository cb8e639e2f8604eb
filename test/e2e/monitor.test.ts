import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { watchFeed, type Feed, type FeedOptions } from '../../monitor/client.js';
import { renderReport, timelineFromSnapshots } from '../../monitor/report.js';
import type { StatusSnapshot } from '../../shared/protocol/status.js';
import { CLI, spawnCluster, startNabla, type Cluster, type RunningProcess } from '../support/cluster.js';
import { freePort } from '../support/free-port.js';

const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
/** The bundled digits, [784,30,10]: about a second per epoch on two workers, so 200 epochs outlast any test here. */
const LONG_JOB = ['--epochs', '200'];

const feedOptions = (url: string, name: string): FeedOptions => ({
  url, token: null, ca: null, insecureSkipVerify: false, name,
  initialRetryMs: 100, maxRetryMs: 1000, giveUpMs: 20_000, silenceTimeoutMs: 10_000,
});

/** Follows the feed, keeping every snapshot; `until` resolves with the first snapshot that satisfies it. */
function follow(url: string, name = 'e2e'): { feed: Feed; snapshots: StatusSnapshot[]; until(predicate: (s: StatusSnapshot) => boolean, timeoutMs?: number): Promise<StatusSnapshot> } {
  const snapshots: StatusSnapshot[] = [];
  const waiters = new Set<() => void>();
  const feed = watchFeed(feedOptions(url, name), (update) => {
    if (update.kind !== 'status') return;
    snapshots.push(update.snapshot);
    for (const wake of waiters) wake();
  });
  return {
    feed, snapshots,
    until(predicate, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const found = snapshots.find(predicate);
          if (!found) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching snapshot within ${timeoutMs} ms; last: ${JSON.stringify(snapshots.at(-1) ?? null).slice(0, 2000)}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}

const hasEpochAccuracy = (s: StatusSnapshot): boolean => s.epochs.some((e) => e.testAccuracy !== null);
const bothWorkersMeasured = (s: StatusSnapshot): boolean => s.workers.length === 2 && s.workers.every((w) => w.samplesPerSecond > 0);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const isInstalled = (command: string): boolean => spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;

describe('nabla monitor against a running cluster (real coordinator and worker processes)', () => {
  it('receives snapshots with both workers, advancing steps and, after an epoch, the test accuracy', async ({ onTestFinished }) => {
    const cluster = await spawnCluster({ workers: 2, args: [...LONG_JOB, '--min-workers', '2'] });
    const watcher = follow(cluster.url);
    onTestFinished(async () => {
      watcher.feed.stop();
      await cluster.stop();
    });

    const measured = await watcher.until((s) => bothWorkersMeasured(s) && hasEpochAccuracy(s));
    expect(measured.job).toMatchObject({ sizes: [784, 30, 10], batch: 10, epochs: 200, stepsPerEpoch: 800 });
    expect(measured.workers.map((w) => w.id).sort()).toEqual([...new Set(measured.workers.map((w) => w.id))].sort());
    for (const worker of measured.workers) {
      expect(worker.id).toMatch(/^w\d+$/);
      expect(worker.address).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(worker.samplesPerSecond).toBeGreaterThan(0);
      expect(worker.shards).toBeGreaterThan(0);
    }
    const accuracy = measured.epochs.find((e) => e.testAccuracy !== null)?.testAccuracy as number;
    expect(accuracy).toBeGreaterThan(0.3);
    expect(accuracy).toBeLessThanOrEqual(1);
    expect(measured.costHistory.length).toBeGreaterThan(0);

    const later = await watcher.until((s) => s.timeMs > measured.timeMs + 1000 && s.progress.step > measured.progress.step, 20_000);
    expect(later.progress.state).toBe('training');
    expect(later.throughput.samplesPerSecond).toBeGreaterThan(0);
    const steps = watcher.snapshots.filter((s) => s.progress.state === 'training').map((s) => s.progress.step);
    for (let i = 1; i < steps.length; i++) expect(steps[i]).toBeGreaterThanOrEqual(steps[i - 1]);
    console.log(`monitor feed: ${watcher.snapshots.length} snapshots; epoch 1 accuracy ${(accuracy * 100).toFixed(2)}%; ` +
      `worker speeds ${later.workers.map((w) => `${w.id} ${Math.round(w.samplesPerSecond)}/s`).join(', ')}`);
  }, 90_000);

  it('draws the dashboard in a real terminal (tmux) and quits with exit code 0 on q', async ({ onTestFinished, skip }) => {
    skip(!isInstalled('tmux'), 'tmux is not installed (Debian package tmux)');
    const cluster = await spawnCluster({ workers: 2, args: [...LONG_JOB, '--min-workers', '2'] });
    const socket = `nabla-e2e-${process.pid}`;
    const dir = mkdtempSync(join(tmpdir(), 'nabla-monitor-'));
    const exitFile = join(dir, 'exit-code');
    const tmux = (...args: string[]): string => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
    onTestFinished(async () => {
      spawnSync('tmux', ['-L', socket, 'kill-server']);
      await cluster.stop();
      rmSync(dir, { recursive: true, force: true });
    });
    // A wrapper shell records the monitor's exit code, since the tmux pane closes with it.
    const command = `'${process.execPath}' '${CLI}' monitor --connect ${cluster.url}; echo $? > '${exitFile}'`;
    tmux('new-session', '-d', '-x', '100', '-y', '30', command);

    let screen = '';
    const deadline = Date.now() + 60_000;
    const isComplete = (text: string): boolean =>
      /test accuracy \d+\.\d+%/.test(text) && (text.match(/^[ ▶]w\d+ +127\.0\.0\.1:\d+/gm) ?? []).length === 2 && /[\u2801-\u28ff]/.test(text);
    while (Date.now() < deadline) {
      await sleep(500);
      screen = tmux('capture-pane', '-p');
      if (isComplete(screen)) break;
    }
    mkdirSync(ARTIFACTS, { recursive: true });
    writeFileSync(join(ARTIFACTS, 'dashboard.txt'), screen);
    const lines = screen.replace(/\n+$/, '').split('\n');
    expect(lines.length, screen).toBeLessThanOrEqual(30);
    for (const line of lines) expect([...line].length, line).toBeLessThanOrEqual(100);
    expect(screen).toMatch(/nabla monitor +ws:\/\/127\.0\.0\.1:\d+ +● connected/);
    expect(screen).toMatch(/^job \[784,30,10\] · batch 10 · η 3 · 200 epochs/m);
    expect(screen).toMatch(/^epoch \d+\/200 +step \d+\/160000 [█▏▎▍▌▋▊▉]+░+ \d+\.\d%/m);
    expect((screen.match(/^[ ▶]w\d+ +127\.0\.0\.1:\d+ +\S+ +(idle|busy) +\d+ +[\d.]+k? /gm) ?? []).length, screen).toBe(2);
    expect(screen).toMatch(/cost [\d.]+ +test accuracy \d+\.\d+% +samples\/s/);
    expect(screen).toMatch(/[\u2801-\u28ff]/);
    expect(screen).toMatch(/^step time .*█/m);
    expect(screen).toMatch(/^reference /m);
    expect(screen).toMatch(/q quit/);

    // Resized (SIGWINCH), it redraws for the new size: 80×24 still holds the workers, the bar and the charts.
    tmux('resize-window', '-x', '80', '-y', '24');
    await sleep(1500);
    const small = tmux('capture-pane', '-p');
    writeFileSync(join(ARTIFACTS, 'dashboard-80x24.txt'), small);
    const smallLines = small.replace(/\n+$/, '').split('\n');
    expect(smallLines.length, small).toBeLessThanOrEqual(24);
    for (const line of smallLines) expect([...line].length, line).toBeLessThanOrEqual(80);
    expect((small.match(/^[ ▶]w\d+ +127\.0\.0\.1:\d+ +(idle|busy) /gm) ?? []).length, small).toBe(2);
    expect(small).toMatch(/^epoch \d+\/200 .*[█░]+ \d+\.\d%/m);
    expect(small).toMatch(/[\u2801-\u28ff]/);

    tmux('send-keys', '-t', '0', 'q');
    const quitDeadline = Date.now() + 10_000;
    while (!existsSync(exitFile) && Date.now() < quitDeadline) await sleep(100);
    expect(existsSync(exitFile), 'the monitor did not exit within 10 s of q').toBe(true);
    expect(readFileSync(exitFile, 'utf8').trim()).toBe('0');
  }, 120_000);

  it('renders a self-contained HTML report of a real run, which headless Chromium draws', async ({ onTestFinished, skip }) => {
    skip(!existsSync('/usr/bin/chromium'), 'Chromium is not installed at /usr/bin/chromium (Debian package chromium)');
    const cluster = await spawnCluster({ workers: 2, args: ['--epochs', '4', '--min-workers', '2'] });
    const watcher = follow(cluster.url);
    onTestFinished(async () => {
      watcher.feed.stop();
      await cluster.stop();
    });
    const end = await watcher.feed.ended;
    expect(end).toMatchObject({ kind: 'done', reason: expect.stringMatching(/^4 epochs, \d+ steps, test accuracy \d+\.\d\d%$/) });
    const final = watcher.snapshots.at(-1) as StatusSnapshot;
    expect(final.progress.state).toBe('done');
    expect(final.epochs).toHaveLength(4);

    const html = renderReport({ timeline: timelineFromSnapshots(watcher.snapshots), snapshot: final, title: 'nabla e2e run' });
    expect((html.match(/<svg /g) ?? []).length).toBeGreaterThanOrEqual(6);
    expect(html).toContain('Test accuracy per epoch');
    expect(html).not.toMatch(/<script|<link|<img|src=|@import|url\(/i);
    expect(html.replaceAll('xmlns="http://www.w3.org/2000/svg"', '')).not.toMatch(/https?:\/\//);
    mkdirSync(ARTIFACTS, { recursive: true });
    const htmlPath = join(ARTIFACTS, 'report.html');
    const pngPath = join(ARTIFACTS, 'report.png');
    writeFileSync(htmlPath, html);
    rmSync(pngPath, { force: true });
    const profile = mkdtempSync(join(tmpdir(), 'nabla-chromium-'));
    onTestFinished(() => rmSync(profile, { recursive: true, force: true }));
    const chromium = spawnSync('/usr/bin/chromium', [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--no-first-run', `--user-data-dir=${profile}`, `--screenshot=${pngPath}`, '--window-size=1200,1600', pathToFileURL(htmlPath).href,
    ], { encoding: 'utf8', timeout: 60_000 });
    expect(existsSync(pngPath), `chromium wrote no screenshot (status ${chromium.status}):\n${chromium.stderr}`).toBe(true);
    const png = readFileSync(pngPath);
    expect(png.subarray(1, 4).toString('ascii')).toBe('PNG');
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([1200, 1600]);
    // A blank 1200×1600 page compresses to a few kB; charts, text and colour take far more.
    expect(statSync(pngPath).size).toBeGreaterThan(50_000);
    console.log(`report: ${html.length} bytes of HTML, screenshot ${statSync(pngPath).size} bytes at ${pngPath}`);
  }, 120_000);

  it('reconnects by itself when the coordinator restarts (plain and --json), and exits 0 after training is done', async ({ onTestFinished }) => {
    const port = await freePort();
    const url = `ws://127.0.0.1:${port}`;
    const first = startNabla(['coordinator', '--listen', `127.0.0.1:${port}`, '--json', ...LONG_JOB]);
    await first.waitFor((e) => e.event === 'listening', 30_000);
    const worker = startNabla(['worker', '--connect', url, '--give-up-after', '30']);
    const plain = startNabla(['monitor', '--connect', url]); // stdout is a pipe: plain lines
    const json = startNabla(['monitor', '--connect', url, '--json']);
    let second: RunningProcess | null = null;
    let secondWorker: RunningProcess | null = null;
    onTestFinished(async () => {
      for (const proc of [first, worker, plain, json, second, secondWorker]) proc?.kill('SIGKILL');
      await Promise.all([first, worker, plain, json, second, secondWorker].map((proc) => proc?.exited));
    });

    await json.waitFor((e) => e.event === 'status' && (e.snapshot as StatusSnapshot).progress.step > 0, 60_000);
    // The plain monitor prints a summary at most every 2 s: wait for one of training before the restart.
    const isTrainingLine = (line: string): boolean => / · training · epoch \d+\/200 step \d+\/160000 /.test(line);
    for (const startedMs = Date.now(); !plain.stdout().split('\n').some(isTrainingLine);) {
      if (Date.now() - startedMs > 30_000) throw new Error(`the plain monitor printed no training line in 30 s:\n${plain.stdout()}`);
      await sleep(100);
    }
    // Long enough for the throttle to show (8 statuses, one per 500 ms): the second job below takes well under a
    // second, so without this the two monitors could see as many statuses as summary lines.
    for (const startedMs = Date.now(); json.events.filter((e) => e.event === 'status').length < 8;) {
      if (Date.now() - startedMs > 30_000) throw new Error('the JSON monitor received fewer than 8 statuses in 30 s');
      await sleep(100);
    }
    first.kill('SIGKILL');
    await json.waitFor((e) => e.event === 'reconnecting', 10_000);
    // The second job trains in a second or two, less than a monitor's backoff between attempts (up to ~6 s): a
    // monitor that missed all of it could not know it ended. So it waits for a second worker, which joins once both
    // monitors are back.
    second = startNabla(['coordinator', '--listen', `127.0.0.1:${port}`, '--json', '--epochs', '1', '--check-every', '0', '--min-workers', '2']);
    await json.waitFor((e) => e.event === 'connected' && json.events.filter((x) => x.event === 'connected').length === 2, 60_000);
    for (const startedMs = Date.now(); plain.stdout().split('\n').filter((line) => line === `connected to ${url}`).length < 2;) {
      if (Date.now() - startedMs > 60_000) throw new Error(`the plain monitor did not reconnect in 60 s:\n${plain.stdout()}`);
      await sleep(100);
    }
    secondWorker = startNabla(['worker', '--connect', url, '--give-up-after', '30']);
    const [plainExit, jsonExit] = await Promise.all([plain.exited, json.exited]);
    expect(jsonExit.code, json.stderr()).toBe(0);
    expect(plainExit.code, plain.stderr()).toBe(0);

    const statuses = json.events.filter((e) => e.event === 'status').map((e) => e.snapshot as StatusSnapshot);
    expect(statuses.at(-1)?.progress.state).toBe('done');
    expect(statuses.at(-1)?.job?.epochs).toBe(1);
    expect(json.events.filter((e) => e.event === 'connected')).toHaveLength(2);
    expect(json.events.at(-1)).toEqual({ event: 'done', reason: expect.stringMatching(/^1 epoch, 800 steps, test accuracy \d+\.\d\d%$/) });

    const lines = plain.stdout().trim().split('\n');
    expect(lines).toContain(`connected to ${url}`);
    expect(lines.some((line) => line.startsWith(`coordinator at ${url}: `) && /reconnecting in \d+\.\d s \(attempt \d+\)$/.test(line)), plain.stdout()).toBe(true);
    expect(lines.filter(isTrainingLine).length).toBeGreaterThan(0);
    expect(lines.at(-2)).toMatch(/^\d\d:\d\d:\d\d · done · epoch 1\/1 step 800\/800 \(100\.0%\) · .* · accuracy \d+\.\d\d% · \d workers?/);
    expect(lines.at(-1)).toMatch(/^training finished: 1 epoch, 800 steps, test accuracy \d+\.\d\d%$/);
    // At most one summary line per 2 s (plus the final one).
    const summaries = lines.filter((line) => /^\d\d:\d\d:\d\d · /.test(line));
    expect(summaries.length).toBeLessThan(statuses.length);
  }, 120_000);

  it('20 monitors at once barely change the training throughput (a measurement; bound loose so it cannot flake)', async ({ onTestFinished }) => {
    const cluster = await spawnCluster({ workers: 2, args: [...LONG_JOB, '--min-workers', '2', '--check-every', '0'] });
    const monitors: Feed[] = [];
    onTestFinished(async () => {
      for (const monitor of monitors) monitor.stop();
      await cluster.stop();
    });
    await cluster.coordinator.waitFor((e) => e.event === 'step');
    await sleep(3000); // warm up: JIT, speed-based shard sizes

    // Short windows without (A) and with (B) 20 monitors, in ABBA order, so that load from anything else on the
    // machine hits both alike; each round gives one ratio, and the median ignores the rounds a burst spoiled.
    const rounds: Array<{ without: Window; with: Window }> = [];
    const withMonitors = async (): Promise<Window> => {
      for (let i = 0; i < 20; i++) monitors.push(follow(cluster.url, `load-${i}`).feed);
      await sleep(600);
      const window = await measureWindow(cluster, 1500);
      for (const monitor of monitors.splice(0)) monitor.stop();
      await sleep(300);
      return window;
    };
    for (let round = 0; round < 8; round++) {
      if (round % 2 === 0) {
        const without = await measureWindow(cluster, 1500);
        rounds.push({ without, with: await withMonitors() });
      } else {
        const withWindow = await withMonitors();
        rounds.push({ without: await measureWindow(cluster, 1500), with: withWindow });
      }
    }
    const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
    const ratio = median(rounds.map((r) => r.with.samplesPerSecond / r.without.samplesPerSecond));
    const total = (key: 'without' | 'with', field: 'samples' | 'cpuMs'): number => rounds.reduce((sum, r) => sum + r[key][field], 0);
    const cpuPerSample = (key: 'without' | 'with'): number => total(key, 'cpuMs') / total(key, 'samples');
    console.log(`training samples/s without → with 20 monitors, per round: ${rounds.map((r) => `${Math.round(r.without.samplesPerSecond)}→${Math.round(r.with.samplesPerSecond)}`).join(', ')}\n` +
      `median ratio ${ratio.toFixed(3)} (${((ratio - 1) * 100).toFixed(1)}%); coordinator CPU per 1000 samples ${(1000 * cpuPerSample('without')).toFixed(2)} ms → ` +
      `${(1000 * cpuPerSample('with')).toFixed(2)} ms (${((cpuPerSample('with') / cpuPerSample('without') - 1) * 100).toFixed(1)}%)`);
    expect(Math.abs(ratio - 1)).toBeLessThan(0.3);
  }, 120_000);
});

interface Window { samples: number; samplesPerSecond: number; cpuMs: number }

/** Over the next `windowMs`: training samples (from the coordinator's own step events), their rate, and the coordinator's CPU time. */
async function measureWindow(cluster: Cluster, windowMs: number): Promise<Window> {
  const samplesSoFar = (): number => {
    let samples = 0;
    for (const event of cluster.coordinator.events) if (event.event === 'step') samples += event.batchSize as number;
    return samples;
  };
  const pid = cluster.coordinator.child.pid as number;
  const before = samplesSoFar(), cpuBefore = cpuMsOf(pid), startMs = performance.now();
  await sleep(windowMs);
  const samples = samplesSoFar() - before;
  return { samples, samplesPerSecond: (samples * 1000) / (performance.now() - startMs), cpuMs: cpuMsOf(pid) - cpuBefore };
}

/** User + system CPU time of a process, from /proc (Linux; 0 elsewhere, which only blanks the printed CPU figure). */
function cpuMsOf(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return 0;
  }
}
