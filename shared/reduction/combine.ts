import type { Floats } from '../kernel/dtype.js';
import type { Gemm } from '../kernel/gemm.js';
import { jsGemm } from '../kernel/js-gemm.js';
import { children, nodeKey, nodeRange, type TreeNode } from './tree.js';

/** A partial sum over one tree node: a cost and a gradient, as typed arrays. */
export interface NodeSum {
  cost: number;
  nablaW: Floats;
  nablaB: Floats;
}

/** What the tree needs of a kernel: its vector add (y ← x + y, the same bits in every kernel; see Gemm.axpy). */
export type VectorAdd = Pick<Gemm, 'axpy'>;

/**
 * Sums the node `target` from the given partial sums, strictly along the fixed tree: a node present in `sums` is
 * taken as it is; otherwise its two children are summed and added, left + right. Accumulates into the left child's
 * arrays (they must be owned by the caller). Throws when some chunk is covered by no sum. `kernel` does the
 * additions (OpenBLAS daxpy or saxpy on a worker); any kernel gives the same bits.
 */
export function combineTree(target: TreeNode, chunks: number, sums: ReadonlyMap<string, NodeSum>, kernel: VectorAdd = jsGemm): NodeSum {
  const given = sums.get(nodeKey(target));
  if (given) return given;
  if (target.level === 0) throw new RangeError(`no partial sum covers chunk ${target.index}`);
  const [leftNode, rightNode] = children(target);
  const left = combineTree(leftNode, chunks, sums, kernel);
  const [rightStart, rightEnd] = nodeRange(rightNode, chunks);
  if (rightStart === rightEnd) return left;
  addInto(left, combineTree(rightNode, chunks, sums, kernel), kernel);
  return left;
}

/** left ← left + right, element by element (the one addition the tree performs at every inner node). */
export function addInto(left: NodeSum, right: NodeSum, kernel: VectorAdd = jsGemm): void {
  if (right.nablaW.length !== left.nablaW.length || right.nablaB.length !== left.nablaB.length) {
    throw new RangeError(`cannot add a sum of ${right.nablaW.length}+${right.nablaB.length} values into one of ${left.nablaW.length}+${left.nablaB.length}`);
  }
  left.cost += right.cost;
  kernel.axpy(left.nablaW.length, 1, right.nablaW, left.nablaW);
  kernel.axpy(left.nablaB.length, 1, right.nablaB, left.nablaB);
}
