/*
 * zip.h - a small, defensive ZIP reader and writer for course packages.
 *
 * Only what course packages need: stored (method 0) and deflated (method 8)
 * files, UTF-8 names, one disk, no ZIP64, no encryption. Everything else is
 * refused rather than half-supported.
 *
 * Names. Every name written or read must pass zip_name_check: a relative,
 * '/'-separated path of 1..ZIP_NAME_MAX bytes of valid UTF-8, with no empty,
 * "." or ".." segment, no '\\', no ':' (drive letters, NTFS streams), no
 * control characters (C0, DEL, C1). Within one archive no two names may be
 * equal when ASCII letters are compared case-insensitively, and no file
 * may also be a folder of another ("a" and "a/b"), so an archive unpacks
 * the same on any file system. (Non-ASCII letters are compared byte for
 * byte.)
 *
 * Writer. Entries are written in order to a seekable fd (a regular file):
 * each local header is written with zero CRC and sizes, the data follows,
 * and the header is then patched in place with pwrite. No data descriptors
 * are used, so every local header agrees with the central directory. Times
 * are fixed at 1980-01-01 00:00 so the same content gives the same bytes.
 * Entries are regular files (Unix mode 0644); folders are implied by names.
 *
 * Reader. zip_reader_open reads the end record (searched in the last 64 KiB
 * + 22 bytes; it must end exactly at the end of the file), the whole
 * central directory and every local header, and validates all of it before
 * anything can be extracted; see zip_reader_open for what is refused. The
 * central directory is authoritative; data descriptors (bit 3) are
 * accepted from other writers and must agree with it. Folder entries (a
 * name ending in '/', size 0) are checked like the rest and then skipped:
 * they are not counted or listed.
 *
 * Neither side owns, closes or fsyncs the fds it is given.
 */
#ifndef TINCHI_ZIP_H
#define TINCHI_ZIP_H

#include <stddef.h>
#include <stdint.h>

#define ZIP_NAME_MAX 255		/* bytes of an entry name */
#define ZIP_SIZE_MAX 0xFFFFFFFEu	/* largest entry or offset (0xFFFFFFFF means ZIP64) */
#define ZIP_ENTRIES_MAX 0xFFFEu		/* entries in one archive (0xFFFF means ZIP64) */
#define ZIP_CD_MAX (32u << 20)		/* bytes of a central directory */
#define ZIP_RATIO_FLOOR (1u << 20)	/* entries up to this size skip the ratio check */

#define ZIP_STORED 0
#define ZIP_DEFLATED 8

/* What a reader accepts. zip_limits_init fills in the defaults. */
struct zip_limits {
	size_t max_entries;		/* central directory records, folders included */
	uint64_t max_entry_size;	/* declared uncompressed bytes of one entry */
	uint64_t max_total_size;	/* sum of the declared uncompressed sizes */
	unsigned max_ratio;		/* uncompressed/compressed, e.g. 200; checked
					 * for entries over ZIP_RATIO_FLOOR bytes */
};

/* One file in an archive, as declared by its central directory record. */
struct zip_entry {
	const char *name;	/* borrowed: valid until zip_reader_close */
	uint64_t size;		/* uncompressed bytes */
	uint64_t csize;		/* compressed bytes */
	unsigned method;	/* ZIP_STORED or ZIP_DEFLATED */
	uint32_t crc;		/* CRC-32 of the uncompressed bytes */
};

struct zip_writer;
struct zip_reader;

/* Defaults: 10,000 entries, 2 GiB per entry, 8 GiB in all, ratio 200. */
void zip_limits_init(struct zip_limits *lim);

/* 0 when the N bytes at NAME are an acceptable file name (see above; a
 * trailing '/' is refused here), TC_EINVALID otherwise. */
int zip_name_check(const char *name, size_t n);

/*
 * Writer.
 *
 * zip_writer_open starts an archive at FD's current offset (offsets in the
 * archive are offsets in the file, so this is normally 0). FD must be
 * seekable and is not owned. *out is NULL on failure. 0, TC_EIO (FD cannot
 * seek), TC_ENOMEM.
 */
int zip_writer_open(int fd, struct zip_writer **out);

/*
 * Adds the file NAME (NUL-terminated). Its bytes come from SRC_FD, read
 * from its current offset to end of file, when SRC_FD >= 0; otherwise the
 * LEN bytes at BUF. DEFLATED non-zero compresses with raw deflate, zero
 * stores. Returns 0; TC_EINVALID (bad name, or a second source given),
 * TC_ECONFLICT (the name collides with an earlier one), TC_ETOOBIG (entry
 * over ZIP_SIZE_MAX bytes, archive past ZIP_SIZE_MAX bytes or
 * ZIP_ENTRIES_MAX entries), TC_EIO, TC_ENOMEM. When the failure is
 * found before anything is written (bad arguments or name, a collision, a
 * buffer or archive known to be too big) the writer stays usable; any
 * other failure leaves the archive unusable: every later call fails, and
 * only zip_writer_abort remains to be called.
 */
int zip_writer_add(struct zip_writer *w, const char *name, int src_fd,
		   const void *buf, size_t len, int deflated);

/*
 * Writes the central directory and the end record, and frees W whatever
 * happens. 0, TC_ETOOBIG, TC_EIO (or the error that broke the writer
 * earlier). On failure the file holds no valid archive.
 */
int zip_writer_close(struct zip_writer *w);

/* Frees W without finishing the archive (the caller removes the file).
 * Accepts NULL. */
void zip_writer_abort(struct zip_writer *w);

/*
 * Reader.
 *
 * Opens the archive in FD (a regular file, read with pread; not owned).
 * LIM may be NULL for the defaults. Everything is checked before this
 * returns; the archive is refused with TC_EINVALID, and a log line saying
 * why, when
 *   - there is no end record, or it is not at the very end, or the file is
 *     empty, truncated or not a zip;
 *   - it is ZIP64 (locator, 0xFFFF/0xFFFFFFFF fields, 0x0001 extra field)
 *     or spans several disks;
 *   - the central directory lies outside the file, does not end where the
 *     end record starts, is over ZIP_CD_MAX bytes, holds fewer or more
 *     records than declared, or more than LIM->max_entries;
 *   - a name fails zip_name_check or collides with another (see above);
 *   - an entry is encrypted (bits 0, 6) or uses a method other than 0 and
 *     8, a stored entry's sizes differ, or its Unix mode says symlink,
 *     device, fifo or socket (or a folder whose name lacks the '/');
 *   - a declared size is over LIM->max_entry_size, the sum over
 *     LIM->max_total_size, or an entry over ZIP_RATIO_FLOOR bytes has a
 *     ratio over LIM->max_ratio;
 *   - a local header is missing or disagrees with the central directory
 *     (name, method, flags, and CRC and sizes unless bit 3 is set, in which
 *     case the data descriptor must agree);
 *   - two entries' bytes (header, data, descriptor) overlap, or an entry
 *     runs into the central directory.
 * Other failures: TC_EIO, TC_ENOMEM. *out is NULL on failure.
 */
int zip_reader_open(int fd, const struct zip_limits *lim, struct zip_reader **out);

/* Frees R (accepts NULL). Entry names handed out become invalid. */
void zip_reader_close(struct zip_reader *r);

/* Number of files (folder entries are not counted). */
size_t zip_reader_count(const struct zip_reader *r);

/* Describes file I (0..count-1) into *E. 0 or TC_ENOTFOUND. */
int zip_reader_entry(const struct zip_reader *r, size_t i, struct zip_entry *e);

/* Index of the file named exactly NAME (bytes compared). 0 or TC_ENOTFOUND. */
int zip_reader_find(const struct zip_reader *r, const char *name, size_t *index);

/*
 * Streams file I, decompressed, to OUT_FD (written at its current offset).
 * The data must decompress to exactly the declared size (decompression
 * stops as soon as it produces one byte more, and that byte is never
 * written) and match the declared CRC. 0; TC_ENOTFOUND; TC_EINVALID (bad
 * data: corrupt or truncated stream, size or CRC mismatch; logged);
 * TC_EIO; TC_ENOMEM. On failure OUT_FD may hold part of the data, never
 * more than the declared size; the caller discards it.
 */
int zip_reader_extract(struct zip_reader *r, size_t i, int out_fd);

/*
 * Reads file I, decompressed, into BUF (BUFSIZE bytes); *LEN receives its
 * size. For small entries such as a manifest. TC_ETOOBIG when the declared
 * size exceeds BUFSIZE (nothing read); otherwise as zip_reader_extract.
 * *LEN is 0 on failure.
 */
int zip_reader_read(struct zip_reader *r, size_t i, void *buf, size_t bufsize,
		    size_t *len);

#endif
