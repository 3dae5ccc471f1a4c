/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright 2026, libminiasync developers */

/*
 * dsa_wq.c -- real DSA work queues: found by reading the idxd driver's
 * sysfs ABI directly (/sys/bus/dsa/devices/{dsaN,wqN.M}/...), so that
 * the library links nothing new (libaccel-config would be one more
 * dependency, and Debian builds it for amd64 only); opened through their
 * character device (/dev/dsa/wqN.M), whose portal page takes descriptors
 * with MOVDIR64B (dedicated queues) or ENQCMD (shared ones), or, where
 * the portal cannot be mapped, with write(2) on the file.
 *
 * The instructions are written as bytes, so that no assembler or
 * compiler flag needs to know them; they exist on x86-64 only, and
 * elsewhere real queues fail with ENODEV (the model still works).
 * The test build can point the sysfs and device roots at a fake tree.
 */

#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include "dsa_hw.h"
#include "dsa_wq.h"
#include "fault.h"
#include "internal.h"

#define PORTAL_SIZE 4096
#define DEVICE_RATE 30000 /* bytes a microsecond: about 30 GB/s */

static const char *sysfs_root = "/sys/bus/dsa/devices";
static const char *dev_root = "/dev/dsa";

#ifdef MA_FAULT_INJECTION
static int cpu_forced; /* the test build's processor has both */

void
ma_dsa_wq_set_roots(const char *sysfs, const char *dev)
{
	sysfs_root = sysfs != NULL ? sysfs : "/sys/bus/dsa/devices";
	dev_root = dev != NULL ? dev : "/dev/dsa";
}

void
ma_dsa_wq_force_cpu(int on)
{
	cpu_forced = on;
}
#endif

struct real_wq {
	struct ma_dsa_wq wq; /* first: the seam's handle */
	int fd;
	void *portal; /* NULL: write(2) on fd */
	char name[32]; /* wqD.Q */
};

/* Reads the first line of DIR/NAME/FILE into buf; 0 on success. */
static int
attr_read(const char *name, const char *file, char *buf, size_t len)
{
	char path[512];
	FILE *f;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s/%s", sysfs_root,
			name, file) >= sizeof(path))
		return -1;
	f = fopen(path, "re");
	if (f == NULL)
		return -1;
	if (fgets(buf, (int)len, f) == NULL) {
		fclose(f);
		return -1;
	}
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static int
attr_is(const char *name, const char *file, const char *want)
{
	char buf[64];

	return attr_read(name, file, buf, sizeof(buf)) == 0 &&
		strcmp(buf, want) == 0;
}

/* A number attribute (decimal or 0x hex); dflt when absent or bad. */
static unsigned long long
attr_num(const char *name, const char *file, unsigned long long dflt)
{
	char buf[64], *end;
	unsigned long long v;

	if (attr_read(name, file, buf, sizeof(buf)) != 0)
		return dflt;
	errno = 0;
	v = strtoull(buf, &end, 0);
	return errno != 0 || end == buf ? dflt : v;
}

/* Nonzero when name is "wqD.Q"; *dev gets D. */
static int
wq_name_ok(const char *name, unsigned *dev)
{
	unsigned d, q;
	int n = -1;
	const char *dot = strchr(name, '.');

	/* digits only: %u would take a sign and blanks too */
	if (strncmp(name, "wq", 2) != 0 || name[2] < '0' || name[2] > '9' ||
			dot == NULL || dot[1] < '0' || dot[1] > '9')
		return 0;
	if (sscanf(name, "wq%u.%u%n", &d, &q, &n) != 2 || n < 0 ||
			name[n] != '\0')
		return 0;
	*dev = d;
	return 1;
}

/*
 * Parses an opcode set as the driver prints op_cap and op_config: 32-bit
 * words in hexadecimal (1 to 8 digits, no prefix, sign or blank), most
 * significant first, separated by commas, 1 to 8 of them (256 bits on
 * today's devices). The low 64 bits go to *out (bit k: opcode k); 0, or
 * -1 with *out untouched when s is anything else.
 */
int
ma_dsa_parse_opcodes(const char *s, uint64_t *out)
{
	uint32_t words[8];
	unsigned n = 0;
	uint64_t v;

	for (;;) {
		uint32_t w = 0;
		unsigned digits = 0;

		for (; digits < 9; digits++, s++) {
			unsigned d;

			if (*s >= '0' && *s <= '9')
				d = (unsigned)(*s - '0');
			else if (*s >= 'a' && *s <= 'f')
				d = (unsigned)(*s - 'a' + 10);
			else if (*s >= 'A' && *s <= 'F')
				d = (unsigned)(*s - 'A' + 10);
			else
				break;
			if (digits == 8)
				return -1; /* more than 32 bits */
			w = w << 4 | d;
		}
		if (digits == 0 || n == 8)
			return -1;
		words[n++] = w;
		if (*s == '\0')
			break;
		if (*s != ',')
			return -1;
		s++;
	}
	v = words[n - 1];
	if (n >= 2)
		v |= (uint64_t)words[n - 2] << 32;
	*out = v;
	return 0;
}

/*
 * The opcodes the queue name ("wqD.Q") runs: its device's op_cap, and
 * its own op_config where the driver has one (DSA 2.0 kernels; the queue
 * runs only what both offer). Where op_cap is absent or not in the form
 * ma_dsa_parse_opcodes() reads (the driver's "%*pb"; older drivers may
 * differ), the opcodes the mover uses are assumed, as before it read
 * them; an op_config that cannot be read is left aside the same way.
 */
uint64_t
ma_dsa_wq_opcodes(const char *name)
{
	char dname[32], buf[128];
	uint64_t cap, config;
	unsigned dev;

	if (!wq_name_ok(name, &dev))
		return MA_DSA_OPS_ASSUMED;
	snprintf(dname, sizeof(dname), "dsa%u", dev);
	if (attr_read(dname, "op_cap", buf, sizeof(buf)) != 0 ||
			ma_dsa_parse_opcodes(buf, &cap) != 0)
		cap = MA_DSA_OPS_ASSUMED;
	if (attr_read(name, "op_config", buf, sizeof(buf)) == 0 &&
			ma_dsa_parse_opcodes(buf, &config) == 0)
		cap &= config;
	return cap;
}

/* The numa node of the device of wqD.Q (-1: none). */
static int
wq_node(unsigned dev)
{
	char dname[32];

	snprintf(dname, sizeof(dname), "dsa%u", dev);
	return (int)(long long)attr_num(dname, "numa_node",
		(unsigned long long)-1);
}

/* Nonzero when the queue is enabled, for users, on an enabled device. */
static int
wq_usable(const char *name)
{
	char dname[32];
	unsigned dev;

	if (!wq_name_ok(name, &dev))
		return 0;
	snprintf(dname, sizeof(dname), "dsa%u", dev);
	return attr_is(dname, "state", "enabled") &&
		attr_is(name, "state", "enabled") &&
		attr_is(name, "type", "user");
}

static int
dev_path(const char *name, char *path, size_t len)
{
	return (size_t)snprintf(path, len, "%s/%s", dev_root, name) < len ?
		0 : -1;
}

/*
 * Whether queue a (on node na) comes before queue b (node nb) for a
 * caller on node: the caller's node first, then the smaller name.
 */
static int
wq_before(const char *a, int na, const char *b, int nb, int node)
{
	if ((na == node) != (nb == node))
		return na == node;
	return strcmp(a, b) < 0;
}

int
ma_dsa_wq_find_next(char *out, size_t len, int node, const char *after)
{
	DIR *d = opendir(sysfs_root);
	struct dirent *e;
	char best[64] = "";
	int best_node = -1, after_node = -1;
	unsigned dev;

	if (d == NULL)
		return -1;
	if (after != NULL && wq_name_ok(after, &dev))
		after_node = wq_node(dev);
	while ((e = readdir(d)) != NULL) {
		char path[512];
		int n;

		if (!wq_name_ok(e->d_name, &dev) || strlen(e->d_name) >= 64 ||
				!wq_usable(e->d_name) ||
				dev_path(e->d_name, path, sizeof(path)) != 0 ||
				access(path, R_OK | W_OK) != 0)
			continue;
		n = wq_node(dev);
		if (after != NULL && !wq_before(after, after_node, e->d_name,
				n, node))
			continue; /* tried already */
		/* the first in that order, whatever the readdir order */
		if (best[0] == '\0' || wq_before(e->d_name, n, best,
				best_node, node)) {
			strcpy(best, e->d_name);
			best_node = n;
		}
	}
	closedir(d);
	if (best[0] == '\0' || strlen(best) >= len)
		return -1;
	strcpy(out, best);
	return 0;
}

int
ma_dsa_wq_find(char *out, size_t len, int node)
{
	return ma_dsa_wq_find_next(out, len, node, NULL);
}

#if defined(__x86_64__)
/* MOVDIR64B (%rdx), %rax: 64 bytes to the portal, no feedback. */
static int
submit_movdir64b(struct ma_dsa_wq *wq, const struct ma_dsa_desc *desc)
{
	struct real_wq *r = (struct real_wq *)wq;

	__asm__ __volatile__("sfence" ::: "memory");
	__asm__ __volatile__(".byte 0x66, 0x0f, 0x38, 0xf8, 0x02"
		:: "a"(r->portal), "d"(desc), "m"(*desc) : "memory");
	return 0;
}

/* ENQCMD (%rdx), %rax: ZF set means the queue refused it. */
static int
submit_enqcmd(struct ma_dsa_wq *wq, const struct ma_dsa_desc *desc)
{
	struct real_wq *r = (struct real_wq *)wq;
	unsigned char refused;

	__asm__ __volatile__("sfence" ::: "memory");
	__asm__ __volatile__(".byte 0xf2, 0x0f, 0x38, 0xf8, 0x02\n\tsetz %0"
		: "=r"(refused) : "a"(r->portal), "d"(desc), "m"(*desc)
		: "cc", "memory");
	return refused;
}

/*
 * write(2): the driver submits it; a full shared queue says EAGAIN, and
 * any error but a retryable one means the queue is gone.
 */
static int
submit_write(struct ma_dsa_wq *wq, const struct ma_dsa_desc *desc)
{
	struct real_wq *r = (struct real_wq *)wq;

	__asm__ __volatile__("sfence" ::: "memory");

	ssize_t n = write(r->fd, desc, sizeof(*desc));

	if (n == (ssize_t)sizeof(*desc))
		return 0;
	return n < 0 && (errno == EAGAIN || errno == EINTR ||
		errno == EBUSY) ? 1 : -1;
}

static void
real_close(struct ma_dsa_wq *wq)
{
	struct real_wq *r = (struct real_wq *)wq;

	if (r->portal != NULL)
		munmap(r->portal, PORTAL_SIZE);
	close(r->fd);
	free(r);
}

/* Whether the queue (and its device) is still enabled, from sysfs. */
static int
real_enabled(struct ma_dsa_wq *wq)
{
	return wq_usable(((struct real_wq *)wq)->name);
}

/* CPUID.(7,0):ECX bit 28 MOVDIR64B, bit 29 ENQCMD. */
static int
cpu_has(unsigned bit)
{
	unsigned a, b, c, d;

#ifdef MA_FAULT_INJECTION
	if (cpu_forced)
		return 1;
#endif
	return __get_cpuid_count(7, 0, &a, &b, &c, &d) && ((c >> bit) & 1);
}
#endif

/* The calling thread's NUMA node, or -1. */
static int
current_node(void)
{
	unsigned cpu, node;

	if (getcpu(&cpu, &node) != 0)
		return -1;
	return (int)node;
}

/* Opens the usable queue name ("wqD.Q"); NULL with errno. */
static struct ma_dsa_wq *
wq_open_named(const char *name)
{
#if !defined(__x86_64__)
	(void)name;
	errno = ENODEV; /* no submitting instruction here */
	return NULL;
#else
	unsigned dev;
	char path[512];
	struct real_wq *r;
	int shared;
	uint64_t ops = ma_dsa_wq_opcodes(name);

	(void)wq_name_ok(name, &dev);
	if (!(ops & MA_DSA_OPBIT(MA_DSA_OP_MEMMOVE))) {
		errno = ENOTSUP; /* no copies: not worth a mover */
		return NULL;
	}
	shared = attr_is(name, "mode", "shared");
	if (!cpu_has(shared ? 29 : 28)) {
		errno = ENOTSUP;
		return NULL;
	}
	r = ma_malloc(sizeof(*r));
	if (r == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	memset(r, 0, sizeof(*r));
	if (dev_path(name, path, sizeof(path)) != 0) {
		free(r);
		errno = ENOENT;
		return NULL;
	}
	r->fd = open(path, O_RDWR | O_CLOEXEC);
	if (r->fd < 0) {
		int err = errno;

		free(r);
		errno = err;
		return NULL;
	}
	r->portal = mmap(NULL, PORTAL_SIZE, PROT_WRITE,
		MAP_SHARED | MAP_POPULATE, r->fd, 0);
	if (r->portal == MAP_FAILED)
		r->portal = NULL; /* EPERM without CAP_SYS_RAWIO: write(2) */
	r->wq.submit = r->portal == NULL ? submit_write :
		shared ? submit_enqcmd : submit_movdir64b;
	/* write(2) refuses batches where the mmap was refused (EINVAL) */
	r->wq.via_write = r->portal == NULL;
	r->wq.close = real_close;
	r->wq.enabled = real_enabled;
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->wq.mode = shared ? MA_DSA_SHARED : MA_DSA_DEDICATED;
	r->wq.size = (uint32_t)attr_num(name, "size", 1);
	if (r->wq.size == 0)
		r->wq.size = 1;
	r->wq.max_transfer_size = (uint32_t)attr_num(name,
		"max_transfer_size", 16384);
	if (r->wq.max_transfer_size == 0)
		r->wq.max_transfer_size = 16384;
	r->wq.max_batch_size = (uint32_t)attr_num(name, "max_batch_size", 0);
	r->wq.block_on_fault = attr_num(name, "block_on_fault", 0) != 0;

	char dname[32];

	snprintf(dname, sizeof(dname), "dsa%u", dev);
	r->wq.gen_cap = attr_num(dname, "gen_cap", 0);
	r->wq.op_cap = ops;
	r->wq.rate = DEVICE_RATE;
	r->wq.numa_node = wq_node(dev);
	return &r->wq;
#endif
}

struct ma_dsa_wq *
ma_dsa_wq_open(const char *wq)
{
	char name[64];
	unsigned dev;
	size_t dlen = strlen(dev_root);

	if (wq == NULL) {
		/*
		 * Each usable queue in turn, until one opens: a dedicated
		 * queue takes one opener (EBUSY for the next, a mover of
		 * this process included), and a shared one may want an
		 * instruction this processor lacks. The first error, if
		 * none opens.
		 */
		int node = current_node(), first_err = 0;
		char prev[64];
		struct ma_dsa_wq *q;

		for (const char *after = NULL;
				ma_dsa_wq_find_next(name, sizeof(name), node,
				after) == 0; after = prev) {
			q = wq_open_named(name);
			if (q != NULL)
				return q;
			if (first_err == 0)
				first_err = errno;
			strcpy(prev, name);
		}
		errno = first_err != 0 ? first_err : ENODEV;
		return NULL;
	}

	const char *base = wq;

	if (wq[0] == '/') {
		if (strncmp(wq, dev_root, dlen) != 0 || wq[dlen] != '/') {
			errno = EINVAL;
			return NULL;
		}
		base = wq + dlen + 1;
	}
	if (!wq_name_ok(base, &dev) || strlen(base) >= sizeof(name)) {
		errno = EINVAL;
		return NULL;
	}
	strcpy(name, base);
	if (!wq_usable(name)) {
		errno = ENOENT;
		return NULL;
	}
	return wq_open_named(name);
}
