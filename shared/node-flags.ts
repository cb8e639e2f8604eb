/**
 * V8 flags every nabla process runs with: the bin's shebang and the Docker image's entry point spell them out (a
 * test keeps the three in step), and local workers are started with them.
 *
 * --max-semi-space-size=1 (MiB): a step allocates little but steadily (frames, messages, small objects); with the
 * default 16 MiB young generation, V8 kept starting full mark-compact collections about every 25 ms in each worker
 * (20–24% of its time). With a 1 MiB young generation the garbage dies in cheap scavenges instead. Measured with
 * `nabla train --epochs 4 --check-every 0` here, epochs 2–4, two alternating rounds: [784,30,10] batch 10
 * 3.4k–5.3k → 5.4k–7.0k samples/s; [784,256,256,10] batch 128 6.6k–7.6k → 8.4k–9.3k.
 * The coordinator alone would do better with 32 MiB (workers at 1: 6.3k–8.3k vs 5.4k–7.3k, three rounds), and
 * workers much worse (5.0k–6.0k vs 6.7k–7.8k); one shebang serves every role, so every role gets 1.
 */
export const NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1'];
