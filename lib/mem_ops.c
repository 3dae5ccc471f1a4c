/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * mem_ops.c -- memcpy, memmove, memset and cache flush honouring the
 * VDM_F_* flags, and the table of operation types that the movers run.
 * - x86-64: VDM_F_MEM_DURABLE below a threshold (nt_threshold), and
 *   without flags: cached stores (the C library), then a write-back of
 *   every line when durable. Above the threshold, and at any size with
 *   VDM_F_NO_CACHE_HINT alone: non-temporal stores for the whole lines of
 *   the destination, cached stores for the partial lines at its two ends
 *   (written back when durable), then one sfence, after which the
 *   non-temporal stores have reached memory (the persistence domain) and
 *   need no write-back (see "store paths").
 * - elsewhere: the C library's functions, then (VDM_F_MEM_DURABLE) a
 *   write-back of every line (see "flush paths"); VDM_F_NO_CACHE_HINT
 *   changes nothing.
 */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fault.h"
#include "internal.h"
#include "mem_ops.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#elif defined(__linux__) && (defined(__aarch64__) || \
	defined(__powerpc__) || defined(__powerpc64__))
#include <sys/auxv.h>
#endif

#ifdef MA_FAULT_INJECTION
#include <stdatomic.h>

/* Test build: lines written back since ma_lines_written_back() last read. */
static atomic_ulong lines_written_back;
#define COUNT_LINES(n) atomic_fetch_add_explicit(&lines_written_back, \
	(n), memory_order_relaxed)

unsigned long
ma_lines_written_back(void)
{
	return atomic_exchange_explicit(&lines_written_back, 0,
		memory_order_relaxed);
}
#else
#define COUNT_LINES(n) ((void)0)
#endif

/*
 * Flush paths: how a cache line is written back, picked once at load time
 * (flush_select), before main and before any thread of ours exists.
 * - x86-64: clwb, else clflushopt, else clflush (cpuid), then sfence;
 *   line size from cpuid leaf 1.
 * - aarch64: dc cvap (to the point of persistence) where the processor has
 *   it (Linux HWCAP_DCPOP), else dc cvac (to the point of coherency), then
 *   dsb sy; line size from CTR_EL0.
 * - POWER: dcbf, then sync; line size from the kernel (AT_DCACHEBSIZE).
 * - elsewhere (s390x among them): a full memory fence only.
 * flush_durable says whether the write-back reaches persistence, which is
 * what VDM_F_MEM_DURABLE promises: clwb, clflushopt, clflush, dc cvap and
 * dcbf do; dc cvac only reaches the point of coherency, which need not be
 * persistent, and a fence writes nothing back.
 * Each path writes a range back in a loop of its own (no call per line),
 * as libpmem's pmem_persist does.
 */
typedef void (*flush_range_fn)(uintptr_t line, uintptr_t end,
	size_t stride);

struct flush_path {
	const char *name;
	flush_range_fn range; /* lines from line (aligned) to end; NULL: none */
	void (*drain)(void); /* waits for the lines written back */
	int durable;
};

/* The smallest line the stride may take when the processor does not say. */
#define FLUSH_MIN_LINE 32

#if defined(__x86_64__)

static void
flush_range_clflush(uintptr_t line, uintptr_t end, size_t stride)
{
	for (; line < end; line += stride)
		_mm_clflush((const void *)line);
}

/* clflushopt is clflush with a 0x66 prefix. */
static void
flush_range_clflushopt(uintptr_t line, uintptr_t end, size_t stride)
{
	for (; line < end; line += stride)
		__asm__ volatile(".byte 0x66; clflush %0"
			: "+m"(*(volatile char *)line));
}

/* clwb is xsaveopt with a 0x66 prefix. */
static void
flush_range_clwb(uintptr_t line, uintptr_t end, size_t stride)
{
	for (; line < end; line += stride)
		__asm__ volatile(".byte 0x66; xsaveopt %0"
			: "+m"(*(volatile char *)line));
}

static void
flush_drain_sfence(void)
{
	_mm_sfence();
}

static const struct flush_path flush_clwb = {
	"clwb", flush_range_clwb, flush_drain_sfence, 1 };
static const struct flush_path flush_clflushopt = {
	"clflushopt", flush_range_clflushopt, flush_drain_sfence, 1 };
static const struct flush_path flush_clflush = {
	"clflush", flush_range_clflush, flush_drain_sfence, 1 };

static const struct flush_path *
flush_path_probe(size_t *line_size)
{
	unsigned eax, ebx, ecx, edx;
	const struct flush_path *path = &flush_clflush;

	/* leaf 1, EBX bits 15:8: the clflush line size in 8-byte units */
	if (__get_cpuid(1, &eax, &ebx, &ecx, &edx))
		*line_size = ((ebx >> 8) & 0xff) * 8;
	if (__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) {
		if (ebx & (1U << 24))
			path = &flush_clwb;
		else if (ebx & (1U << 23))
			path = &flush_clflushopt;
	}
	return path;
}

#elif defined(__aarch64__)

#ifndef HWCAP_DCPOP
#define HWCAP_DCPOP (1UL << 16)
#endif

/* dc cvap, spelt as the sys instruction it is (older assemblers). */
static void
flush_range_cvap(uintptr_t line, uintptr_t end, size_t stride)
{
	for (; line < end; line += stride)
		__asm__ volatile("sys #3, c7, c12, #1, %0"
			: : "r"(line) : "memory");
}

static void
flush_range_cvac(uintptr_t line, uintptr_t end, size_t stride)
{
	for (; line < end; line += stride)
		__asm__ volatile("dc cvac, %0" : : "r"(line) : "memory");
}

static void
flush_drain_dsb(void)
{
	__asm__ volatile("dsb sy" : : : "memory");
}

static const struct flush_path flush_cvap = {
	"dc cvap", flush_range_cvap, flush_drain_dsb, 1 };
static const struct flush_path flush_cvac = {
	"dc cvac", flush_range_cvac, flush_drain_dsb, 0 };

/* dc cvap where the kernel says the processor has it (hwcap). */
static const struct flush_path *
flush_path_pick(unsigned long hwcap)
{
	return (hwcap & HWCAP_DCPOP) ? &flush_cvap : &flush_cvac;
}

static const struct flush_path *
flush_path_probe(size_t *line_size)
{
	uint64_t ctr;
	unsigned long hwcap = 0;

	/* CTR_EL0 DminLine, bits 19:16: log2 of the smallest line in words */
	__asm__ volatile("mrs %0, ctr_el0" : "=r"(ctr));
	*line_size = (size_t)4 << ((ctr >> 16) & 0xf);
#ifdef __linux__
	hwcap = getauxval(AT_HWCAP);
#endif
	return flush_path_pick(hwcap);
}

#ifdef MA_FAULT_INJECTION
const char *
ma_flush_path_for_hwcap(unsigned long hwcap)
{
	return flush_path_pick(hwcap)->name;
}
#endif

#elif defined(__powerpc__) || defined(__powerpc64__)

static void
flush_range_dcbf(uintptr_t line, uintptr_t end, size_t stride)
{
	for (; line < end; line += stride)
		__asm__ volatile("dcbf 0,%0" : : "r"(line) : "memory");
}

static void
flush_drain_sync(void)
{
	__asm__ volatile("sync" : : : "memory");
}

static const struct flush_path flush_dcbf = {
	"dcbf", flush_range_dcbf, flush_drain_sync, 1 };

static const struct flush_path *
flush_path_probe(size_t *line_size)
{
#if defined(__linux__) && defined(AT_DCACHEBSIZE)
	*line_size = (size_t)getauxval(AT_DCACHEBSIZE);
#endif
	return &flush_dcbf;
}

#else /* fence only */

static const struct flush_path *
flush_path_probe(size_t *line_size)
{
	(void)line_size;
	return NULL;
}

#endif

static const struct flush_path flush_fence = { "fence", NULL, NULL, 0 };

/* The flush of the "fence" path: a full memory fence, nothing written back. */
static void
flush_fence_only(void)
{
#if defined(__x86_64__)
	_mm_mfence(); /* (not reached after flush_select; TSan takes this) */
#else
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}

static const struct flush_path *flush_path = &flush_fence;
static size_t flush_stride = FLUSH_MIN_LINE;

static void store_select(void);

__attribute__((constructor)) static void
flush_select(void)
{
	size_t line = 0;
	const struct flush_path *path = flush_path_probe(&line);

	store_select();
	if (path == NULL)
		return;
	/* a line the processor did not tell, or nonsense: the safe minimum */
	if (line < FLUSH_MIN_LINE || (line & (line - 1)) != 0)
		line = FLUSH_MIN_LINE;
	flush_stride = line;
	flush_path = path;
}

/*
 * Starts the write-back of the lines of [addr, addr + n), n > 0, without
 * waiting for it (nothing on the "fence" path).
 */
static inline void
write_back(const void *addr, size_t n)
{
	const struct flush_path *path = flush_path;
	size_t stride = flush_stride;
	uintptr_t line = (uintptr_t)addr & ~(uintptr_t)(stride - 1);
	uintptr_t end = (uintptr_t)addr + n;

	if (path->range == NULL)
		return;
	path->range(line, end, stride);
	COUNT_LINES((end - line + stride - 1) / stride);
}

void
ma_flush(const void *addr, size_t n)
{
	const struct flush_path *path = flush_path;

	if (n == 0)
		return;
	if (path->range == NULL) {
		flush_fence_only();
		return;
	}
	write_back(addr, n);
	path->drain();
}

unsigned
ma_mem_capabilities(void)
{
	return VDM_F_NO_CACHE_HINT |
		(flush_path->durable ? VDM_F_MEM_DURABLE : 0u);
}

#ifdef MA_FAULT_INJECTION
const char *
ma_flush_path_name(void)
{
	return flush_path->name;
}

size_t
ma_flush_line_size(void)
{
	return flush_path->range != NULL ? flush_stride : 0;
}
#endif

#if defined(__x86_64__)

/*
 * Store paths (x86-64): the loops that write whole 64-byte lines of the
 * destination with non-temporal stores (which go to memory through the
 * write-combining buffers, not through the cache: no line is read for
 * ownership, and none is left dirty), picked once at load time like the
 * flush path: "avx" (32-byte vmovntdq) where the processor has AVX and the
 * system saves its registers, else "sse2" (16-byte movntdq), which every
 * x86-64 processor has. Loads are unaligned; the destination of a loop is
 * always 64-byte aligned. AVX-512 has no loop: see doc/design.md.
 *
 * Overlap: each loop reads a line before it writes it, and walks up
 * (copy_up, for dest below src) or down (copy_down, for dest above src),
 * so a line it reads has not been overwritten yet.
 */
#define LINE 64

struct store_path {
	const char *name;
	void (*copy_up)(char *d, const char *s, size_t lines);
	void (*copy_down)(char *d, const char *s, size_t lines);
	void (*set)(char *d, int c, size_t lines);
};

/*
 * The sizes from which a durable operation stores non-temporally
 * (measured on AMD EPYC, Zen 3, with clwb: see doc/design.md, "Durable
 * writes"): NT_THRESHOLD in general; NT_ALIGNED_THRESHOLD when the
 * destination starts and ends on an 8-byte boundary, since then no line
 * needs a write-back (the edges too are stored non-temporally, 8 bytes
 * at a time); a write-back of a line costs about as much as a whole
 * operation of a few lines stored non-temporally. Below them, cached
 * stores and a write-back.
 */
#define NT_THRESHOLD 256
#define NT_ALIGNED_THRESHOLD 8

static size_t nt_threshold = NT_THRESHOLD;
static size_t nt_aligned_threshold = NT_ALIGNED_THRESHOLD;

/*
 * Each non-temporal store is followed by a compiler barrier, so that the
 * stores go out in program order (ascending within a line): left to
 * itself the compiler scatters a block's halves of lines, which measured
 * 2 % slower at 256 bytes (doc/design.md).
 */
#define IN_ORDER() __asm__ __volatile__("" ::: "memory")
#define LOAD16(p) _mm_loadu_si128((const __m128i *)(const void *)(p))
#define STREAM16(p, v) do { \
	_mm_stream_si128((__m128i *)(void *)(p), (v)); \
	IN_ORDER(); \
} while (0)

/*
 * A copy first asks for the first PREFETCH_LINES lines of its source, in
 * the direction it walks: a source not in the cache then arrives in one
 * overlapped wait rather than a few lines at a time behind the loop's
 * loads (the hardware prefetcher stops at each 4 KiB page). It measured
 * 5-7 % faster for durable 4 KiB copies from memory; beyond the first
 * 4 KiB the hardware prefetcher keeps up (doc/design.md). The first
 * PREFETCH_SKIP lines are left out: the loop's first block loads them
 * at once, and a copy of 256 bytes or less asks for nothing.
 */
#define PREFETCH_LINES 64
#define PREFETCH_SKIP 4

static inline void
prefetch_up(const char *s, size_t lines)
{
	size_t k = lines < PREFETCH_LINES ? lines : PREFETCH_LINES;

	for (size_t i = PREFETCH_SKIP; i < k; i++)
		_mm_prefetch(s + i * LINE, _MM_HINT_T0);
}

/* The same for a copy walking down from end. */
static inline void
prefetch_down(const char *end, size_t lines)
{
	size_t k = lines < PREFETCH_LINES ? lines : PREFETCH_LINES;

	for (size_t i = PREFETCH_SKIP + 1; i <= k; i++)
		_mm_prefetch(end - i * LINE, _MM_HINT_T0);
}

static inline void
sse2_line(char *d, const char *s)
{
	__m128i a = LOAD16(s);
	__m128i b = LOAD16(s + 16);
	__m128i c = LOAD16(s + 32);
	__m128i e = LOAD16(s + 48);

	STREAM16(d, a);
	STREAM16(d + 16, b);
	STREAM16(d + 32, c);
	STREAM16(d + 48, e);
}

static void
sse2_copy_up(char *d, const char *s, size_t lines)
{
	prefetch_up(s, lines);
	for (; lines >= 2; lines -= 2, d += 2 * LINE, s += 2 * LINE) {
		sse2_line(d, s);
		sse2_line(d + LINE, s + LINE);
	}
	if (lines != 0)
		sse2_line(d, s);
}

static void
sse2_copy_down(char *d, const char *s, size_t lines)
{
	d += lines * LINE;
	s += lines * LINE;
	prefetch_down(s, lines);
	for (; lines >= 2; lines -= 2) {
		d -= 2 * LINE;
		s -= 2 * LINE;
		sse2_line(d + LINE, s + LINE);
		sse2_line(d, s);
	}
	if (lines != 0)
		sse2_line(d - LINE, s - LINE);
}

static void
sse2_set(char *d, int c, size_t lines)
{
	__m128i v = _mm_set1_epi8((char)c);

	for (; lines != 0; lines--, d += LINE) {
		STREAM16(d, v);
		STREAM16(d + 16, v);
		STREAM16(d + 32, v);
		STREAM16(d + 48, v);
	}
}

static const struct store_path store_sse2 = {
	"sse2", sse2_copy_up, sse2_copy_down, sse2_set };

#define AVX __attribute__((target("avx")))
#define LOAD32(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))
#define STREAM32(p, v) do { \
	_mm256_stream_si256((__m256i *)(void *)(p), (v)); \
	IN_ORDER(); \
} while (0)

static inline AVX void
avx_line(char *d, const char *s)
{
	__m256i a = LOAD32(s);
	__m256i b = LOAD32(s + 32);

	STREAM32(d, a);
	STREAM32(d + 32, b);
}

/* Four lines: all eight loads, then the eight stores. */
static inline AVX void
avx_4lines(char *d, const char *s)
{
	__m256i a = LOAD32(s);
	__m256i b = LOAD32(s + 32);
	__m256i c = LOAD32(s + 64);
	__m256i e = LOAD32(s + 96);
	__m256i f = LOAD32(s + 128);
	__m256i g = LOAD32(s + 160);
	__m256i h = LOAD32(s + 192);
	__m256i i = LOAD32(s + 224);

	STREAM32(d, a);
	STREAM32(d + 32, b);
	STREAM32(d + 64, c);
	STREAM32(d + 96, e);
	STREAM32(d + 128, f);
	STREAM32(d + 160, g);
	STREAM32(d + 192, h);
	STREAM32(d + 224, i);
}

static AVX void
avx_copy_up(char *d, const char *s, size_t lines)
{
	prefetch_up(s, lines);
	for (; lines >= 4; lines -= 4, d += 4 * LINE, s += 4 * LINE)
		avx_4lines(d, s);
	for (; lines != 0; lines--, d += LINE, s += LINE)
		avx_line(d, s);
}

static AVX void
avx_copy_down(char *d, const char *s, size_t lines)
{
	d += lines * LINE;
	s += lines * LINE;
	prefetch_down(s, lines);
	for (; lines >= 4; lines -= 4) {
		d -= 4 * LINE;
		s -= 4 * LINE;
		avx_4lines(d, s);
	}
	for (; lines != 0; lines--) {
		d -= LINE;
		s -= LINE;
		avx_line(d, s);
	}
}

static AVX void
avx_set(char *d, int c, size_t lines)
{
	__m256i v = _mm256_set1_epi8((char)c);

	for (; lines != 0; lines--, d += LINE) {
		STREAM32(d, v);
		STREAM32(d + 32, v);
	}
}

static const struct store_path store_avx = {
	"avx", avx_copy_up, avx_copy_down, avx_set };

static const struct store_path *store_path = &store_sse2;

/* The processor features a store path needs (MA_CPU_* of mem_ops.h). */
static unsigned
cpu_features(void)
{
	unsigned eax, ebx, ecx, edx, xcr0_lo, xcr0_hi;
	unsigned features = 0;

	if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx))
		return 0;
	/* AVX (bit 28), and OSXSAVE (bit 27): xgetbv tells what is saved */
	if ((ecx & (1U << 28)) && (ecx & (1U << 27))) {
		__asm__ volatile("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi)
			: "c"(0));
		(void)xcr0_hi;
		/* the system saves the SSE and the AVX (YMM) state */
		if ((xcr0_lo & 6) == 6)
			features |= MA_CPU_AVX;
	}
	return features;
}

static const struct store_path *
store_path_pick(unsigned features)
{
	return (features & MA_CPU_AVX) ? &store_avx : &store_sse2;
}

static void
store_select(void)
{
	store_path = store_path_pick(cpu_features());
}

/* Whether n bytes at d, with these flags, are stored non-temporally. */
static inline int
store_nt(const void *d, size_t n, unsigned flags)
{
	if (flags & VDM_F_MEM_DURABLE)
		return n >= nt_threshold || (n >= nt_aligned_threshold &&
			(((uintptr_t)d | n) & 7) == 0);
	return (flags & VDM_F_NO_CACHE_HINT) != 0;
}

/*
 * A partial line at an end of the destination, n < 64: when it starts
 * and ends on an 8-byte boundary, 8-byte non-temporal stores (movnti;
 * read whole first, as the ranges may overlap); else cached stores (a
 * memmove), written back when durable.
 */
static inline void
edge_copy(char *d, const char *s, size_t n, int durable)
{
	if (n == 0)
		return;
	if ((((uintptr_t)d | n) & 7) == 0) {
		long long w[LINE / 8];

		memcpy(w, s, n);
		for (size_t i = 0; i < n / 8; i++)
			_mm_stream_si64((long long *)(void *)d + i, w[i]);
		return;
	}
	memmove(d, s, n);
	if (durable)
		write_back(d, n);
}

static inline void
edge_set(char *d, int c, size_t n, int durable)
{
	if (n == 0)
		return;
	if ((((uintptr_t)d | n) & 7) == 0) {
		long long w = (long long)(0x0101010101010101ULL *
			(unsigned char)c);

		for (size_t i = 0; i < n / 8; i++)
			_mm_stream_si64((long long *)(void *)d + i, w);
		return;
	}
	memset(d, c, n);
	if (durable)
		write_back(d, n);
}

/* Splits [d, d + n) into a partial head, whole lines and a partial tail. */
static inline void
split_lines(const char *d, size_t n, size_t *head, size_t *lines,
	size_t *tail)
{
	size_t h = (size_t)(-(uintptr_t)d & (LINE - 1));

	if (h > n)
		h = n;
	*head = h;
	*lines = (n - h) / LINE;
	*tail = n - h - *lines * LINE;
}

/*
 * Copies n > 0 bytes, the ranges overlapping or not (as memmove may):
 * walking down when dest is above src. One sfence at the end drains the
 * non-temporal stores and the write-backs of the edges together.
 */
static inline void
copy_nt(char *d, const char *s, size_t n, int durable)
{
	const struct store_path *path = store_path;
	size_t head, lines, tail;

	split_lines(d, n, &head, &lines, &tail);
	if ((uintptr_t)d - (uintptr_t)s >= n) {
		/* dest below src, or no overlap: upwards */
		edge_copy(d, s, head, durable);
		path->copy_up(d + head, s + head, lines);
		edge_copy(d + n - tail, s + n - tail, tail, durable);
	} else {
		edge_copy(d + n - tail, s + n - tail, tail, durable);
		path->copy_down(d + head, s + head, lines);
		edge_copy(d, s, head, durable);
	}
	_mm_sfence();
}

static inline void
set_nt(char *d, int c, size_t n, int durable)
{
	size_t head, lines, tail;

	split_lines(d, n, &head, &lines, &tail);
	edge_set(d, c, head, durable);
	store_path->set(d + head, c, lines);
	edge_set(d + n - tail, c, tail, durable);
	_mm_sfence();
}

#ifdef MA_FAULT_INJECTION
const char *
ma_store_path_name(void)
{
	return store_path->name;
}

const char *
ma_store_path_for(unsigned features)
{
	return store_path_pick(features)->name;
}

int
ma_store_path_force(const char *name)
{
	static const struct store_path *const paths[] = {
		&store_sse2, &store_avx,
	};
	static const unsigned needs[] = { 0, MA_CPU_AVX };

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		if (strcmp(name, paths[i]->name) != 0)
			continue;
		if ((cpu_features() & needs[i]) != needs[i])
			return -1;
		store_path = paths[i];
		return 0;
	}
	return -1;
}

void
ma_store_path_reset(void)
{
	store_select();
	nt_threshold = NT_THRESHOLD;
	nt_aligned_threshold = NT_ALIGNED_THRESHOLD;
}

size_t
ma_store_nt_threshold(int aligned)
{
	return aligned ? nt_aligned_threshold : nt_threshold;
}

void
ma_store_nt_threshold_force(size_t n, size_t aligned)
{
	nt_threshold = n;
	nt_aligned_threshold = aligned;
}

int
ma_store_uses_nt(const void *d, size_t n, unsigned flags)
{
	return n != 0 && store_nt(d, n, flags);
}
#endif

#define HAVE_NT 1

#else /* not x86-64: no store paths */

static void
store_select(void)
{
}

#define HAVE_NT 0
#define store_nt(d, n, flags) 0
#define copy_nt(d, s, n, durable) ((void)0)
#define set_nt(d, c, n, durable) ((void)0)

#ifdef MA_FAULT_INJECTION
const char *
ma_store_path_name(void)
{
	return "none";
}

int
ma_store_path_force(const char *name)
{
	return strcmp(name, "none") == 0 ? 0 : -1;
}

void
ma_store_path_reset(void)
{
}

size_t
ma_store_nt_threshold(int aligned)
{
	(void)aligned;
	return SIZE_MAX;
}

void
ma_store_nt_threshold_force(size_t n, size_t aligned)
{
	(void)n;
	(void)aligned;
}

int
ma_store_uses_nt(const void *d, size_t n, unsigned flags)
{
	(void)d;
	(void)n;
	(void)flags;
	return 0;
}
#endif

#endif

/*
 * The three below are inlined into ma_op_run_lib too: a durable write of
 * a few lines costs little more than its sfence, and every store a call
 * makes (a return address, a saved register) waits behind the sfence of
 * the write before it (see doc/design.md, "Durable writes").
 */

/* n == 0 touches nothing, whatever the pointers are (even NULL). */
static inline void *
do_memcpy(void *dest, const void *src, size_t n, unsigned flags)
{
	if (n == 0)
		return dest;
	if (HAVE_NT && store_nt(dest, n, flags)) {
		copy_nt(dest, src, n, (flags & VDM_F_MEM_DURABLE) != 0);
		return dest;
	}
	memcpy(dest, src, n);
	if (flags & VDM_F_MEM_DURABLE)
		ma_flush(dest, n);
	return dest;
}

/* The same as ma_memcpy: its loops walk in the direction overlap needs. */
static inline void *
do_memmove(void *dest, const void *src, size_t n, unsigned flags)
{
	if (n == 0)
		return dest;
	if (HAVE_NT && store_nt(dest, n, flags) && dest != src) {
		copy_nt(dest, src, n, (flags & VDM_F_MEM_DURABLE) != 0);
		return dest;
	}
	memmove(dest, src, n);
	if (flags & VDM_F_MEM_DURABLE)
		ma_flush(dest, n);
	return dest;
}

static inline void *
do_memset(void *str, int c, size_t n, unsigned flags)
{
	if (n == 0)
		return str;
	if (HAVE_NT && store_nt(str, n, flags)) {
		set_nt(str, c, n, (flags & VDM_F_MEM_DURABLE) != 0);
		return str;
	}
	memset(str, c, n);
	if (flags & VDM_F_MEM_DURABLE)
		ma_flush(str, n);
	return str;
}

void *
ma_memcpy(void *dest, const void *src, size_t n, unsigned flags)
{
	return do_memcpy(dest, src, n, flags);
}

void *
ma_memmove(void *dest, const void *src, size_t n, unsigned flags)
{
	return do_memmove(dest, src, n, flags);
}

void *
ma_memset(void *str, int c, size_t n, unsigned flags)
{
	return do_memset(str, c, n, flags);
}

const struct ma_mem_fns ma_mem_fns_lib = {
	.copy = ma_memcpy,
	.move = ma_memmove,
	.set = ma_memset,
};

/* --- The table of operations ------------------------------------------ */

#define NO_FIELD SIZE_MAX

/* Where an operation type keeps its arguments, and how it runs. */
struct op_row {
	size_t dest, src, n, flags; /* offsets in op->data; src may be none */
	size_t fn; /* offset of its function in ma_mem_fns, or none */
	int splits; /* ranges may run apart (unless src and dest overlap) */
	int outputs_dest; /* the output is dest (else 0) */
	void (*run)(const struct ma_mem_fns *fns, char *dest, const char *src,
		const struct vdm_operation *op, size_t len, unsigned flags);
};

static void
run_copy(const struct ma_mem_fns *fns, char *dest, const char *src,
	const struct vdm_operation *op, size_t len, unsigned flags)
{
	(void)op;
	fns->copy(dest, (void *)(uintptr_t)src, len, flags);
}

static void
run_move(const struct ma_mem_fns *fns, char *dest, const char *src,
	const struct vdm_operation *op, size_t len, unsigned flags)
{
	(void)op;
	fns->move(dest, (void *)(uintptr_t)src, len, flags);
}

static void
run_set(const struct ma_mem_fns *fns, char *dest, const char *src,
	const struct vdm_operation *op, size_t len, unsigned flags)
{
	(void)src;
	fns->set(dest, op->data.memset.c, len, flags);
}

static void
run_flush(const struct ma_mem_fns *fns, char *dest, const char *src,
	const struct vdm_operation *op, size_t len, unsigned flags)
{
	(void)fns;
	(void)src;
	(void)op;
	(void)flags;
	ma_flush(dest, len);
}

#define DATA(type, member) offsetof(struct vdm_operation_data_##type, member)

static const struct op_row op_rows[] = {
	[VDM_OPERATION_MEMCPY] = {
		DATA(memcpy, dest), DATA(memcpy, src), DATA(memcpy, n),
		DATA(memcpy, flags), offsetof(struct ma_mem_fns, copy),
		1, 1, run_copy,
	},
	[VDM_OPERATION_MEMMOVE] = {
		DATA(memmove, dest), DATA(memmove, src), DATA(memmove, n),
		DATA(memmove, flags), offsetof(struct ma_mem_fns, move),
		1, 1, run_move,
	},
	[VDM_OPERATION_MEMSET] = {
		DATA(memset, str), NO_FIELD, DATA(memset, n),
		DATA(memset, flags), offsetof(struct ma_mem_fns, set),
		1, 1, run_set,
	},
	[VDM_OPERATION_FLUSH] = {
		DATA(flush, dest), NO_FIELD, DATA(flush, n),
		NO_FIELD, NO_FIELD,
		1, 0, run_flush,
	},
};

/* The row of a known type, or NULL. */
static const struct op_row *
op_row(const struct vdm_operation *op)
{
	if ((unsigned)op->type >= sizeof(op_rows) / sizeof(op_rows[0]))
		return NULL;
	return &op_rows[op->type];
}

#define FIELD(op, off, type) (*(type const *)(const void *)\
	((const char *)&(op)->data + (off)))

static size_t
row_n(const struct op_row *row, const struct vdm_operation *op)
{
	return FIELD(op, row->n, size_t);
}

static unsigned
row_flags(const struct op_row *row, const struct vdm_operation *op)
{
	return row->flags == NO_FIELD ? 0 :
		(unsigned)FIELD(op, row->flags, uint64_t);
}

size_t
ma_op_size(const struct vdm_operation *op)
{
	const struct op_row *row = op_row(op);

	return row == NULL ? 0 : row_n(row, op);
}

int
ma_op_valid(const struct vdm_operation *op)
{
	const struct op_row *row = op_row(op);

	if (row == NULL)
		return 0;
	size_t n = row_n(row, op);

	return ma_range_ok(FIELD(op, row->dest, void *), n) &&
		(row->src == NO_FIELD ||
		ma_range_ok(FIELD(op, row->src, void *), n));
}

int
ma_op_splits(const struct vdm_operation *op)
{
	const struct op_row *row = op_row(op);

	if (row == NULL || !row->splits)
		return 0;
	if (row->src == NO_FIELD)
		return 1;
	/* overlapping ranges are done in one go, in the right direction */
	uintptr_t d = (uintptr_t)FIELD(op, row->dest, void *);
	uintptr_t s = (uintptr_t)FIELD(op, row->src, void *);
	size_t n = row_n(row, op);

	return d + n <= s || s + n <= d;
}

void
ma_op_run(const struct ma_mem_fns *fns, const struct vdm_operation *op,
	size_t off, size_t len)
{
	const struct op_row *row = op_row(op);

	if (row == NULL || len == 0)
		return; /* touches nothing, not even a NULL pointer's offset */
	char *dest = (char *)FIELD(op, row->dest, void *) + off;
	const char *src = row->src == NO_FIELD ? NULL :
		(const char *)FIELD(op, row->src, void *) + off;
	unsigned flags = row_flags(row, op);

	row->run(fns, dest, src, op, len, flags);
	if ((flags & VDM_F_MEM_DURABLE) && row->fn != NO_FIELD &&
			fns != &ma_mem_fns_lib &&
			memcmp((const char *)fns + row->fn,
				(const char *)&ma_mem_fns_lib + row->fn,
				sizeof(memcpy_fn)) != 0) {
		ma_flush(dest, len); /* a user's function wrote the bytes */
		ma_test_note(MA_TEST_WRITTEN_BACK, len);
	}
}

/*
 * A valid flush, or memcpy, memmove or memset of whole 64-byte lines
 * stored non-temporally: the output, then the write-back or the store
 * loop and the fence, nothing else. Each check is written out for its
 * type rather than read from op_rows, and no register is saved on the
 * way, since every instruction and store between one durable write's
 * sfence and the next write's loads adds to its time (doc/design.md,
 * "Durable writes"). 1 when done, 0 (nothing written) when the operation
 * is not of that kind.
 */
static inline int
run_direct(const struct vdm_operation *op,
	struct vdm_operation_output *output)
{
	if (op->type == VDM_OPERATION_FLUSH) {
		const struct vdm_operation_data_flush *f = &op->data.flush;

		if (!ma_range_ok(f->dest, f->n))
			return 0;
		ma_output_success(op, output, NULL);
		ma_flush(f->dest, f->n);
		return 1;
	}
#if HAVE_NT
	/*
	 * Each branch reads the operation before it writes the output: for
	 * all the compiler knows the two overlap, and reading it again after
	 * would take a register more, saved (stored) on entry.
	 */
	if (op->type == VDM_OPERATION_MEMSET) {
		char *d = op->data.memset.str;
		size_t n = op->data.memset.n;
		int c = op->data.memset.c;

		if (n == 0 || (((uintptr_t)d | n) & (LINE - 1)) ||
				!store_nt(d, n,
				(unsigned)op->data.memset.flags) ||
				!ma_range_ok(d, n))
			return 0;
		ma_output_success(op, output, d);
		store_path->set(d, c, n / LINE);
	} else {
		/* memcpy and memmove have the same layout */
		const struct vdm_operation_data_memcpy *m = &op->data.memcpy;
		char *d = m->dest;
		const char *s = m->src;
		size_t n = m->n;

		if (op->type != VDM_OPERATION_MEMCPY &&
				op->type != VDM_OPERATION_MEMMOVE)
			return 0;
		if (n == 0 || (((uintptr_t)d | n) & (LINE - 1)) ||
				!store_nt(d, n, (unsigned)m->flags) || d == s ||
				!ma_range_ok(d, n) || !ma_range_ok(s, n))
			return 0;
		ma_output_success(op, output, d);
		if ((uintptr_t)d - (uintptr_t)s >= n)
			store_path->copy_up(d, s, n / LINE);
		else
			store_path->copy_down(d, s, n / LINE);
	}
	_mm_sfence();
	return 1;
#else
	(void)op;
	(void)output;
	return 0;
#endif
}

int
ma_op_run_lib(const struct vdm_operation *op)
{
	const struct vdm_operation_data_memcpy *c = &op->data.memcpy;
	const struct vdm_operation_data_memmove *m = &op->data.memmove;
	const struct vdm_operation_data_memset *s = &op->data.memset;

	if (!ma_op_valid(op))
		return 0;
	switch (op->type) {
	case VDM_OPERATION_MEMCPY:
		do_memcpy(c->dest, c->src, c->n, (unsigned)c->flags);
		break;
	case VDM_OPERATION_MEMMOVE:
		do_memmove(m->dest, m->src, m->n, (unsigned)m->flags);
		break;
	case VDM_OPERATION_MEMSET:
		do_memset(s->str, s->c, s->n, (unsigned)s->flags);
		break;
	default:
		ma_op_run(&ma_mem_fns_lib, op, 0, ma_op_size(op));
		break;
	}
	return 1;
}

void
ma_op_add_flags(struct vdm_operation *op, uint64_t flags)
{
	const struct op_row *row = op_row(op);

	if (row != NULL && row->flags != NO_FIELD)
		*(uint64_t *)(void *)((char *)&op->data + row->flags) |= flags;
}

void
ma_op_output(const struct vdm_operation *op,
	struct vdm_operation_output *output)
{
	const struct op_row *row = op_row(op);

	if (!ma_op_valid(op)) {
		output->type = op->type;
		output->result = VDM_ERROR_JOB_CORRUPTED;
		output->output.memcpy.dest = NULL;
		return;
	}
	ma_output_success(op, output, row->outputs_dest ?
		FIELD(op, row->dest, void *) : NULL);
}

/*
 * The rest of ma_op_run_complete: apart, so that its direct path saves no
 * register (a push is a store too).
 */
static __attribute__((noinline)) enum future_state
run_complete_lib(const struct vdm_operation *op,
	struct vdm_operation_output *output)
{
	ma_op_output(op, output);
	if (output->result == VDM_SUCCESS)
		ma_op_run_lib(op);
	return FUTURE_STATE_COMPLETE;
}

enum future_state
ma_op_run_complete(const struct vdm_operation *op,
	struct vdm_operation_output *output)
{
	if (run_direct(op, output))
		return FUTURE_STATE_COMPLETE;
	return run_complete_lib(op, output);
}
