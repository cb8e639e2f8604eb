/**
 * The element types training computes in. float64 is the seed's arithmetic and the default; float32 (`--dtype
 * float32`) halves the bytes on the wire and roughly doubles BLAS throughput, and agrees with the seed to float32
 * precision. Either way every replica and every reduction use one type, so results stay bit-identical across
 * worker counts.
 */
export const DTYPES = ['float64', 'float32'] as const;
export type Dtype = (typeof DTYPES)[number];

/** An array of the compute type: parameters, gradients, activations. */
export type Floats = Float64Array | Float32Array;

/** A zeroed array of `length` values of `dtype`. */
export function newFloats(dtype: Dtype, length: number): Floats {
  return dtype === 'float32' ? new Float32Array(length) : new Float64Array(length);
}

export function dtypeOf(values: Floats): Dtype {
  return values instanceof Float32Array ? 'float32' : 'float64';
}

/** Whether two arrays hold the same bytes: bit-identical values (−0 is not +0; a NaN matches only its own bits). */
export function sameBits(x: Floats, y: Floats): boolean {
  return Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(y.buffer, y.byteOffset, y.byteLength));
}
