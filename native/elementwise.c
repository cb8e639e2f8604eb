/*
 * nabla_native: the worker's elementwise loops in C (shared/kernel/elementwise.ts loads it; the TypeScript loops
 * there are the fallback and the oracle). Every function computes exactly what its TypeScript twin computes, operation
 * for operation, in IEEE double arithmetic: the same bits (but for which NaN ∞ − ∞ gives), so workers with and
 * without this addon agree.
 *
 * Rules that keep the bits (checked by shared/kernel/elementwise.test.ts on random and edge values):
 * - binding.gyp compiles with -ffp-contract=off and without -ffast-math: no fused multiply-add, no reassociation;
 * - every expression is written in double, as JavaScript evaluates it, and a float32 array's element is widened to
 *   double when read and rounded to nearest when stored, as a Float32Array does;
 * - e^x is exp.ts's algorithm with exp.ts's own tables and constants (passed in once by `init`); the arguments it
 *   defers to Math.exp (|x| > 700, NaN) are left to the caller: sigmoidBias stops there and returns the index.
 *
 * Arguments are checked here, not trusted: a wrong type, a short array or an index out of range throws a TypeError
 * or RangeError instead of reading or writing outside a buffer.
 *
 * The addon also exports native/shared-map.c's mapShared (shared-memory lanes); module_init registers both.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <node_api.h>
#include "shared-map.h"

/* exp.ts's constants and tables, set by init(). */
static double LIMIT, SIXTY_FOUR_OVER_LN2, LN2_OVER_64_HI, LN2_OVER_64_LO;
static double TWO_TO_J_OVER_64[64];
static double POWERS_OF_TWO[2 * 1011 + 1];
static const int POWER_BIAS = 1011;
static int initialized = 0;

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAS_AVX2_PATH 1
/* Whether sigmoidBias takes four values at a time (init: the CPU has AVX2, and NABLA_NATIVE_SCALAR is not set). */
static int use_avx2 = 0;
#endif

/* exp.ts's exp for |x| <= LIMIT (the caller checks). */
static inline double exp_in_range(double x) {
  /* Math.floor(y), exactly, for |y| < 2^31 (|x| ≤ LIMIT makes |y| < 64,700): truncate, then step down below zero.
   * Inline, where floor() is a library call on baseline x86-64. */
  const double y = x * SIXTY_FOUR_OVER_LN2 + 0.5;
  double k = (double)(int)y;
  if (k > y) k -= 1;
  const double r = (x - k * LN2_OVER_64_HI) - k * LN2_OVER_64_LO;
  const double r2 = r * r;
  const double expm1 = r + r2 * (1.0 / 2 + r * (1.0 / 6)) + r2 * r2 * (1.0 / 24 + r * (1.0 / 120));
  const int ki = (int)k;
  const double fraction = TWO_TO_J_OVER_64[ki & 63];
  return POWERS_OF_TWO[(ki >> 6) + POWER_BIAS] * (fraction + fraction * expm1);
}

/* ── argument checking ─────────────────────────────────────────────────────────────────────────────────────── */

typedef struct {
  napi_typedarray_type type;
  void *data;
  size_t length;
} Array;

static napi_value throw_error(napi_env env, int range, const char *message) {
  if (range) napi_throw_range_error(env, NULL, message);
  else napi_throw_type_error(env, NULL, message);
  return NULL;
}

static int get_array(napi_env env, napi_value value, Array *out) {
  bool is_typed = false;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed) return 0;
  napi_value buffer;
  size_t offset;
  return napi_get_typedarray_info(env, value, &out->type, &out->length, &out->data, &buffer, &offset) == napi_ok;
}

static int is_float(const Array *a) { return a->type == napi_float32_array || a->type == napi_float64_array; }

static int get_index(napi_env env, napi_value value, int64_t *out) {
  double number;
  if (napi_get_value_double(env, value, &number) != napi_ok) return 0;
  if (!(number >= 0 && number <= 4294967296.0) || number != floor(number)) return 0;
  *out = (int64_t)number;
  return 1;
}

static int get_number(napi_env env, napi_value value, double *out) {
  return napi_get_value_double(env, value, out) == napi_ok;
}

#define ARGS(count)                                                                                           \
  size_t argc = count;                                                                                        \
  napi_value argv[count];                                                                                     \
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != count)                        \
    return throw_error(env, 0, "nabla_native: expected " #count " arguments");

static napi_value number_value(napi_env env, double value) {
  napi_value result;
  napi_create_double(env, value, &result);
  return result;
}

/* ── init(twoToJOver64, powersOfTwo, limit, sixtyFourOverLn2, ln2Over64Hi, ln2Over64Lo) ─────────────────── */

static napi_value init(napi_env env, napi_callback_info info) {
  ARGS(6)
  Array table, powers;
  if (!get_array(env, argv[0], &table) || table.type != napi_float64_array || table.length != 64 ||
      !get_array(env, argv[1], &powers) || powers.type != napi_float64_array || powers.length != 2 * 1011 + 1)
    return throw_error(env, 0, "init: expected exp.ts's tables (Float64Array of 64 and of 2023 values)");
  if (!get_number(env, argv[2], &LIMIT) || !get_number(env, argv[3], &SIXTY_FOUR_OVER_LN2) ||
      !get_number(env, argv[4], &LN2_OVER_64_HI) || !get_number(env, argv[5], &LN2_OVER_64_LO) || !(LIMIT <= 708))
    return throw_error(env, 0, "init: expected exp.ts's four constants (limit at most 708)");
  for (int j = 0; j < 64; j++) TWO_TO_J_OVER_64[j] = ((const double *)table.data)[j];
  for (int i = 0; i < 2 * 1011 + 1; i++) POWERS_OF_TWO[i] = ((const double *)powers.data)[i];
  initialized = 1;
#ifdef HAS_AVX2_PATH
  __builtin_cpu_init();
  use_avx2 = __builtin_cpu_supports("avx2") && getenv("NABLA_NATIVE_SCALAR") == NULL;
  return number_value(env, use_avx2 ? 4 : 1);
#else
  return number_value(env, 1);
#endif
}

/* ── sigmoidBias(out, b, rows, nOut, start) ──────────────────────────────────────────────────────────────────
 * Feedforward's σ: out[i·nOut + j] ← 1 / (1 + e^(−(out[i·nOut + j] + b[j]))) for flat indices start… rows·nOut.
 * Returns the first index whose e^x argument is beyond ±LIMIT or NaN (left as it was: the caller computes it with
 * Math.exp, as exp.ts does, and calls again from the next index), or rows·nOut when all are done.
 * On x86-64 CPUs with AVX2, four values at a time: the same operations lane by lane (vroundpd's floor is exact,
 * vdivpd and the others round each lane as the scalar instruction does, the table values are gathered), so the
 * same bits; a block of four holding a value beyond ±LIMIT is left to the scalar loop. */

#ifdef HAS_AVX2_PATH

/* e^x and σ for four lanes known to be within ±LIMIT, as exp_in_range and the scalar loop compute them. */
__attribute__((target("avx2"))) static inline __m256d sigmoid4(__m256d x) {
  const __m256d k = _mm256_floor_pd(_mm256_add_pd(_mm256_mul_pd(x, _mm256_set1_pd(SIXTY_FOUR_OVER_LN2)), _mm256_set1_pd(0.5)));
  const __m256d r = _mm256_sub_pd(_mm256_sub_pd(x, _mm256_mul_pd(k, _mm256_set1_pd(LN2_OVER_64_HI))), _mm256_mul_pd(k, _mm256_set1_pd(LN2_OVER_64_LO)));
  const __m256d r2 = _mm256_mul_pd(r, r);
  const __m256d low = _mm256_add_pd(r, _mm256_mul_pd(r2, _mm256_add_pd(_mm256_set1_pd(1.0 / 2), _mm256_mul_pd(r, _mm256_set1_pd(1.0 / 6)))));
  const __m256d high = _mm256_mul_pd(_mm256_mul_pd(r2, r2), _mm256_add_pd(_mm256_set1_pd(1.0 / 24), _mm256_mul_pd(r, _mm256_set1_pd(1.0 / 120))));
  const __m256d expm1 = _mm256_add_pd(low, high);
  const __m128i ki = _mm256_cvtpd_epi32(k);
  const __m256d fraction = _mm256_i32gather_pd(TWO_TO_J_OVER_64, _mm_and_si128(ki, _mm_set1_epi32(63)), 8);
  const __m256d power = _mm256_i32gather_pd(POWERS_OF_TWO, _mm_add_epi32(_mm_srai_epi32(ki, 6), _mm_set1_epi32(POWER_BIAS)), 8);
  const __m256d e = _mm256_mul_pd(power, _mm256_add_pd(fraction, _mm256_mul_pd(fraction, expm1)));
  const __m256d one = _mm256_set1_pd(1.0);
  return _mm256_div_pd(one, _mm256_add_pd(one, e));
}

/* −(z + b) for four lanes, and whether all four are within ±LIMIT (false for NaN). */
__attribute__((target("avx2"))) static inline int argument4(__m256d z, __m256d b, __m256d *x) {
  *x = _mm256_xor_pd(_mm256_add_pd(z, b), _mm256_set1_pd(-0.0));
  const __m256d inside = _mm256_and_pd(_mm256_cmp_pd(*x, _mm256_set1_pd(LIMIT), _CMP_LE_OQ), _mm256_cmp_pd(*x, _mm256_set1_pd(-LIMIT), _CMP_GE_OQ));
  return _mm256_movemask_pd(inside) == 0xF;
}

/* σ over o[0…count) with biases b[0…count): how many were done (a multiple of 4, stopping at a block beyond ±LIMIT). */
__attribute__((target("avx2"))) static int64_t sigmoid_avx2_double(double *o, const double *b, int64_t count) {
  int64_t k = 0;
  for (__m256d x; k + 4 <= count && argument4(_mm256_loadu_pd(o + k), _mm256_loadu_pd(b + k), &x); k += 4) _mm256_storeu_pd(o + k, sigmoid4(x));
  return k;
}

__attribute__((target("avx2"))) static int64_t sigmoid_avx2_float(float *o, const float *b, int64_t count) {
  int64_t k = 0;
  for (__m256d x; k + 4 <= count && argument4(_mm256_cvtps_pd(_mm_loadu_ps(o + k)), _mm256_cvtps_pd(_mm_loadu_ps(b + k)), &x); k += 4) {
    _mm_storeu_ps(o + k, _mm256_cvtpd_ps(sigmoid4(x)));
  }
  return k;
}
#define VECTOR_PART(T) if (use_avx2) done = sigmoid_avx2_##T(o + i, bias + j, n_out - j);
#else
#define VECTOR_PART(T)
#endif

/* Row by row (the biases are contiguous within a row): the vector part, then the scalar loop for what is left. */
#define SIGMOID_LOOP(T)                                                                                       \
  {                                                                                                           \
    T *o = (T *)out.data;                                                                                     \
    const T *bias = (const T *)b.data;                                                                        \
    int64_t i = start, j = start % n_out;                                                                     \
    while (i < total) {                                                                                       \
      int64_t done = 0;                                                                                       \
      VECTOR_PART(T)                                                                                          \
      i += done;                                                                                              \
      j += done;                                                                                              \
      for (; j < n_out; i++, j++) {                                                                           \
        const double x = -((double)o[i] + (double)bias[j]);                                                   \
        if (!(x <= LIMIT && x >= -LIMIT)) return number_value(env, (double)i);                               \
        o[i] = (T)(1 / (1 + exp_in_range(x)));                                                                \
      }                                                                                                       \
      j = 0;                                                                                                  \
    }                                                                                                         \
  }

static napi_value sigmoid_bias(napi_env env, napi_callback_info info) {
  ARGS(5)
  if (!initialized) return throw_error(env, 0, "sigmoidBias: init() was not called");
  Array out, b;
  int64_t rows, n_out, start;
  if (!get_array(env, argv[0], &out) || !get_array(env, argv[1], &b) || !is_float(&out) || b.type != out.type)
    return throw_error(env, 0, "sigmoidBias: out and b must be Float64Arrays or Float32Arrays of one type");
  if (!get_index(env, argv[2], &rows) || !get_index(env, argv[3], &n_out) || !get_index(env, argv[4], &start) || n_out == 0)
    return throw_error(env, 1, "sigmoidBias: rows, nOut (> 0) and start must be non-negative integers");
  const int64_t total = rows * n_out;
  if ((uint64_t)total > out.length || (uint64_t)n_out > b.length || start > total)
    return throw_error(env, 1, "sigmoidBias: out needs rows·nOut values, b nOut, and start ≤ rows·nOut");
  if (out.type == napi_float64_array) SIGMOID_LOOP(double) else SIGMOID_LOOP(float)
  return number_value(env, (double)total);
}

/* ── sigmoidPrimeTimes(delta, a, n) ─────────────────────────────────────────────────────────────────────────
 * BP2's Hadamard factor: delta[i] ← delta[i] · (a[i] · (1 − a[i])), σ'(z) = a(1 − a) with a = σ(z). */

#define PRIME_LOOP(T)                                                                                         \
  {                                                                                                           \
    T *d = (T *)delta.data;                                                                                   \
    const T *act = (const T *)a.data;                                                                         \
    for (int64_t i = 0; i < n; i++) {                                                                         \
      const double ai = act[i];                                                                               \
      d[i] = (T)((double)d[i] * (ai * (1 - ai)));                                                             \
    }                                                                                                         \
  }

static napi_value sigmoid_prime_times(napi_env env, napi_callback_info info) {
  ARGS(3)
  Array delta, a;
  int64_t n;
  if (!get_array(env, argv[0], &delta) || !get_array(env, argv[1], &a) || !is_float(&delta) || a.type != delta.type)
    return throw_error(env, 0, "sigmoidPrimeTimes: delta and a must be Float64Arrays or Float32Arrays of one type");
  if (!get_index(env, argv[2], &n) || (uint64_t)n > delta.length || (uint64_t)n > a.length)
    return throw_error(env, 1, "sigmoidPrimeTimes: n must be an integer no larger than either array");
  if (delta.type == napi_float64_array) PRIME_LOOP(double) else PRIME_LOOP(float)
  return NULL;
}

/* ── sumRows(sum, m, first, end, width) ─────────────────────────────────────────────────────────────────────
 * BP3's bias gradient: sum[j] ← Σ_{i = first}^{end−1} m[i·width + j], added in row order from 0. */

#define SUM_ROWS_LOOP(T)                                                                                      \
  {                                                                                                           \
    T *s = (T *)sum.data;                                                                                     \
    const T *rows = (const T *)m.data;                                                                        \
    for (int64_t j = 0; j < width; j++) s[j] = 0;                                                             \
    for (int64_t i = first; i < end; i++) {                                                                   \
      const T *row = rows + i * width;                                                                        \
      for (int64_t j = 0; j < width; j++) s[j] = (T)((double)s[j] + (double)row[j]);                          \
    }                                                                                                         \
  }

static napi_value sum_rows(napi_env env, napi_callback_info info) {
  ARGS(5)
  Array sum, m;
  int64_t first, end, width;
  if (!get_array(env, argv[0], &sum) || !get_array(env, argv[1], &m) || !is_float(&sum) || m.type != sum.type)
    return throw_error(env, 0, "sumRows: sum and m must be Float64Arrays or Float32Arrays of one type");
  if (!get_index(env, argv[2], &first) || !get_index(env, argv[3], &end) || !get_index(env, argv[4], &width) ||
      first > end || (uint64_t)width > sum.length || (uint64_t)(end * width) > m.length)
    return throw_error(env, 1, "sumRows: need first ≤ end, width ≤ sum.length and end·width ≤ m.length");
  if (sum.type == napi_float64_array) SUM_ROWS_LOOP(double) else SUM_ROWS_LOOP(float)
  return NULL;
}

/* param-hash.ts's mixing (see hashWords below): one round of the four lanes over four consecutive words. */
#define MIX4(h0, h1, h2, h3, a, b, c, d)                                                                      \
  do {                                                                                                        \
    h0 = (h0 ^ (a)) * 0x85ebca6bu; h1 = (h1 ^ (b)) * 0xc2b2ae35u;                                             \
    h2 = (h2 ^ (c)) * 0x27d4eb2fu; h3 = (h3 ^ (d)) * 0x165667b1u;                                             \
    h0 ^= h0 >> 15; h1 ^= h1 >> 13; h2 ^= h2 >> 16; h3 ^= h3 >> 15;                                           \
  } while (0)

/* Words into the lanes: word i into lane i mod 4, the last n mod 4 into lane 0 (hashWords' whole rule). */
static void mix_words(uint32_t *lane, const uint32_t *w, size_t n) {
  uint32_t h0 = lane[0], h1 = lane[1], h2 = lane[2], h3 = lane[3];
  const size_t whole = n - n % 4;
  size_t i = 0;
  for (; i < whole; i += 4) MIX4(h0, h1, h2, h3, w[i], w[i + 1], w[i + 2], w[i + 3]);
  for (; i < n; i++) {
    h0 = (h0 ^ w[i]) * 0x85ebca6bu;
    h0 ^= h0 >> 15;
  }
  lane[0] = h0; lane[1] = h1; lane[2] = h2; lane[3] = h3;
}

/* After an array: its length (in values) into lane 0, as paramHash does between the weights and the biases. */
static void mix_length(uint32_t *lane, size_t length) {
  lane[0] = (lane[0] ^ (uint32_t)length) * 0x01000193u;
}

/* The two 32-bit halves of a double, low first (the words an Int32Array over a Float64Array sees, little-endian). */
static inline uint32_t low_word(double x) { uint64_t u; memcpy(&u, &x, 8); return (uint32_t)u; }
static inline uint32_t high_word(double x) { uint64_t u; memcpy(&u, &x, 8); return (uint32_t)(u >> 32); }

/* ── sgdStep(weights, biases, nablaW, nablaB, outW, outB, rate, decay, lanes) ───────────────────────────────
 * sgd.ts's update and fingerprint, same order of operations: w ← decay·w − rate·∇w (four interleaved partial sums
 * of the new weights), b ← b − rate·∇b (a fifth sum); the new values also go to outW/outB (float32, rounded) when
 * those are arrays, not null. Returns ((s0 + s1) + (s2 + s3)) + sb. With `lanes` (an Int32Array of 4, else null),
 * also mixes the new parameters into param-hash.ts's lanes exactly as paramHash(weights, biases) would: the weights'
 * words in the update's own loop (the multiplications run beside its memory traffic instead of in a pass of their
 * own), then their length, the biases' words, their length. */

/* HASHED is a constant of each expansion, not a flag tested in the loop: with the test inside, the plain update ran
 * 0.12 against 0.09 ms and the hashed one 0.40 against 0.33 ms ([784,256,256,10]'s parameters, float32 sums). */
#define SGD_LOOP(N, O, HASHED)                                                                                \
  {                                                                                                           \
    const N *nw = (const N *)nabla_w.data;                                                                    \
    const N *nb = (const N *)nabla_b.data;                                                                    \
    O *ow = (O *)out_w_data;                                                                                  \
    O *ob = (O *)out_b_data;                                                                                  \
    int64_t i = 0;                                                                                            \
    for (; i < whole; i += 4) {                                                                               \
      const double w0 = decay * w[i] - rate * (double)nw[i];                                                  \
      const double w1 = decay * w[i + 1] - rate * (double)nw[i + 1];                                          \
      const double w2 = decay * w[i + 2] - rate * (double)nw[i + 2];                                          \
      const double w3 = decay * w[i + 3] - rate * (double)nw[i + 3];                                          \
      w[i] = w0; w[i + 1] = w1; w[i + 2] = w2; w[i + 3] = w3;                                                 \
      ow[i] = (O)w0; ow[i + 1] = (O)w1; ow[i + 2] = (O)w2; ow[i + 3] = (O)w3;                                 \
      s0 += w0; s1 += w1; s2 += w2; s3 += w3;                                                                 \
      if (HASHED) {                                                                                           \
        /* Words 8k … 8k + 7: lanes 0, 1, 2, 3, 0, 1, 2, 3. */                                                \
        MIX4(h0, h1, h2, h3, low_word(w0), high_word(w0), low_word(w1), high_word(w1));                       \
        MIX4(h0, h1, h2, h3, low_word(w2), high_word(w2), low_word(w3), high_word(w3));                       \
      }                                                                                                       \
    }                                                                                                         \
    for (; i < n_w; i++) {                                                                                    \
      const double wi = decay * w[i] - rate * (double)nw[i];                                                  \
      w[i] = wi;                                                                                              \
      ow[i] = (O)wi;                                                                                          \
      s0 += wi;                                                                                               \
    }                                                                                                         \
    for (int64_t j = 0; j < n_b; j++) {                                                                       \
      const double bj = b[j] - rate * (double)nb[j];                                                          \
      b[j] = bj;                                                                                              \
      ob[j] = (O)bj;                                                                                          \
      sb += bj;                                                                                               \
    }                                                                                                         \
  }

static napi_value sgd_step(napi_env env, napi_callback_info info) {
  ARGS(9)
  Array weights, biases, nabla_w, nabla_b, out_w, out_b, lanes;
  double rate, decay;
  if (!get_array(env, argv[0], &weights) || !get_array(env, argv[1], &biases) ||
      weights.type != napi_float64_array || biases.type != napi_float64_array)
    return throw_error(env, 0, "sgdStep: weights and biases must be Float64Arrays");
  if (!get_array(env, argv[2], &nabla_w) || !get_array(env, argv[3], &nabla_b) || !is_float(&nabla_w) || nabla_b.type != nabla_w.type)
    return throw_error(env, 0, "sgdStep: nablaW and nablaB must be Float64Arrays or Float32Arrays of one type");
  if (nabla_w.length != weights.length || nabla_b.length != biases.length)
    return throw_error(env, 1, "sgdStep: the sums must have as many values as the parameters");
  napi_valuetype out_kind;
  napi_typeof(env, argv[4], &out_kind);
  const int rounded = out_kind != napi_null;
  if (rounded && (!get_array(env, argv[4], &out_w) || !get_array(env, argv[5], &out_b) ||
                  out_w.type != napi_float32_array || out_b.type != napi_float32_array ||
                  out_w.length != weights.length || out_b.length != biases.length))
    return throw_error(env, 0, "sgdStep: outW and outB must be null or Float32Arrays as long as the parameters");
  if (!get_number(env, argv[6], &rate) || !get_number(env, argv[7], &decay))
    return throw_error(env, 0, "sgdStep: rate and decay must be numbers");
  napi_valuetype lanes_kind;
  napi_typeof(env, argv[8], &lanes_kind);
  const int hashed = lanes_kind != napi_null;
  if (hashed && (!get_array(env, argv[8], &lanes) || lanes.type != napi_int32_array || lanes.length != 4))
    return throw_error(env, 0, "sgdStep: lanes must be null or an Int32Array of 4");
  double *w = (double *)weights.data, *b = (double *)biases.data;
  void *out_w_data = rounded ? out_w.data : weights.data, *out_b_data = rounded ? out_b.data : biases.data;
  const int64_t n_w = (int64_t)weights.length, n_b = (int64_t)biases.length, whole = n_w - n_w % 4;
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0, sb = 0;
  uint32_t *lane = hashed ? (uint32_t *)lanes.data : NULL;
  uint32_t h0 = hashed ? lane[0] : 0, h1 = hashed ? lane[1] : 0, h2 = hashed ? lane[2] : 0, h3 = hashed ? lane[3] : 0;
  if (hashed) {
    if (nabla_w.type == napi_float64_array) {
      if (rounded) SGD_LOOP(double, float, 1) else SGD_LOOP(double, double, 1)
    } else {
      if (rounded) SGD_LOOP(float, float, 1) else SGD_LOOP(float, double, 1)
    }
    /* The weights after the loop's groups of four, and the biases: few enough for a pass of their own. */
    lane[0] = h0; lane[1] = h1; lane[2] = h2; lane[3] = h3;
    mix_words(lane, (const uint32_t *)(w + whole), 2 * (size_t)(n_w - whole));
    mix_length(lane, (size_t)n_w);
    mix_words(lane, (const uint32_t *)b, 2 * (size_t)n_b);
    mix_length(lane, (size_t)n_b);
  } else if (nabla_w.type == napi_float64_array) {
    if (rounded) SGD_LOOP(double, float, 0) else SGD_LOOP(double, double, 0)
  } else {
    if (rounded) SGD_LOOP(float, float, 0) else SGD_LOOP(float, double, 0)
  }
  return number_value(env, ((s0 + s1) + (s2 + s3)) + sb);
}

/* ── lookupInts(out, outOffset, ints, intsOffset, count, table) ────────────────────────────────────────────────
 * Stored integer inputs (uint8 pixels, uint16 thousandths) into network form: out[outOffset + k] ←
 * table[ints[intsOffset + k]], the table holding v / divisor for every value the type can hold (256 or 65,536
 * doubles, computed once by the caller): the quotients the division per value gives, without a division each. */

#define LOOKUP_LOOP(T, I)                                                                                     \
  {                                                                                                           \
    T *o = (T *)out.data + out_offset;                                                                        \
    const I *src = (const I *)ints.data + ints_offset;                                                        \
    const double *t = (const double *)table.data;                                                             \
    for (int64_t k = 0; k < count; k++) o[k] = (T)t[src[k]];                                                  \
  }

static napi_value lookup_ints(napi_env env, napi_callback_info info) {
  ARGS(6)
  Array out, ints, table;
  int64_t out_offset, ints_offset, count;
  if (!get_array(env, argv[0], &out) || !is_float(&out) || !get_array(env, argv[2], &ints) ||
      (ints.type != napi_uint8_array && ints.type != napi_uint16_array) || !get_array(env, argv[5], &table) ||
      table.type != napi_float64_array || table.length != (ints.type == napi_uint8_array ? 256u : 65536u))
    return throw_error(env, 0, "lookupInts: out must be a Float64Array or Float32Array, ints a Uint8Array (table: Float64Array of 256) or Uint16Array (table: Float64Array of 65536)");
  if (!get_index(env, argv[1], &out_offset) || !get_index(env, argv[3], &ints_offset) || !get_index(env, argv[4], &count) ||
      (uint64_t)(out_offset + count) > out.length || (uint64_t)(ints_offset + count) > ints.length)
    return throw_error(env, 1, "lookupInts: offsets and count must be integers within both arrays");
  if (ints.type == napi_uint8_array) {
    if (out.type == napi_float64_array) LOOKUP_LOOP(double, uint8_t) else LOOKUP_LOOP(float, uint8_t)
  } else {
    if (out.type == napi_float64_array) LOOKUP_LOOP(double, uint16_t) else LOOKUP_LOOP(float, uint16_t)
  }
  return NULL;
}

/* ── firstNonFinite(values) ─────────────────────────────────────────────────────────────────────────────────
 * The index of the first infinite or NaN value, or -1: every received parameter and gradient is checked. */

/* x − x is 0 for a finite x and NaN for ±∞ and NaN. Blocks of FINITE_BLOCK values are tested without an early exit,
 * which the compiler turns into vector code (elementwise IEEE operations, so no floating-point rule is bent); only a
 * block that holds a bad value is walked again for its first one. */
#define FINITE_BLOCK 2048
#define FINITE_LOOP(T)                                                                                        \
  {                                                                                                           \
    const T *v = (const T *)values.data;                                                                      \
    for (size_t start = 0; start < values.length; start += FINITE_BLOCK) {                                    \
      size_t end = start + FINITE_BLOCK < values.length ? start + FINITE_BLOCK : values.length;               \
      int bad = 0;                                                                                            \
      for (size_t i = start; i < end; i++) {                                                                  \
        T zeroOrNan = v[i] - v[i];                                                                            \
        bad |= zeroOrNan != zeroOrNan;                                                                        \
      }                                                                                                       \
      if (!bad) continue;                                                                                     \
      for (size_t i = start; i < end; i++)                                                                    \
        if (!isfinite(v[i])) return number_value(env, (double)i);                                             \
    }                                                                                                         \
  }

static napi_value first_non_finite(napi_env env, napi_callback_info info) {
  ARGS(1)
  Array values;
  if (!get_array(env, argv[0], &values) || !is_float(&values))
    return throw_error(env, 0, "firstNonFinite: values must be a Float64Array or Float32Array");
  if (values.type == napi_float64_array) FINITE_LOOP(double)
  else FINITE_LOOP(float)
  return number_value(env, -1);
}

/* ── hashWords(words, lanes) ────────────────────────────────────────────────────────────────────────────────
 * param-hash.ts's four lanes over 32-bit words: word i into lane i mod 4 (the last length mod 4 into lane 0), each
 * lane h ← h ⊕ word, h ← h · odd (mod 2³²), h ← h ⊕ (h >> shift). lanes (an Int32Array of 4) is read and updated. */

static napi_value hash_words(napi_env env, napi_callback_info info) {
  ARGS(2)
  Array words, lanes;
  if (!get_array(env, argv[0], &words) || words.type != napi_int32_array || !get_array(env, argv[1], &lanes) ||
      lanes.type != napi_int32_array || lanes.length != 4)
    return throw_error(env, 0, "hashWords: words must be an Int32Array and lanes an Int32Array of 4");
  mix_words((uint32_t *)lanes.data, (const uint32_t *)words.data, words.length);
  return NULL;
}

/* ── module ─────────────────────────────────────────────────────────────────────────────────────────────── */

static napi_value module_init(napi_env env, napi_value exports) {
  const napi_property_descriptor functions[] = {
    {"init", NULL, init, NULL, NULL, NULL, napi_default, NULL},
    {"sigmoidBias", NULL, sigmoid_bias, NULL, NULL, NULL, napi_default, NULL},
    {"sigmoidPrimeTimes", NULL, sigmoid_prime_times, NULL, NULL, NULL, napi_default, NULL},
    {"sumRows", NULL, sum_rows, NULL, NULL, NULL, napi_default, NULL},
    {"sgdStep", NULL, sgd_step, NULL, NULL, NULL, napi_default, NULL},
    {"lookupInts", NULL, lookup_ints, NULL, NULL, NULL, napi_default, NULL},
    {"firstNonFinite", NULL, first_non_finite, NULL, NULL, NULL, napi_default, NULL},
    {"hashWords", NULL, hash_words, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof functions / sizeof functions[0], functions);
  register_shared_map(env, exports);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, module_init)
