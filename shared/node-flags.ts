/**
 * V8 flags for nabla's processes, wherever nabla starts them or says how to.
 *
 * NODE_FLAGS, for every process nabla starts with an explicit `node`: the image's entrypoint (Dockerfile, a test keeps
 * it in step) and local workers (coordinator/local-workers.ts). Not the CLI's shebang: `#!/usr/bin/env -S node …`
 * fails where env has no -S (BusyBox, so Alpine, and the BSDs), and `npx nabla` must run everywhere; a coordinator
 * started through npx therefore runs without it (see the numbers below).
 * --initial-old-space-size=64 (MiB): V8 sizes a small heap's old generation from what survives its last full
 * collection, ≈ 10 MB here, so the garbage of a few hundred steps (frames, results, per-step objects kept a step or
 * two and promoted) started a mark-compact every 70–80 ms: 115 in the coordinator and 25 in the worker over the
 * default job, each stalling a step by 3–17 ms (a step is 0.25 ms). With a 64 MiB floor: 2 and 3. Measured on the
 * default job, a coordinator and a worker started by hand, two alternating rounds: training 9.0 / 9.1 s with plain
 * `node`, 8.8 / 8.5 s at 32 MiB, 7.3 / 7.4 s at 64, 7.3 / 7.2 s at 128; the big net in float32 26.2 / 26.1k → 29.2 /
 * 28.7k samples/s. On the default job that is the coordinator's part (workers alone with it: no change beyond noise);
 * over sockets only, where a worker decodes every frame, workers alone with it lift the bench's 2-worker rows by
 * 20–100 %. V8 reads it only at start-up (v8.setFlagsFromString comes too late) and Node refuses it in NODE_OPTIONS.
 *
 * WORKER_NODE_FLAGS, for workers in addition (and, unlike NODE_FLAGS, allowed in NODE_OPTIONS: the compose file's
 * worker service and the README's remote-worker line use it there): --max-semi-space-size=1 (MiB): a worker receives
 * a parameter-sized frame per step; with the default 16 MiB young generation V8 kept starting full mark-compact
 * collections about every 25 ms (20–24% of a worker's time), with a 1 MiB one the garbage dies in cheap scavenges.
 * Measured with `nabla train --epochs 4 --check-every 0` here, epochs 2–4: [784,30,10] batch 10, a coordinator and 2
 * workers started by hand, three alternating rounds: workers at 1 MiB 6.7k–7.8k samples/s, at 32 MiB 5.0k–6.0k. The
 * coordinator does better without it (default 6.5k–7.4k vs 5.8k–7.3k at 1 MiB).
 */
export const NODE_FLAGS: readonly string[] = ['--initial-old-space-size=64'];
export const WORKER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1'];
