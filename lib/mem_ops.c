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

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fault.h"
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

/* [p, p + n) lies in the address space. */
static int
range_ok(const void *p, size_t n)
{
	return n <= PTRDIFF_MAX && (uintptr_t)p <= UINTPTR_MAX - n;
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

	return range_ok(FIELD(op, row->dest, void *), n) &&
		(row->src == NO_FIELD || range_ok(FIELD(op, row->src, void *), n));
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
			memcmp((const char *)fns + row->fn,
				(const char *)&ma_mem_fns_lib + row->fn,
				sizeof(memcpy_fn)) != 0) {
		ma_flush(dest, len); /* a user's function wrote the bytes */
		ma_test_note(MA_TEST_WRITTEN_BACK, len);
	}
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

	output->type = op->type;
	if (!ma_op_valid(op)) {
		output->result = VDM_ERROR_JOB_CORRUPTED;
		output->output.memcpy.dest = NULL;
		return;
	}
	output->result = VDM_SUCCESS;
	if (row->outputs_dest)
		output->output.memcpy.dest = FIELD(op, row->dest, void *);
	else
		output->output.flush.unused = 0;
}
