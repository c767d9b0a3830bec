/*
 * media_files.h - the published folders of processed lectures, plain files
 * that this server, nginx or a CDN can serve as they are:
 *
 *   DATA/media/<material uid>/master.m3u8        master playlist
 *   DATA/media/<material uid>/<rendition>/...    storage/media.h's output
 *   DATA/media/<material uid>/poster.jpg
 *   DATA/media/<material uid>/captions/<lang>.m3u8          subtitle playlist
 *   DATA/media/<material uid>/captions/<lang>-<hash8>.vtt   the WebVTT file
 *   DATA/media/.tmp/<uid>-<random>/              a job's folder while it runs
 *
 * Playlists on disk use relative URIs. Access control is added when they
 * are served: media_playlist_sign appends the signed token
 * (courses/mediatoken.h) to every URI, which a CDN edge could do as well.
 * Every file is written to a temporary name, synced and renamed; a job's
 * folder becomes visible only whole, by one rename.
 */
#ifndef TINCHI_MEDIA_FILES_H
#define TINCHI_MEDIA_FILES_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "courses/dynbuf.h"
#include "storage/media.h"

struct media_caption_file {
	char lang[36];			/* BCP 47 tag, already checked */
	char label[65];			/* UTF-8, already checked: no '"' or control bytes */
	char sha256[65];		/* the WebVTT file in the content store */
};

/* DATA/media/UID into OUT. TC_EINVALID when UID is not a UUID. */
int media_dir_path(const char *data_dir, const char *uid, char out[PATH_MAX]);

/* Creates an empty job folder DATA/media/.tmp/job.<TAG>.<UID>-<random>
 * into OUT. TAG names the node that runs the job (made file-name safe). */
int media_tmp_create(const char *data_dir, const char *tag, const char *uid,
		     char out[PATH_MAX]);

/* Removes the job folders of node TAG left in DATA/media/.tmp (at its
 * start, when none of its jobs runs); other nodes' are left alone. */
int media_tmp_clean(const char *data_dir, const char *tag);

/*
 * The content type of a published file NAME in sub-folder DIR (NULL: the
 * top) when it is one a lecture's folder holds, else NULL: master.m3u8 and
 * poster.jpg; <rendition>/index.m3u8, init.mp4, seg_NNNNN.m4s for the
 * renditions original, 360p and audio; captions/<lang>.m3u8 and
 * captions/<lang>-<8 hex>.vtt. Serving and the check of a job's output both
 * use it, so no other name is ever served or published.
 */
const char *media_file_type(const char *dir, const char *name);

/* Makes the job folder TMPDIR the published folder of UID (replacing an
 * older one) with one rename. The worker wrote TMPDIR, so it is checked
 * first: only the names media_file_type knows, as plain files with a
 * single link, or their folders; anything else is TC_EINVALID. */
int media_dir_install(const char *data_dir, const char *uid, const char *tmpdir);

/* Moves the published folder of UID out of sight at once (one rename into
 * DATA/media/.tmp, as "trash-..."), for media_trash_clean to remove. 0
 * when there is none. */
int media_dir_discard(const char *data_dir, const char *uid);

/* Removes what media_dir_discard moved aside. */
int media_trash_clean(const char *data_dir);

/* Removes the folder DIR and everything in it (0 when it does not exist). */
int media_dir_remove(const char *dir);

/*
 * (Re)writes DIR/master.m3u8 and DIR/captions/ from RES and the N captions
 * CAPS (their bytes read from the content store of DATA_DIR); caption files
 * no longer listed are removed. DIR is a job folder or a published one.
 */
int media_dir_publish(const char *data_dir, const char *dir, const struct media_result *res,
		      const struct media_caption_file *caps, size_t n);

/* The master playlist (RFC 8216, version 7) of RES with CAPS as a
 * SUBTITLES group, appended to OUT. 0 or TC_ENOMEM. */
int media_master_playlist(const struct media_result *res, const struct media_caption_file *caps,
			  size_t n, struct dynbuf *out);

/*
 * Copies the playlist TEXT (LEN bytes) to OUT with "?" QUERY (or "&" QUERY
 * when the URI has a query already) appended to every URI: each line that
 * is not empty and not a tag, and every URI="..." attribute of a tag.
 * 0, TC_ENOMEM, TC_EINVALID (a URI attribute without its closing quote,
 * or a URI that is not relative to the playlist's folder: absolute, with a
 * scheme, or with "..").
 */
int media_playlist_sign(const char *text, size_t len, const char *query, struct dynbuf *out);

#endif
