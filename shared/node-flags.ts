/**
 * V8 flags for worker processes, wherever nabla starts them or says how to: local workers (coordinator/local-workers.ts),
 * the compose file's worker service (NODE_OPTIONS; a test keeps it in step) and the README's remote-worker line.
 *
 * --max-semi-space-size=1 (MiB): a worker receives a parameter-sized frame per step; with the default 16 MiB young
 * generation V8 kept starting full mark-compact collections about every 25 ms (20–24% of a worker's time), with a
 * 1 MiB one the garbage dies in cheap scavenges. Measured with `nabla train --epochs 4 --check-every 0` here,
 * epochs 2–4: [784,30,10] batch 10, a coordinator and 2 workers started by hand, three alternating rounds: workers
 * at 1 MiB 6.7k–7.8k samples/s, at 32 MiB 5.0k–6.0k. The coordinator does better without it (default 6.5k–7.4k vs
 * 5.8k–7.3k at 1 MiB), so the CLI's shebang stays plain `node`.
 */
export const WORKER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1'];
