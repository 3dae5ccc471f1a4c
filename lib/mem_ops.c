/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * mem_ops.c -- memcpy, memmove, memset and cache flush honouring the
 * VDM_F_* flags:
 * - VDM_F_NO_CACHE_HINT: non-temporal (cache-bypassing) stores for the
 *   aligned body of the destination, then a store fence (x86-64; the
 *   plain C functions elsewhere);
 * - VDM_F_MEM_DURABLE and flushes: every cache line of the destination is
 *   written back, then the write-backs are waited for (see "flush paths").
 */

#include <string.h>

#include "internal.h"
#include "mem_ops.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <emmintrin.h>
#elif defined(__linux__) && (defined(__aarch64__) || \
	defined(__powerpc__) || defined(__powerpc64__))
#include <sys/auxv.h>
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
 */
typedef void (*flush_line_fn)(const char *line);

struct flush_path {
	const char *name;
	flush_line_fn line; /* NULL: fence only */
	void (*drain)(void); /* waits for the lines written back */
	int durable;
};

/* The smallest line the stride may take when the processor does not say. */
#define FLUSH_MIN_LINE 32

#if defined(__x86_64__)

static void
flush_line_clflush(const char *line)
{
	_mm_clflush(line);
}

/* clflushopt is clflush with a 0x66 prefix. */
static void
flush_line_clflushopt(const char *line)
{
	__asm__ volatile(".byte 0x66; clflush %0" : "+m"(*(volatile char *)line));
}

/* clwb is xsaveopt with a 0x66 prefix. */
static void
flush_line_clwb(const char *line)
{
	__asm__ volatile(".byte 0x66; xsaveopt %0" : "+m"(*(volatile char *)line));
}

static void
flush_drain_sfence(void)
{
	_mm_sfence();
}

static const struct flush_path flush_clwb = {
	"clwb", flush_line_clwb, flush_drain_sfence, 1 };
static const struct flush_path flush_clflushopt = {
	"clflushopt", flush_line_clflushopt, flush_drain_sfence, 1 };
static const struct flush_path flush_clflush = {
	"clflush", flush_line_clflush, flush_drain_sfence, 1 };

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
flush_line_cvap(const char *line)
{
	__asm__ volatile("sys #3, c7, c12, #1, %0" : : "r"(line) : "memory");
}

static void
flush_line_cvac(const char *line)
{
	__asm__ volatile("dc cvac, %0" : : "r"(line) : "memory");
}

static void
flush_drain_dsb(void)
{
	__asm__ volatile("dsb sy" : : : "memory");
}

static const struct flush_path flush_cvap = {
	"dc cvap", flush_line_cvap, flush_drain_dsb, 1 };
static const struct flush_path flush_cvac = {
	"dc cvac", flush_line_cvac, flush_drain_dsb, 0 };

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
flush_line_dcbf(const char *line)
{
	__asm__ volatile("dcbf 0,%0" : : "r"(line) : "memory");
}

static void
flush_drain_sync(void)
{
	__asm__ volatile("sync" : : : "memory");
}

static const struct flush_path flush_dcbf = {
	"dcbf", flush_line_dcbf, flush_drain_sync, 1 };

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

__attribute__((constructor)) static void
flush_select(void)
{
	size_t line = 0;
	const struct flush_path *path = flush_path_probe(&line);

	if (path == NULL)
		return;
	/* a line the processor did not tell, or nonsense: the safe minimum */
	if (line < FLUSH_MIN_LINE || (line & (line - 1)) != 0)
		line = FLUSH_MIN_LINE;
	flush_stride = line;
	flush_path = path;
}

void
ma_flush(const void *addr, size_t n)
{
	const struct flush_path *path = flush_path;

	if (n == 0)
		return;
	if (path->line == NULL) {
		flush_fence_only();
		return;
	}
	uintptr_t line = (uintptr_t)addr & ~(uintptr_t)(flush_stride - 1);
	uintptr_t end = (uintptr_t)addr + n;

	for (; line < end; line += flush_stride)
		path->line((const char *)line);
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
	return flush_path->line != NULL ? flush_stride : 0;
}
#endif

#if defined(__x86_64__)

/* Bytes from p to the next 16-byte boundary, at most n. */
static size_t
head_bytes(const void *p, size_t n)
{
	size_t head = (size_t)(-(uintptr_t)p & 15);

	return head < n ? head : n;
}

/* memcpy with non-temporal stores for the 16-byte aligned body. */
static void
copy_nocache(char *d, const char *s, size_t n)
{
	size_t head = head_bytes(d, n);

	memcpy(d, s, head);
	d += head;
	s += head;
	n -= head;
	for (; n >= 64; n -= 64, d += 64, s += 64) {
		__m128i a = _mm_loadu_si128((const __m128i *)(const void *)s);
		__m128i b = _mm_loadu_si128((const __m128i *)(const void *)(s + 16));
		__m128i c = _mm_loadu_si128((const __m128i *)(const void *)(s + 32));
		__m128i e = _mm_loadu_si128((const __m128i *)(const void *)(s + 48));
		_mm_stream_si128((__m128i *)(void *)d, a);
		_mm_stream_si128((__m128i *)(void *)(d + 16), b);
		_mm_stream_si128((__m128i *)(void *)(d + 32), c);
		_mm_stream_si128((__m128i *)(void *)(d + 48), e);
	}
	for (; n >= 16; n -= 16, d += 16, s += 16)
		_mm_stream_si128((__m128i *)(void *)d,
			_mm_loadu_si128((const __m128i *)(const void *)s));
	memcpy(d, s, n);
	_mm_sfence();
}

/* memset with non-temporal stores for the 16-byte aligned body. */
static void
set_nocache(char *d, int c, size_t n)
{
	size_t head = head_bytes(d, n);
	__m128i v = _mm_set1_epi8((char)c);

	memset(d, c, head);
	d += head;
	n -= head;
	for (; n >= 16; n -= 16, d += 16)
		_mm_stream_si128((__m128i *)(void *)d, v);
	memset(d, c, n);
	_mm_sfence();
}

#else /* not x86-64 */

static void
copy_nocache(char *d, const char *s, size_t n)
{
	memcpy(d, s, n);
}

static void
set_nocache(char *d, int c, size_t n)
{
	memset(d, c, n);
}

#endif

/* n == 0 touches nothing, whatever the pointers are (even NULL). */
void *
ma_memcpy(void *dest, const void *src, size_t n, unsigned flags)
{
	if (n == 0)
		return dest;
	if (flags & VDM_F_NO_CACHE_HINT)
		copy_nocache(dest, src, n);
	else
		memcpy(dest, src, n);
	if (flags & VDM_F_MEM_DURABLE)
		ma_flush(dest, n);
	return dest;
}

/* Non-temporal stores only where the two ranges do not overlap. */
void *
ma_memmove(void *dest, const void *src, size_t n, unsigned flags)
{
	uintptr_t d = (uintptr_t)dest;
	uintptr_t s = (uintptr_t)src;
	int disjoint = d + n <= s || s + n <= d;

	if (n == 0)
		return dest;
	if ((flags & VDM_F_NO_CACHE_HINT) && disjoint)
		copy_nocache(dest, src, n);
	else
		memmove(dest, src, n);
	if (flags & VDM_F_MEM_DURABLE)
		ma_flush(dest, n);
	return dest;
}

void *
ma_memset(void *str, int c, size_t n, unsigned flags)
{
	if (n == 0)
		return str;
	if (flags & VDM_F_NO_CACHE_HINT)
		set_nocache(str, c, n);
	else
		memset(str, c, n);
	if (flags & VDM_F_MEM_DURABLE)
		ma_flush(str, n);
	return str;
}

/* Performs the operation with the library's own functions. */
void
ma_mem_operation_run(const struct vdm_operation *op)
{
	switch (op->type) {
	case VDM_OPERATION_MEMCPY:
		ma_memcpy(op->data.memcpy.dest, op->data.memcpy.src,
			op->data.memcpy.n, (unsigned)op->data.memcpy.flags);
		break;
	case VDM_OPERATION_MEMMOVE:
		ma_memmove(op->data.memmove.dest, op->data.memmove.src,
			op->data.memmove.n, (unsigned)op->data.memmove.flags);
		break;
	case VDM_OPERATION_MEMSET:
		ma_memset(op->data.memset.str, op->data.memset.c,
			op->data.memset.n, (unsigned)op->data.memset.flags);
		break;
	case VDM_OPERATION_FLUSH:
		ma_flush(op->data.flush.dest, op->data.flush.n);
		break;
	}
}
