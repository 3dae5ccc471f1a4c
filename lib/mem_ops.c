/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * mem_ops.c -- memcpy, memmove, memset and cache flush honouring the
 * VDM_F_* flags:
 * - VDM_F_NO_CACHE_HINT: non-temporal (cache-bypassing) stores for the
 *   aligned body of the destination, then a store fence;
 * - VDM_F_MEM_DURABLE: every cache line of the destination is written back
 *   (x86: clwb, else clflushopt, else clflush, picked once at load time),
 *   then a store fence.
 * Elsewhere than x86-64 the plain C functions are used, and a flush is a
 * full memory fence only: such machines get no cache write-back.
 */

#include <string.h>

#include "internal.h"
#include "mem_ops.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <emmintrin.h>

#define MA_HAVE_X86 1

typedef void (*flush_line_fn)(const char *line);

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

/* Set once, before main and before any thread of ours exists. */
static flush_line_fn flush_line = flush_line_clflush;

__attribute__((constructor)) static void
flush_line_select(void)
{
	unsigned eax, ebx, ecx, edx;

	if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx))
		return;
	if (ebx & (1U << 24))
		flush_line = flush_line_clwb;
	else if (ebx & (1U << 23))
		flush_line = flush_line_clflushopt;
}

void
ma_flush(const void *addr, size_t n)
{
	if (n == 0)
		return;
	uintptr_t line = (uintptr_t)addr & ~(uintptr_t)(MA_CACHELINE - 1);
	uintptr_t end = (uintptr_t)addr + n;

	for (; line < end; line += MA_CACHELINE)
		flush_line((const char *)line);
	_mm_sfence();
}

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

void
ma_flush(const void *addr, size_t n)
{
	(void)addr;
	(void)n;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

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
