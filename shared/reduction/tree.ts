/**
 * Fixed-order reduction: the rule that makes results independent of how many workers there are.
 *
 * A mini-batch of m samples is cut into K = min(m, maxChunks) chunks (a function of m alone). Chunk sums are added
 * along a fixed binary tree over the chunk indices: node (level, index) covers chunks [index·2^level, (index+1)·2^level)
 * clipped to K, and its sum is always left child + right child (a right child with no chunks is skipped).
 * A worker given a contiguous chunk range returns one sum per maximal aligned block of that range (a tree node), so
 * however the range is split among workers, or re-split after a failure, the coordinator adds the same numbers in
 * the same order, and the floating-point result is bit-identical.
 */
export interface TreeNode {
  readonly level: number;
  readonly index: number;
}

/**
 * The coordinator's default maxChunks (--chunks auto) for mini-batches of `batch`: the largest of 1, 2, 4 and 8 that
 * leaves chunks of at least 4 samples. Each chunk is its own backprop pass, and OpenBLAS packs the weights again for
 * every GEMM, a fixed cost a chunk of one or two rows cannot spread: the default job ([784,30,10], batch 10) took
 * 7.5 s with 8 chunks, 6.2 s with 4 and 5.5 s with 2 (3 runs each). Eight are enough to balance 8 workers and keep
 * the tree cheap; a power of two keeps a whole mini-batch one aligned block (a worker computing it sends one sum).
 */
export function defaultMaxChunks(batch: number): number {
  let chunks = 1;
  while (chunks < 8 && 2 * chunks * 4 <= batch) chunks *= 2;
  return chunks;
}

/** Number of chunks for a mini-batch of m samples. */
export function chunkCount(m: number, maxChunks: number): number {
  return Math.max(1, Math.min(m, maxChunks));
}

/** First mini-batch position of chunk c (c = K gives m): chunks differ in size by at most one sample. */
export function chunkOffset(m: number, chunks: number, c: number): number {
  return Math.floor((c * m) / chunks);
}

/** Chunks [start, end) covered by a node, clipped to the chunk count; empty when start ≥ chunks. */
export function nodeRange(node: TreeNode, chunks: number): [number, number] {
  const start = node.index * 2 ** node.level;
  return [Math.min(start, chunks), Math.min(start + 2 ** node.level, chunks)];
}

/** The root of the tree over `chunks` leaves. */
export function rootNode(chunks: number): TreeNode {
  return { level: Math.ceil(Math.log2(chunks)), index: 0 };
}

/** The canonical decomposition of the chunk range [start, end) into maximal aligned tree nodes, left to right. */
export function alignedBlocks(start: number, end: number): TreeNode[] {
  const blocks: TreeNode[] = [];
  while (start < end) {
    let level = 0;
    while (start % 2 ** (level + 1) === 0 && start + 2 ** (level + 1) <= end) level++;
    blocks.push({ level, index: start / 2 ** level });
    start += 2 ** level;
  }
  return blocks;
}

export const nodeKey = (node: TreeNode): string => `${node.level}:${node.index}`;

/** Children of an inner node; the right one may be empty (check with nodeRange). */
export function children(node: TreeNode): [TreeNode, TreeNode] {
  return [
    { level: node.level - 1, index: node.index * 2 },
    { level: node.level - 1, index: node.index * 2 + 1 },
  ];
}
