import { children, nodeKey, nodeRange, type TreeNode } from './tree.js';

/** A partial sum over one tree node: a cost and a gradient, as typed arrays. */
export interface NodeSum {
  cost: number;
  nablaW: Float64Array;
  nablaB: Float64Array;
}

/**
 * Sums the node `target` from the given partial sums, strictly along the fixed tree: a node present in `sums` is
 * taken as it is; otherwise its two children are summed and added, left + right. Accumulates into the left child's
 * arrays (they must be owned by the caller). Throws when some chunk is covered by no sum.
 */
export function combineTree(target: TreeNode, chunks: number, sums: ReadonlyMap<string, NodeSum>): NodeSum {
  const given = sums.get(nodeKey(target));
  if (given) return given;
  if (target.level === 0) throw new RangeError(`no partial sum covers chunk ${target.index}`);
  const [leftNode, rightNode] = children(target);
  const left = combineTree(leftNode, chunks, sums);
  const [rightStart, rightEnd] = nodeRange(rightNode, chunks);
  if (rightStart === rightEnd) return left;
  addInto(left, combineTree(rightNode, chunks, sums));
  return left;
}

/** left ← left + right, element by element (the one addition the tree performs at every inner node). */
export function addInto(left: NodeSum, right: NodeSum): void {
  left.cost += right.cost;
  const lw = left.nablaW, rw = right.nablaW, lb = left.nablaB, rb = right.nablaB;
  for (let i = 0; i < lw.length; i++) lw[i] += rw[i];
  for (let i = 0; i < lb.length; i++) lb[i] += rb[i];
}
