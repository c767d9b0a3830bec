/*
 * media.c - probe an uploaded recording and package it as HLS with the
 * FFmpeg 5.1 libraries (media.h).
 *
 * Input. The file is read through its descriptor only: a custom AVIOContext
 * (read, seek, AVSEEK_SIZE from fstat). The container is detected here
 * first (av_probe_input_buffer2) and refused unless it is one of
 * MEDIA_FORMATS, so playlist-like demuxers (hls, concat, image2) never run;
 * the format and protocol whitelists are set on the context as well, and
 * its io_open refuses every nested open in case a permitted demuxer tries
 * one (the mov demuxer's data references stay off: enable_drefs=0).
 * Decoders come from MEDIA_DECODERS only: it is the context's
 * codec_whitelist, so avformat_find_stream_info opens no other, and the
 * streams used are decoded by the first decoder of that list for their
 * format (never libavcodec's default choice, which may be a hardware
 * wrapper). Sizes, durations and stream counts are checked once on the
 * container's header (before anything is decoded) and again after
 * avformat_find_stream_info, the displayed size (sample aspect ratio
 * applied) too; decoders get max_pixels.
 *
 * One pass. av_read_frame feeds, from the same packets:
 *   - "original" by stream copy (H.264 8-bit 4:2:0 with avcC, AAC or no
 *     audio), its display matrix patched into init.mp4 afterwards (the 5.1
 *     hls muxer does not hand stream side data to its inner mp4 muxer);
 *   - the video decoder (frame threads), whose frames are capped at 30/s,
 *     scaled with libswscale, rotated in C and encoded with libx264 for
 *     "360p" and, for sources that cannot be copied and are larger than
 *     360 lines, for an encoded "original" of at most 720 lines; a key frame
 *     is forced at every 2-s boundary of source time and scene cuts are off,
 *     so the hls muxer cuts segments at 6 s;
 *   - the audio decoder, resampled to 44.1/48 kHz float planar, mono or
 *     stereo, through a FIFO into the native AAC encoder (64 kbit/s); the
 *     same AAC packets go to every rendition that carries encoded audio.
 * A decoder is opened only when a rendition asked for needs it, so a copy
 * alone (MEDIA_ORIGINAL) is a remux with no decoding.
 * Each rendition is written by libavformat's "hls" muxer (fMP4, VOD,
 * temp_file: segments and playlists are written as NAME.tmp and renamed
 * when complete; init.mp4 is written in place, once, when the first segment
 * ends). The muxer adds packet durations up into EXTINF, so every video
 * packet gets its real duration (the next presentation time minus its own)
 * rather than libavformat's guess from the frame rate, which is wrong for
 * variable frame rates; and the encoders repeat the last picture every 2 s
 * across gaps (slides over a voice), as segments end only at key frames.
 * Afterwards the playlists are read back for BANDWIDTH (peak segment bit
 * rate) and AVERAGE-BANDWIDTH, and a poster is encoded from the first frame
 * decoded past 10% of the duration.
 *
 * Nothing here logs through av_log on purpose; callers set the libav log
 * level (the worker uses AV_LOG_ERROR).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/audio_fifo.h>
#include <libavutil/avstring.h>
#include <libavutil/channel_layout.h>
#include <libavutil/display.h>
#include <libavutil/opt.h>
#include <libavutil/time.h>
#include <libswresample/swresample.h>
#include <libswscale/swscale.h>

#include "courses/errors.h"
#include "storage/media.h"

#define IO_BUFFER (64 * 1024)
#define SEGMENT_SECONDS "6"
#define KEY_SECONDS 2
#define FPS_MAX 30
#define SHORT_360 360
#define SHORT_ORIGINAL 720
#define V360_BITRATE 336000
#define ORIGINAL_BITRATE 2500000
#define AUDIO_BITRATE 64000
/* x264 presets. 360p runs for every upload, beside the copy: "superfast"
 * takes about 20% less CPU than "veryfast" (60 s of 720p30: 13.6 s of CPU
 * against 16.5 s for the whole job), which the 8x-real-time goal on two
 * cores needs. The encoded original (sources that cannot be copied) keeps
 * "veryfast". */
#define PRESET_360 "superfast"
#define PRESET_ORIGINAL "veryfast"
#define POSTER_WIDTH 640
#define PLAYLIST_MAX (4 << 20)
#define INIT_MAX (1 << 20)
#define PROGRESS_US 250000
#define DURATIONS 256			/* frames an encoder may hold back */
#define REORDER 16			/* H.264's largest picture reordering */
#define SEEN (2 * REORDER + 2)
#define LONGEST (MEDIA_DURATION_MAX + 60)	/* seconds of output (media_result_parse) */

/* ---- small helpers ------------------------------------------------------- */

/* Writes the first reason only: later failures are consequences. */
static int __attribute__((format(printf, 4, 5)))
say(char *why, size_t whylen, int rc, const char *fmt, ...)
{
	va_list ap;

	if (why && whylen && !why[0]) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* The project code for a libav error. */
static int
av_rc(int err)
{
	if (err == AVERROR(ENOMEM))
		return TC_ENOMEM;
	if (err == AVERROR(EIO) || err == AVERROR(ENOSPC) || err == AVERROR(EFBIG) ||
	    err == AVERROR(EDQUOT) || err == AVERROR(EACCES) || err == AVERROR(EROFS))
		return TC_EIO;
	return TC_EINVALID;
}

/* "3 s", "47 min", "2 h 5 min". */
static void
human_duration(double s, char *out, size_t outlen)
{
	long v = s < 0 ? 0 : lrint(s);

	if (v < 100)
		snprintf(out, outlen, "%ld s", v);
	else if (v < 100 * 60)
		snprintf(out, outlen, "%ld min", (v + 30) / 60);
	else
		snprintf(out, outlen, "%ld h %ld min", v / 3600, (v % 3600 + 30) / 60);
}

static double
q2d_or0(AVRational q)
{
	return q.num > 0 && q.den > 0 ? av_q2d(q) : 0;
}

/* Copies the first comma-separated name of a demuxer's NAME. */
static void
first_name(const char *name, char *out, size_t outlen)
{
	size_t n = strcspn(name, ",");

	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, name, n);
	out[n] = '\0';
}

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void
put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* ---- input --------------------------------------------------------------- */

struct input {
	int fd;
	int64_t size;			/* bytes */
	int refused;			/* a demuxer tried to open another file */
	AVIOContext *pb;
	AVFormatContext *ic;
	int vi, ai;			/* chosen streams, -1 when none */
	int32_t matrix[9];		/* the video's display matrix */
	int has_matrix;
};

static int
io_read(void *opaque, uint8_t *buf, int size)
{
	struct input *in = opaque;
	ssize_t n;

	do
		n = read(in->fd, buf, (size_t)size);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return AVERROR(errno);
	return n == 0 ? AVERROR_EOF : (int)n;
}

static int64_t
io_seek(void *opaque, int64_t offset, int whence)
{
	struct input *in = opaque;
	struct stat st;
	off_t r;

	if (whence & AVSEEK_SIZE)
		return fstat(in->fd, &st) ? AVERROR(errno) : (int64_t)st.st_size;
	whence &= ~AVSEEK_FORCE;
	if (whence != SEEK_SET && whence != SEEK_CUR && whence != SEEK_END)
		return AVERROR(EINVAL);
	r = lseek(in->fd, (off_t)offset, whence);
	return r < 0 ? AVERROR(errno) : (int64_t)r;
}

/* AVFormatContext.io_open of the input: no demuxer may open anything else
 * (a data reference, a playlist entry, a concat item). */
static int
io_open_refused(AVFormatContext *s, AVIOContext **pb, const char *url, int flags,
		AVDictionary **options)
{
	struct input *in = s->opaque;

	(void)url;
	(void)flags;
	(void)options;
	*pb = NULL;
	if (in)
		in->refused = 1;
	return AVERROR(EPERM);
}

/* 1 when the top-level boxes of an ISO BMFF file include "moov". */
static int
has_moov(int fd)
{
	unsigned char h[16];
	struct stat st;
	uint64_t len;
	off_t pos = 0;

	if (fstat(fd, &st))
		return 0;
	for (int i = 0; i < 10000 && pos + 8 <= st.st_size; i++) {
		if (pread(fd, h, sizeof(h), pos) < 8)
			break;
		if (memcmp(h + 4, "moov", 4) == 0)
			return 1;
		len = be32(h);
		if (len == 1) {
			if (pos + 16 > st.st_size)
				break;
			len = (uint64_t)be32(h + 8) << 32 | be32(h + 12);
		}
		if (len < 8 || len > (uint64_t)(st.st_size - pos))
			break;
		pos += (off_t)len;
	}
	return 0;
}

static void
input_close(struct input *in)
{
	avformat_close_input(&in->ic);
	if (in->pb)
		av_freep(&in->pb->buffer);
	avio_context_free(&in->pb);
}

/* The limits that can be checked on what the container says. */
static int
check_bounds(const AVFormatContext *ic, char *why, size_t whylen)
{
	char d[32];

	if (ic->nb_streams > MEDIA_STREAMS_MAX)
		return say(why, whylen, TC_EINVALID, "the file has %u streams; at most %d are accepted",
			   ic->nb_streams, MEDIA_STREAMS_MAX);
	for (unsigned i = 0; i < ic->nb_streams; i++) {
		const AVCodecParameters *par = ic->streams[i]->codecpar;

		if (par->codec_type == AVMEDIA_TYPE_VIDEO &&
		    (par->width > MEDIA_SIDE_MAX || par->height > MEDIA_SIDE_MAX))
			return say(why, whylen, TC_EINVALID, "the video is %d x %d pixels; the largest "
				   "accepted is %d pixels on the long side", par->width, par->height,
				   MEDIA_SIDE_MAX);
	}
	if (ic->duration != AV_NOPTS_VALUE && ic->duration > (int64_t)MEDIA_DURATION_MAX * AV_TIME_BASE) {
		human_duration((double)ic->duration / AV_TIME_BASE, d, sizeof(d));
		return say(why, whylen, TC_EINVALID, "the recording lasts %s; the longest accepted is %d h",
			   d, MEDIA_DURATION_MAX / 3600);
	}
	return 0;
}

/* The best video stream that is not a cover picture, or -1. */
static int
pick_video(AVFormatContext *ic)
{
	int i = av_find_best_stream(ic, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);

	if (i >= 0 && !(ic->streams[i]->disposition & AV_DISPOSITION_ATTACHED_PIC))
		return i;
	for (unsigned k = 0; k < ic->nb_streams; k++)
		if (ic->streams[k]->codecpar->codec_type == AVMEDIA_TYPE_VIDEO &&
		    !(ic->streams[k]->disposition & AV_DISPOSITION_ATTACHED_PIC))
			return (int)k;
	return -1;
}

/* Clockwise rotation (0, 90, 180, 270) from a display matrix. */
static int
rotation_of(const int32_t *m)
{
	double a = -av_display_rotation_get(m);
	long r;

	if (isnan(a))
		return 0;
	r = lrint(a / 90.0) * 90 % 360;
	return (int)(r < 0 ? r + 360 : r);
}

static void
fill_info(struct input *in, struct media_info *info)
{
	AVFormatContext *ic = in->ic;
	AVDictionaryEntry *brand;

	memset(info, 0, sizeof(*info));
	first_name(ic->iformat->name, info->container, sizeof(info->container));
	if (strcmp(info->container, "mov") == 0) {
		brand = av_dict_get(ic->metadata, "major_brand", NULL, 0);
		snprintf(info->container, sizeof(info->container), "%s",
			 !brand ? "mov" : strncmp(brand->value, "qt", 2) == 0 ? "mov" :
			 strncmp(brand->value, "M4A", 3) == 0 ? "m4a" :
			 strncmp(brand->value, "3g2", 3) == 0 ? "3g2" :
			 strncmp(brand->value, "3g", 2) == 0 ? "3gp" : "mp4");
	}
	info->duration = ic->duration > 0 ? (double)ic->duration / AV_TIME_BASE : 0;
	info->bit_rate = ic->bit_rate > 0 ? ic->bit_rate : 0;
	info->streams = (int)ic->nb_streams;
	for (unsigned i = 0; i < ic->nb_streams; i++) {
		const AVStream *st = ic->streams[i];

		switch (st->codecpar->codec_type) {
		case AVMEDIA_TYPE_VIDEO:
			if (!(st->disposition & AV_DISPOSITION_ATTACHED_PIC))
				info->video_streams++;
			break;
		case AVMEDIA_TYPE_AUDIO:
			info->audio_streams++;
			break;
		case AVMEDIA_TYPE_SUBTITLE:
			info->subtitle_streams++;
			break;
		default:
			break;
		}
	}
	if (in->vi >= 0) {
		const AVStream *st = ic->streams[in->vi];
		const AVCodecParameters *par = st->codecpar;
		const char *prof = avcodec_profile_name(par->codec_id, par->profile);
		double avg = q2d_or0(st->avg_frame_rate), r = q2d_or0(st->r_frame_rate);
		size_t size = 0;
		const uint8_t *sd = av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, &size);

		snprintf(info->vcodec, sizeof(info->vcodec), "%s", avcodec_get_name(par->codec_id));
		snprintf(info->vprofile, sizeof(info->vprofile), "%s", prof ? prof : "");
		info->width = par->width;
		info->height = par->height;
		info->frame_rate = avg > 0 ? avg : r;
		if (info->frame_rate > MEDIA_FPS_MAX)	/* a time base read as a rate */
			info->frame_rate = 0;
		info->variable_frame_rate = avg > 0 && r > 0 && fabs(avg - r) > 0.01 * r;
		info->video_bit_rate = par->bit_rate > 0 ? par->bit_rate : 0;
		if (sd && size >= sizeof(in->matrix)) {
			memcpy(in->matrix, sd, sizeof(in->matrix));
			in->has_matrix = 1;
			info->rotation = rotation_of(in->matrix);
		}
	}
	if (in->ai >= 0) {
		const AVCodecParameters *par = ic->streams[in->ai]->codecpar;

		snprintf(info->acodec, sizeof(info->acodec), "%s", avcodec_get_name(par->codec_id));
		info->sample_rate = par->sample_rate;
		info->channels = par->ch_layout.nb_channels;
		info->audio_bit_rate = par->bit_rate > 0 ? par->bit_rate : 0;
	}
}

/* The decoder for ID: the first libavcodec registers whose name is in
 * MEDIA_DECODERS, or NULL when that format is not accepted. */
static const AVCodec *
accepted_decoder(enum AVCodecID id)
{
	const AVCodec *c;
	void *it = NULL;

	if (id == AV_CODEC_ID_NONE)
		return NULL;
	while ((c = av_codec_iterate(&it)))
		if (c->id == id && av_codec_is_decoder(c) && av_match_list(c->name, MEDIA_DECODERS, ',') > 0)
			return c;
	return NULL;
}

/* Refuses the video or audio (WHAT) of the file, in format NAME. */
static int
not_accepted(const char *what, const char *name, char *why, size_t whylen)
{
	int video = strcmp(what, "video") == 0;

	if (!name[0] || strcmp(name, "none") == 0)
		return say(why, whylen, TC_EUNSUPPORTED, "the %s is in a format that is not known here",
			   what);
	return say(why, whylen, TC_EUNSUPPORTED, "the %s is in %s, which is not accepted (accepted: %s)",
		   what, name, video ? "H.264, HEVC, VP8, VP9, AV1, MPEG-4 part 2, MPEG-1/2 and "
		   "Motion JPEG" : "AAC, MP3, MP2, Opus, Vorbis, FLAC, ALAC, AC-3, E-AC-3 and PCM");
}

/* The width of a W-pixel-wide picture as displayed, with its sample aspect
 * ratio SAR applied (unknown: square pixels). */
static double
shown_width(int w, AVRational sar)
{
	return sar.num > 0 && sar.den > 0 && sar.num != sar.den ? w * av_q2d(sar) : w;
}

/* The displayed size is bounded like the coded one: a 100:1 sample aspect
 * ratio would make the encoders' pictures 100 times as wide. */
static int
check_shown_size(const AVCodecParameters *par, char *why, size_t whylen)
{
	AVRational sar = par->sample_aspect_ratio;
	double w = shown_width(par->width, sar);

	if (w <= MEDIA_SIDE_MAX)
		return 0;
	return say(why, whylen, TC_EINVALID, "the video is displayed %.0f x %d pixels (its pixels are "
		   "%d:%d, not square); the largest accepted is %d pixels on the long side", w,
		   par->height, sar.num, sar.den, MEDIA_SIDE_MAX);
}

/* Why an input could not be opened, in words. */
static int
open_failed(struct input *in, const AVInputFormat *fmt, int err, char *why, size_t whylen)
{
	char e[AV_ERROR_MAX_STRING_SIZE];

	if (in->refused)
		return say(why, whylen, TC_EUNSUPPORTED,
			   "the file refers to another file, which is not allowed");
	if (err == AVERROR(ENOMEM))
		return say(why, whylen, TC_ENOMEM, "there was not enough memory to read the file");
	if (strncmp(fmt->name, "mov,", 4) == 0 && !has_moov(in->fd))
		return say(why, whylen, TC_EINVALID, "the file has no moov atom (its index): the "
			   "upload may be truncated, or the recording was not finished properly");
	av_make_error_string(e, sizeof(e), err);
	return say(why, whylen, TC_EINVALID, "the file looks like %s but cannot be read: it may be "
		   "damaged (%s)", fmt->long_name ? fmt->long_name : fmt->name, e);
}

/*
 * Opens FD (from its start), checks the limits and picks the streams.
 * On success IN holds the open input and INFO is filled in; on failure IN
 * holds nothing (input_close is still safe).
 */
static int
input_open(struct input *in, int fd, struct media_info *info, char *why, size_t whylen)
{
	const AVInputFormat *fmt = NULL;
	AVDictionary *opts = NULL, **sopts = NULL;
	unsigned char *buf = NULL;
	struct stat st;
	char e[AV_ERROR_MAX_STRING_SIZE], name[32];
	unsigned nstreams = 0;
	int ret, rc = 0;

	memset(in, 0, sizeof(*in));
	in->fd = fd;
	in->vi = in->ai = -1;
	memset(info, 0, sizeof(*info));
	if (fstat(fd, &st) || lseek(fd, 0, SEEK_SET) != 0)
		return say(why, whylen, TC_EIO, "the file cannot be read (%s)", strerror(errno));
	if (!S_ISREG(st.st_mode))
		return say(why, whylen, TC_EIO, "the upload is not a regular file");
	if (st.st_size == 0)
		return say(why, whylen, TC_EINVALID, "the file is empty");
	in->size = (int64_t)st.st_size;

	buf = av_malloc(IO_BUFFER);
	if (!buf)
		return TC_ENOMEM;
	in->pb = avio_alloc_context(buf, IO_BUFFER, 0, in, io_read, NULL, io_seek);
	if (!in->pb) {
		av_free(buf);
		return TC_ENOMEM;
	}
	ret = av_probe_input_buffer2(in->pb, &fmt, "", NULL, 0, 0);
	if (ret < 0 || !fmt) {
		rc = ret == AVERROR(ENOMEM) ? TC_ENOMEM : TC_EUNSUPPORTED;
		say(why, whylen, rc, "the file is not a video or audio recording that can be read");
		goto out;
	}
	if (!av_match_list(fmt->name, MEDIA_FORMATS, ',')) {
		first_name(fmt->name, name, sizeof(name));
		rc = say(why, whylen, TC_EUNSUPPORTED, "this kind of file (%s) is not accepted: upload "
			 "a video or audio recording (MP4, MOV, MKV, WebM, MP3, M4A ...)", name);
		goto out;
	}

	in->ic = avformat_alloc_context();
	if (!in->ic) {
		rc = TC_ENOMEM;
		goto out;
	}
	in->ic->pb = in->pb;
	in->ic->flags |= AVFMT_FLAG_CUSTOM_IO;
	in->ic->opaque = in;
	in->ic->io_open = io_open_refused;
	if (av_dict_set(&opts, "protocol_whitelist", "file", 0) < 0 ||
	    av_dict_set(&opts, "format_whitelist", MEDIA_FORMATS, 0) < 0 ||
	    av_dict_set(&opts, "codec_whitelist", MEDIA_DECODERS, 0) < 0 ||
	    av_dict_set_int(&opts, "max_streams", MEDIA_STREAMS_MAX + 1, 0) < 0 ||
	    av_dict_set(&opts, "enable_drefs", "0", 0) < 0) {
		rc = TC_ENOMEM;
		goto out;
	}
	ret = avformat_open_input(&in->ic, NULL, fmt, &opts);
	if (ret < 0) {		/* in->ic was freed */
		rc = open_failed(in, fmt, ret, why, whylen);
		goto out;
	}
	if ((rc = check_bounds(in->ic, why, whylen)))
		goto out;

	nstreams = in->ic->nb_streams;
	sopts = av_calloc(nstreams ? nstreams : 1, sizeof(*sopts));
	if (!sopts) {
		rc = TC_ENOMEM;
		goto out;
	}
	for (unsigned i = 0; i < nstreams; i++)
		if (av_dict_set_int(&sopts[i], "max_pixels", (int64_t)MEDIA_SIDE_MAX * MEDIA_SIDE_MAX, 0) < 0) {
			rc = TC_ENOMEM;
			goto out;
		}
	ret = avformat_find_stream_info(in->ic, sopts);
	if (ret < 0) {
		av_make_error_string(e, sizeof(e), ret);
		rc = in->refused ? say(why, whylen, TC_EUNSUPPORTED,
				       "the file refers to another file, which is not allowed")
			: say(why, whylen, av_rc(ret), "the streams in the file cannot be read: it may be "
			      "damaged (%s)", e);
		goto out;
	}
	if ((rc = check_bounds(in->ic, why, whylen)))
		goto out;
	if (in->ic->nb_streams == 0) {
		rc = say(why, whylen, TC_EINVALID, "the file has no playable content");
		goto out;
	}

	in->vi = pick_video(in->ic);
	ret = av_find_best_stream(in->ic, AVMEDIA_TYPE_AUDIO, -1, in->vi, NULL, 0);
	in->ai = ret >= 0 ? ret : -1;
	fill_info(in, info);
	if (in->vi < 0 && in->ai < 0) {
		rc = say(why, whylen, TC_EUNSUPPORTED, "the file has neither video nor audio");
		goto out;
	}
	if (in->vi >= 0 && !accepted_decoder(in->ic->streams[in->vi]->codecpar->codec_id)) {
		rc = not_accepted("video", info->vcodec, why, whylen);
		goto out;
	}
	if (in->ai >= 0 && !accepted_decoder(in->ic->streams[in->ai]->codecpar->codec_id)) {
		rc = not_accepted("audio", info->acodec, why, whylen);
		goto out;
	}
	if (in->vi >= 0 && (info->width <= 0 || info->height <= 0)) {
		rc = say(why, whylen, TC_EINVALID, "the size of the video cannot be read: the file "
			 "may be damaged");
		goto out;
	}
	if (in->vi >= 0 && (rc = check_shown_size(in->ic->streams[in->vi]->codecpar, why, whylen)))
		goto out;
	for (unsigned i = 0; i < in->ic->nb_streams; i++)
		if ((int)i != in->vi && (int)i != in->ai)
			in->ic->streams[i]->discard = AVDISCARD_ALL;
out:
	if (sopts)
		for (unsigned i = 0; i < nstreams; i++)
			av_dict_free(&sopts[i]);
	av_free(sopts);
	av_dict_free(&opts);
	if (rc)
		input_close(in);
	return rc;
}

int
media_probe(int fd, struct media_info *out, char *why, size_t whylen)
{
	struct input in;
	AVPacket *pkt = NULL;
	int rc, ret, found = 0;

	if (why && whylen)
		why[0] = '\0';
	rc = input_open(&in, fd, out, why, whylen);
	if (rc)
		return rc;
	/* no duration: is there anything to play at all? */
	if (out->duration <= 0) {
		pkt = av_packet_alloc();
		if (!pkt) {
			rc = TC_ENOMEM;
			goto out;
		}
		for (int i = 0; i < 64 && !found; i++) {
			ret = av_read_frame(in.ic, pkt);
			if (ret < 0)
				break;
			found = pkt->stream_index == in.vi || pkt->stream_index == in.ai;
			av_packet_unref(pkt);
		}
		if (!found)
			rc = say(why, whylen, TC_EINVALID, "the file has no playable content");
	}
out:
	av_packet_free(&pkt);
	input_close(&in);
	if (rc)
		memset(out, 0, sizeof(*out));
	return rc;
}

/* ---- sizes and pictures -------------------------------------------------- */

/* V rounded to an even number of pixels, 2 to MEDIA_SIDE_MAX. */
static int
even(double v)
{
	if (!(v >= 2))			/* also NaN */
		return 2;
	if (v > MEDIA_SIDE_MAX)
		v = MEDIA_SIDE_MAX;
	return (int)lrint(v / 2) * 2;
}

/*
 * The size to scale a W x H video with sample aspect SAR to, in the
 * source's orientation, square pixels, at most SHORT_MAX on the short side
 * (never upscaled), even, at most MEDIA_SIDE_MAX on each side. input_open
 * refused streams displayed wider than that; a decoded frame may still
 * bring a size or an aspect ratio of its own, which is then squeezed in.
 */
static void
fit_short(int w, int h, AVRational sar, int short_max, int *ow, int *oh)
{
	double dw = shown_width(w, sar), dh = h, s;

	dw = fmin(fmax(dw, 1), MEDIA_SIDE_MAX);
	dh = fmin(fmax(dh, 1), MEDIA_SIDE_MAX);
	s = fmin(dw, dh);
	s = s > short_max ? short_max / s : 1.0;
	*ow = even(dw * s);
	*oh = even(dh * s);
}

/* Rotates the three 8-bit 4:2:0 planes of SRC clockwise by ROT into DST
 * (allocated with the turned size). */
static void
rotate_planes(const AVFrame *src, AVFrame *dst, int rot)
{
	for (int p = 0; p < 3; p++) {
		int sw = p ? src->width / 2 : src->width, sh = p ? src->height / 2 : src->height;
		const uint8_t *s = src->data[p];
		uint8_t *d = dst->data[p];
		int sl = src->linesize[p], dl = dst->linesize[p];

		if (rot == 90) {		/* dst is sh wide, sw high */
			for (int y = 0; y < sw; y++)
				for (int x = 0; x < sh; x++)
					d[y * dl + x] = s[(sh - 1 - x) * sl + y];
		} else if (rot == 270) {
			for (int y = 0; y < sw; y++)
				for (int x = 0; x < sh; x++)
					d[y * dl + x] = s[x * sl + (sw - 1 - y)];
		} else {			/* 180 */
			for (int y = 0; y < sh; y++)
				for (int x = 0; x < sw; x++)
					d[y * dl + x] = s[(sh - 1 - y) * sl + (sw - 1 - x)];
		}
	}
}

static AVFrame *
picture_alloc(int w, int h, enum AVPixelFormat fmt)
{
	AVFrame *f = av_frame_alloc();

	if (!f)
		return NULL;
	f->width = w;
	f->height = h;
	f->format = fmt;
	if (av_frame_get_buffer(f, 0) < 0)
		av_frame_free(&f);
	return f;
}

/* ---- packaging ----------------------------------------------------------- */

/* One rendition being written. */
struct rend {
	struct media_rendition *r;	/* its entry in the result */
	AVFormatContext *oc;		/* the hls muxer */
	int started, finished;		/* header / trailer written */
	int audio_enc;			/* carries the shared AAC packets */
	AVStream *vst, *ast;		/* output streams, NULL when absent */
	AVCodecContext *venc;		/* NULL: video copied or absent */
	struct SwsContext *sws;
	AVFrame *scaled, *turned;
	int sw, sh;			/* scaled size, source orientation */
	int64_t key_slot;		/* last 2-s slot a key frame was forced in */
	char dir[PATH_MAX];
};

struct job {
	struct input in;
	const char *outdir;
	unsigned want;			/* MEDIA_ORIGINAL | MEDIA_360P | MEDIA_AUDIO */
	struct media_result *res;
	media_progress_fn progress;
	void *arg;
	int pct;
	int64_t last_us;
	char *why;
	size_t whylen;

	AVStream *vs, *as;
	int64_t voff, aoff;		/* start time, in the streams' time bases */
	int rotation;
	AVCodecContext *vdec, *adec, *aenc;
	struct SwrContext *swr;
	AVAudioFifo *fifo;
	AVFrame *frame, *aconv, *aout, *poster;
	AVFrame *held;			/* the last frame encoded */
	int aconv_cap, poster_final;
	int swr_format, swr_rate, swr_channels;	/* what the resampler takes */
	int64_t anext;			/* next AAC pts (1/sample rate) */
	int64_t last_slot, last_vpts;	/* frame-rate cap, monotonic pts */
	/* how long each recently encoded frame lasts (pts to the next kept
	 * frame's): the hls muxer adds packet durations up into EXTINF, and
	 * libavformat would otherwise guess them from the frame rate, which
	 * is wrong for variable frame rates */
	struct { int64_t pts, dur; } durs[DURATIONS];
	unsigned ndurs;
	int64_t last_dur;
	/* copied video packets wait here until the presentation time of the
	 * frame after them is known, for the same reason */
	AVPacket *copyq[REORDER + 1];
	int ncopyq;
	int64_t seen[SEEN];		/* pts of the latest copied packets */
	unsigned nseen;
	int64_t copy_dur;
	int cap_fps;
	AVPacket *pkt, *opkt, *epkt;

	struct rend rend[MEDIA_RENDITIONS_MAX];
	int nrend;
	struct rend *orig, *p360, *audio;
	double end_time;		/* seconds reached by the demuxed packets */
	int64_t vpackets, vframes, apackets, aframes;
};

static void
report(struct job *j, const char *stage, int pct, int force)
{
	int64_t now;

	if (!j->progress || pct <= j->pct)
		return;
	now = av_gettime_relative();
	if (!force && j->last_us && now - j->last_us < PROGRESS_US)
		return;
	j->pct = pct;
	j->last_us = now;
	j->progress(j->arg, stage, pct);
}

static int
job_fail_av(struct job *j, int err, const char *what)
{
	char e[AV_ERROR_MAX_STRING_SIZE];
	int rc = av_rc(err);

	av_make_error_string(e, sizeof(e), err);
	if (rc == TC_ENOMEM)
		return say(j->why, j->whylen, rc, "there was not enough memory to %s", what);
	if (rc == TC_EIO)
		return say(j->why, j->whylen, rc, "the server could not %s (%s)", what, e);
	return say(j->why, j->whylen, rc, "could not %s (%s)", what, e);
}

/* Creates OUTDIR/NAME and its hls muxer; streams are added by the caller. */
static int
rend_create(struct job *j, struct rend *o, const char *name, int copy)
{
	char url[PATH_MAX + 16];
	int ret;

	o->key_slot = INT64_MIN;
	if (snprintf(o->dir, sizeof(o->dir), "%s/%s", j->outdir, name) >= (int)sizeof(o->dir))
		return say(j->why, j->whylen, TC_EIO, "the output folder name is too long");
	if (mkdir(o->dir, 0755) != 0)
		return say(j->why, j->whylen, TC_EIO, "the server could not create the folder %s (%s)",
			   name, strerror(errno));
	snprintf(url, sizeof(url), "%s/index.m3u8", o->dir);
	o->r = &j->res->r[j->res->nr++];
	snprintf(o->r->name, sizeof(o->r->name), "%s", name);
	o->r->copy = copy;
	ret = avformat_alloc_output_context2(&o->oc, NULL, "hls", url);
	if (ret < 0 || !o->oc)
		return job_fail_av(j, ret < 0 ? ret : AVERROR(ENOMEM), "start the HLS writer");
	return 0;
}

static int
rend_start(struct job *j, struct rend *o)
{
	AVDictionary *opts = NULL;
	char segs[PATH_MAX + 32];
	int ret;

	snprintf(segs, sizeof(segs), "%s/seg_%%05d.m4s", o->dir);
	if (av_dict_set(&opts, "hls_time", SEGMENT_SECONDS, 0) < 0 ||
	    av_dict_set(&opts, "hls_list_size", "0", 0) < 0 ||
	    av_dict_set(&opts, "hls_playlist_type", "vod", 0) < 0 ||
	    av_dict_set(&opts, "hls_segment_type", "fmp4", 0) < 0 ||
	    av_dict_set(&opts, "hls_fmp4_init_filename", "init.mp4", 0) < 0 ||
	    av_dict_set(&opts, "hls_segment_filename", segs, 0) < 0 ||
	    av_dict_set(&opts, "hls_flags", "independent_segments+temp_file", 0) < 0) {
		av_dict_free(&opts);
		return TC_ENOMEM;
	}
	ret = avformat_write_header(o->oc, &opts);
	av_dict_free(&opts);
	if (ret < 0)
		return job_fail_av(j, ret, "start writing the HLS renditions");
	o->started = 1;
	return 0;
}

/* Writes PKT (its reference is taken) into O. */
static int
rend_write(struct job *j, struct rend *o, AVPacket *pkt)
{
	int ret = av_interleaved_write_frame(o->oc, pkt);

	av_packet_unref(pkt);
	return ret < 0 ? job_fail_av(j, ret, "write the HLS segments") : 0;
}

static void
rend_cleanup(struct rend *o)
{
	if (o->started && !o->finished)
		av_write_trailer(o->oc);	/* frees what the muxer holds */
	avformat_free_context(o->oc);
	avcodec_free_context(&o->venc);
	sws_freeContext(o->sws);
	av_frame_free(&o->scaled);
	av_frame_free(&o->turned);
}

static AVStream *
copy_stream(struct job *j, struct rend *o, const AVStream *ist)
{
	AVStream *ost = avformat_new_stream(o->oc, NULL);

	if (!ost || avcodec_parameters_copy(ost->codecpar, ist->codecpar) < 0) {
		say(j->why, j->whylen, TC_ENOMEM, "there was not enough memory to copy the streams");
		return NULL;
	}
	ost->codecpar->codec_tag = 0;
	ost->time_base = ist->time_base;
	ost->avg_frame_rate = ist->avg_frame_rate;
	return ost;
}

static AVStream *
encoded_stream(struct job *j, struct rend *o, const AVCodecContext *enc)
{
	AVStream *ost = avformat_new_stream(o->oc, NULL);

	if (!ost || avcodec_parameters_from_context(ost->codecpar, enc) < 0) {
		say(j->why, j->whylen, TC_ENOMEM, "there was not enough memory to set up the encoders");
		return NULL;
	}
	ost->time_base = enc->time_base;
	if (enc->codec_type == AVMEDIA_TYPE_VIDEO)
		ost->avg_frame_rate = enc->framerate;
	return ost;
}

/* Source frame rate used for the encoders (capped). */
static AVRational
encode_rate(const struct job *j)
{
	AVRational r = j->vs->avg_frame_rate;

	if (r.num <= 0 || r.den <= 0)
		r = j->vs->r_frame_rate;
	if (r.num <= 0 || r.den <= 0 || av_q2d(r) > FPS_MAX)
		r = (AVRational){ FPS_MAX, 1 };
	return r;
}

/* Opens the H.264 encoder of O: at most SHORT_MAX lines, BITRATE, x264's
 * PRESET. */
static int
venc_open(struct job *j, struct rend *o, int short_max, int64_t bitrate, const char *preset)
{
	const AVCodecParameters *par = j->vs->codecpar;
	const AVCodec *codec = avcodec_find_encoder_by_name("libx264");
	AVDictionary *opts = NULL;
	AVCodecContext *enc;
	AVRational fps = encode_rate(j);
	int turned = j->rotation == 90 || j->rotation == 270, ret, keyint;

	if (!codec)
		return say(j->why, j->whylen, TC_EUNSUPPORTED, "the H.264 encoder (libx264) is not "
			   "available on this server");
	fit_short(par->width, par->height, par->sample_aspect_ratio, short_max, &o->sw, &o->sh);
	o->venc = enc = avcodec_alloc_context3(codec);
	if (!enc)
		return TC_ENOMEM;
	enc->width = turned ? o->sh : o->sw;
	enc->height = turned ? o->sw : o->sh;
	enc->sample_aspect_ratio = (AVRational){ 1, 1 };
	enc->pix_fmt = AV_PIX_FMT_YUV420P;
	enc->time_base = j->vs->time_base;
	enc->framerate = fps;
	enc->bit_rate = bitrate;
	enc->rc_max_rate = bitrate * 3 / 2;
	enc->rc_buffer_size = (int)(bitrate * 2);
	keyint = (int)lrint(av_q2d(fps) * KEY_SECONDS);
	enc->gop_size = keyint < 1 ? 1 : keyint;
	enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
	enc->color_range = AVCOL_RANGE_MPEG;
	enc->color_primaries = par->color_primaries;
	enc->color_trc = par->color_trc;
	enc->colorspace = par->color_space;
	if (av_dict_set(&opts, "preset", preset, 0) < 0 ||
	    av_dict_set(&opts, "profile", "high", 0) < 0 ||
	    av_dict_set(&opts, "forced-idr", "1", 0) < 0 ||
	    av_dict_set(&opts, "x264-params", "scenecut=0", 0) < 0) {
		av_dict_free(&opts);
		return TC_ENOMEM;
	}
	ret = avcodec_open2(enc, codec, &opts);
	av_dict_free(&opts);
	if (ret < 0)
		return job_fail_av(j, ret, "start the H.264 encoder");
	o->scaled = picture_alloc(o->sw, o->sh, AV_PIX_FMT_YUV420P);
	if (!o->scaled || (j->rotation && !(o->turned = picture_alloc(enc->width, enc->height,
								     AV_PIX_FMT_YUV420P))))
		return TC_ENOMEM;
	o->vst = encoded_stream(j, o, enc);
	return o->vst ? 0 : TC_ENOMEM;
}

/* SKIP_DEBLOCK: the pictures only feed renditions at half the source size
 * or less (and the poster), where the scaler's filtering hides what the
 * in-loop deblocking filter would have smoothed: about a tenth of the
 * job's CPU saved for a loss under 0.001 SSIM at 360p. */
static int
decoder_open(struct job *j, const AVStream *st, int skip_deblock, AVCodecContext **out)
{
	const AVCodec *codec = accepted_decoder(st->codecpar->codec_id);
	AVCodecContext *dec;
	int ret;

	*out = NULL;
	if (!codec)			/* input_open refused these */
		return say(j->why, j->whylen, TC_EUNSUPPORTED, "the recording is in a format that "
			   "is not accepted");
	*out = dec = avcodec_alloc_context3(codec);
	if (!dec)
		return TC_ENOMEM;
	ret = avcodec_parameters_to_context(dec, st->codecpar);
	if (ret < 0)
		return job_fail_av(j, ret, "set up the decoder");
	dec->pkt_timebase = st->time_base;
	dec->thread_count = 0;
	dec->thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE;
	dec->max_pixels = (int64_t)MEDIA_SIDE_MAX * MEDIA_SIDE_MAX;
	if (skip_deblock)
		dec->skip_loop_filter = AVDISCARD_ALL;
	ret = avcodec_open2(dec, codec, NULL);
	if (ret < 0)
		return job_fail_av(j, ret, st->codecpar->codec_type == AVMEDIA_TYPE_VIDEO ?
				   "start the video decoder" : "start the audio decoder");
	return 0;
}

static int
aenc_open(struct job *j)
{
	const AVCodecParameters *par = j->as->codecpar;
	const AVCodec *codec = avcodec_find_encoder_by_name("aac");
	AVDictionary *opts = NULL;
	AVCodecContext *enc;
	int ret;

	if (!codec)
		return say(j->why, j->whylen, TC_EUNSUPPORTED, "the AAC encoder is not available");
	j->aenc = enc = avcodec_alloc_context3(codec);
	if (!enc)
		return TC_ENOMEM;
	enc->sample_fmt = AV_SAMPLE_FMT_FLTP;
	enc->sample_rate = par->sample_rate == 48000 ? 48000 : 44100;
	av_channel_layout_default(&enc->ch_layout, par->ch_layout.nb_channels == 1 ? 1 : 2);
	enc->bit_rate = AUDIO_BITRATE;
	enc->time_base = (AVRational){ 1, enc->sample_rate };
	enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
	/* the "fast" coder: speech at 64 kbit/s gains little from the default
	 * two-loop search, which costs a tenth of the whole job */
	if (av_dict_set(&opts, "aac_coder", "fast", 0) < 0)
		return TC_ENOMEM;
	ret = avcodec_open2(enc, codec, &opts);
	av_dict_free(&opts);
	if (ret < 0)
		return job_fail_av(j, ret, "start the AAC encoder");
	j->fifo = av_audio_fifo_alloc(enc->sample_fmt, enc->ch_layout.nb_channels, enc->frame_size * 4);
	j->aout = av_frame_alloc();
	j->aconv = av_frame_alloc();
	if (!j->fifo || !j->aout || !j->aconv)
		return TC_ENOMEM;
	j->aout->format = enc->sample_fmt;
	j->aout->sample_rate = enc->sample_rate;
	j->aout->nb_samples = enc->frame_size;
	if (av_channel_layout_copy(&j->aout->ch_layout, &enc->ch_layout) < 0 ||
	    av_frame_get_buffer(j->aout, 0) < 0)
		return TC_ENOMEM;
	return 0;
}

/* H.264 avc1.PPCCLL from avcC or Annex B extradata; "" when not found. */
static void
avc1_codec(const uint8_t *x, int n, char *out, size_t outlen)
{
	out[0] = '\0';
	if (!x || n < 4)
		return;
	if (x[0] == 1) {
		snprintf(out, outlen, "avc1.%02x%02x%02x", x[1], x[2], x[3]);
		return;
	}
	for (int i = 0; i + 7 <= n; i++)	/* 00 00 01 67 PP CC LL */
		if (x[i] == 0 && x[i + 1] == 0 && x[i + 2] == 1 && (x[i + 3] & 0x1f) == 7) {
			snprintf(out, outlen, "avc1.%02x%02x%02x", x[i + 4], x[i + 5], x[i + 6]);
			return;
		}
}

/* mp4a.40.N: 2 AAC-LC, 5 HE-AAC, 29 HE-AACv2. */
static const char *
mp4a_codec(const AVCodecParameters *par)
{
	int aot = par->extradata_size >= 2 ? par->extradata[0] >> 3 : 2;

	if (par->profile == FF_PROFILE_AAC_HE_V2 || aot == 29)
		return "mp4a.40.29";
	if (par->profile == FF_PROFILE_AAC_HE || aot == 5)
		return "mp4a.40.5";
	return "mp4a.40.2";
}

/* The source can be served as it is: H.264 8-bit 4:2:0 with avcC, and
 * AAC with its configuration or no audio. */
static int
copyable(const struct job *j)
{
	const AVCodecParameters *v = j->vs->codecpar, *a = j->as ? j->as->codecpar : NULL;

	if (v->codec_id != AV_CODEC_ID_H264 || v->extradata_size < 7 || v->extradata[0] != 1 ||
	    (v->format != AV_PIX_FMT_YUV420P && v->format != AV_PIX_FMT_YUVJ420P))
		return 0;
	return !a || (a->codec_id == AV_CODEC_ID_AAC && a->extradata_size >= 2);
}

/* Sets up the renditions asked for that apply, and the decoders and
 * encoders they need (none for a copy alone). */
static int
job_plan(struct job *j)
{
	const struct media_info *info = &j->res->info;
	int copy = 0, rc;
	struct rend *o;

	if (j->vs) {
		const AVCodecParameters *v = j->vs->codecpar;
		int sw, sh;

		j->rotation = info->rotation;
		copy = copyable(j);
		fit_short(v->width, v->height, v->sample_aspect_ratio, INT_MAX, &sw, &sh);
		j->cap_fps = q2d_or0(j->vs->avg_frame_rate) > FPS_MAX + 0.5 ||
			     q2d_or0(j->vs->r_frame_rate) > FPS_MAX + 0.5;
		if ((j->want & MEDIA_ORIGINAL) && (copy || FFMIN(sw, sh) > SHORT_360)) {
			j->orig = o = &j->rend[j->nrend++];
			if ((rc = rend_create(j, o, "original", copy)))
				return rc;
		}
		if (j->want & MEDIA_360P) {
			j->p360 = o = &j->rend[j->nrend++];
			if ((rc = rend_create(j, o, "360p", 0)))
				return rc;
		}
		if ((j->p360 || (j->orig && !copy)) &&
		    (rc = decoder_open(j, j->vs, !(j->orig && !copy) && FFMIN(sw, sh) >= 2 * SHORT_360,
				       &j->vdec)))
			return rc;
	}
	if (j->as && (j->want & MEDIA_AUDIO)) {
		j->audio = o = &j->rend[j->nrend++];
		if ((rc = rend_create(j, o, "audio", 0)))
			return rc;
	}
	if (j->nrend == 0)
		return say(j->why, j->whylen, TC_EINVALID, "none of the renditions asked for can be "
			   "made from this file");
	/* encoded audio: in the audio rendition, 360p and an encoded original */
	if (j->as && (j->audio || j->p360 || (j->orig && !copy)) &&
	    ((rc = decoder_open(j, j->as, 0, &j->adec)) || (rc = aenc_open(j))))
		return rc;

	/* streams: video first, then audio */
	if (j->orig) {
		o = j->orig;
		if (copy) {
			if (!(o->vst = copy_stream(j, o, j->vs)))
				return TC_ENOMEM;
		} else if ((rc = venc_open(j, o, SHORT_ORIGINAL, ORIGINAL_BITRATE, PRESET_ORIGINAL))) {
			return rc;
		}
		if (j->as) {
			o->audio_enc = !copy;
			o->ast = copy ? copy_stream(j, o, j->as) : encoded_stream(j, o, j->aenc);
			if (!o->ast)
				return TC_ENOMEM;
		}
	}
	if (j->p360) {
		if ((rc = venc_open(j, j->p360, SHORT_360, V360_BITRATE, PRESET_360)))
			return rc;
		if (j->as) {
			j->p360->audio_enc = 1;
			if (!(j->p360->ast = encoded_stream(j, j->p360, j->aenc)))
				return TC_ENOMEM;
		}
	}
	if (j->audio) {
		j->audio->audio_enc = 1;
		if (!(j->audio->ast = encoded_stream(j, j->audio, j->aenc)))
			return TC_ENOMEM;
	}
	for (int i = 0; i < j->nrend; i++)
		if ((rc = rend_start(j, &j->rend[i])))
			return rc;
	return 0;
}

/* The duration of the frame encoded at PTS (encoder time base). */
static int64_t
frame_duration(const struct job *j, int64_t pts)
{
	unsigned n = j->ndurs < DURATIONS ? j->ndurs : DURATIONS;

	for (unsigned i = 1; i <= n; i++) {
		unsigned k = (j->ndurs - i) % DURATIONS;

		if (j->durs[k].pts == pts)
			return j->durs[k].dur;
	}
	return j->last_dur;		/* the last frame: as long as the one before */
}

/* Sends the packets EOF has ready to the renditions they belong to: video
 * packets of O's encoder to O, AAC packets to every rendition that takes
 * them. */
static int
drain_encoder(struct job *j, AVCodecContext *enc, struct rend *o)
{
	int ret, rc;

	for (;;) {
		ret = avcodec_receive_packet(enc, j->epkt);
		if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
			return 0;
		if (ret < 0)
			return job_fail_av(j, ret, "encode the recording");
		if (o) {
			j->epkt->duration = frame_duration(j, j->epkt->pts);
			j->epkt->stream_index = o->vst->index;
			av_packet_rescale_ts(j->epkt, enc->time_base, o->vst->time_base);
			if ((rc = rend_write(j, o, j->epkt)))
				return rc;
			continue;
		}
		for (int i = 0; i < j->nrend; i++) {
			struct rend *a = &j->rend[i];

			if (!a->audio_enc)
				continue;
			if (av_packet_ref(j->opkt, j->epkt) < 0) {
				av_packet_unref(j->epkt);
				return TC_ENOMEM;
			}
			j->opkt->stream_index = a->ast->index;
			av_packet_rescale_ts(j->opkt, enc->time_base, a->ast->time_base);
			if ((rc = rend_write(j, a, j->opkt))) {
				av_packet_unref(j->epkt);
				return rc;
			}
		}
		av_packet_unref(j->epkt);
	}
}

/* Scales (and turns) FRAME for O's encoder and encodes it at PTS. */
static int
encode_video(struct job *j, struct rend *o, const AVFrame *frame, int64_t pts)
{
	AVFrame *pic = o->scaled;
	int64_t slot;
	int ret;

	o->sws = sws_getCachedContext(o->sws, frame->width, frame->height, frame->format,
				      o->sw, o->sh, AV_PIX_FMT_YUV420P, SWS_BILINEAR, NULL, NULL, NULL);
	if (!o->sws)
		return say(j->why, j->whylen, TC_EINVALID, "the video's pictures cannot be converted");
	if (av_frame_make_writable(o->scaled) < 0)
		return TC_ENOMEM;
	sws_scale(o->sws, (const uint8_t *const *)frame->data, frame->linesize, 0, frame->height,
		  o->scaled->data, o->scaled->linesize);
	if (j->rotation) {
		if (av_frame_make_writable(o->turned) < 0)
			return TC_ENOMEM;
		rotate_planes(o->scaled, o->turned, j->rotation);
		pic = o->turned;
	}
	pic->pts = pts;
	slot = av_rescale_q_rnd(pts, j->vs->time_base, (AVRational){ KEY_SECONDS, 1 }, AV_ROUND_DOWN);
	pic->pict_type = slot > o->key_slot ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE;
	if (slot > o->key_slot)
		o->key_slot = slot;
	ret = avcodec_send_frame(o->venc, pic);
	if (ret < 0)
		return job_fail_av(j, ret, "encode the video");
	return drain_encoder(j, o->venc, o);
}

/* Encodes FRAME at PTS for every encoded rendition, noting how long the
 * frame before it lasts. */
static int
encode_all(struct job *j, const AVFrame *frame, int64_t pts)
{
	int rc;

	if (j->last_vpts != INT64_MIN) {
		unsigned k = j->ndurs++ % DURATIONS;

		j->durs[k].pts = j->last_vpts;
		j->durs[k].dur = j->last_dur = pts - j->last_vpts;
	} else {
		j->last_dur = av_rescale_q(1, av_inv_q(encode_rate(j)), j->vs->time_base);
	}
	j->last_vpts = pts;
	for (int i = 0; i < j->nrend; i++)
		if (j->rend[i].venc && (rc = encode_video(j, &j->rend[i], frame, pts)))
			return rc;
	return 0;
}

/* The recording (or a jump in its timestamps) goes on past LONGEST. */
static int
too_long(struct job *j)
{
	return say(j->why, j->whylen, TC_EINVALID, "the recording goes on for more than %d h, or its "
		   "timestamps jump that far; at most %d h are accepted", MEDIA_DURATION_MAX / 3600,
		   MEDIA_DURATION_MAX / 3600);
}

/*
 * Repeats the last frame every KEY_SECONDS until UNTIL (stream time base):
 * the hls muxer cuts only at video key frames, so a still picture over a
 * long talk, or a long gap, would otherwise make one huge segment.
 */
static int
fill_gap(struct job *j, int64_t until)
{
	int64_t step = av_rescale_q(KEY_SECONDS, (AVRational){ 1, 1 }, j->vs->time_base);
	int rc;

	if (!j->held->buf[0] || step <= 0)
		return 0;
	if ((double)until - (double)j->last_vpts > LONGEST / av_q2d(j->vs->time_base))
		return too_long(j);		/* (in double: hostile timestamps overflow) */
	while (until - j->last_vpts > step)
		if ((rc = encode_all(j, j->held, j->last_vpts + step)))
			return rc;
	return 0;
}

static int
on_video_frame(struct job *j, AVFrame *frame)
{
	int64_t pts = frame->best_effort_timestamp;
	double t;
	int rc;

	j->vframes++;
	if (pts == AV_NOPTS_VALUE)
		pts = j->last_vpts == INT64_MIN ? 0 : j->last_vpts + 1;
	/* the poster: the first frame past 10%, else the last one */
	if (!j->poster_final) {
		t = pts * av_q2d(j->vs->time_base);
		av_frame_unref(j->poster);
		if (av_frame_ref(j->poster, frame) < 0)
			return TC_ENOMEM;
		j->poster_final = t >= j->res->info.duration * 0.10;
	}
	if (pts <= j->last_vpts)
		return 0;
	if (j->cap_fps) {
		int64_t slot = av_rescale_q_rnd(pts, j->vs->time_base, (AVRational){ 1, FPS_MAX },
						AV_ROUND_NEAR_INF | AV_ROUND_PASS_MINMAX);
		if (slot <= j->last_slot)
			return 0;
		j->last_slot = slot;
	}
	if ((rc = fill_gap(j, pts)) || (rc = encode_all(j, frame, pts)))
		return rc;
	av_frame_unref(j->held);
	return av_frame_ref(j->held, frame) < 0 ? TC_ENOMEM : 0;
}

static int
aconv_reserve(struct job *j, int nb)
{
	if (nb <= j->aconv_cap)
		return 0;
	av_frame_unref(j->aconv);
	j->aconv->format = j->aenc->sample_fmt;
	j->aconv->sample_rate = j->aenc->sample_rate;
	j->aconv->nb_samples = nb;
	if (av_channel_layout_copy(&j->aconv->ch_layout, &j->aenc->ch_layout) < 0 ||
	    av_frame_get_buffer(j->aconv, 0) < 0)
		return TC_ENOMEM;
	j->aconv_cap = nb;
	return 0;
}

/* Encodes whole AAC frames from the FIFO (and the rest when FLUSH). */
static int
encode_audio(struct job *j, int flush)
{
	int fs = j->aenc->frame_size, n, ret, rc;

	while ((n = av_audio_fifo_size(j->fifo)) >= fs || (flush && n > 0)) {
		if (n > fs)
			n = fs;
		j->aout->nb_samples = fs;
		if (av_frame_make_writable(j->aout) < 0)
			return TC_ENOMEM;
		if (av_audio_fifo_read(j->fifo, (void **)j->aout->data, n) != n)
			return TC_ENOMEM;
		j->aout->nb_samples = n;
		j->aout->pts = j->anext;
		j->anext += n;
		ret = avcodec_send_frame(j->aenc, j->aout);
		if (ret < 0)
			return job_fail_av(j, ret, "encode the audio");
		if ((rc = drain_encoder(j, j->aenc, NULL)))
			return rc;
	}
	return 0;
}

/* Resamples FRAME (NULL: what the resampler still holds) into the FIFO
 * and encodes the whole AAC frames it then holds. */
static int
resample(struct job *j, const AVFrame *frame)
{
	int in = frame ? frame->nb_samples : 0, n, rc;

	if (frame && !j->swr) {
		AVChannelLayout layout = { 0 };
		int ret;

		if (frame->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC ||
		    !av_channel_layout_check(&frame->ch_layout))
			av_channel_layout_default(&layout, frame->ch_layout.nb_channels);
		else if (av_channel_layout_copy(&layout, &frame->ch_layout) < 0)
			return TC_ENOMEM;
		ret = swr_alloc_set_opts2(&j->swr, &j->aenc->ch_layout, j->aenc->sample_fmt,
					  j->aenc->sample_rate, &layout, frame->format,
					  frame->sample_rate, 0, NULL);
		av_channel_layout_uninit(&layout);
		if (ret >= 0)
			ret = swr_init(j->swr);
		if (ret < 0)
			return say(j->why, j->whylen, av_rc(ret), "the audio cannot be converted "
				   "(%d channels at %d Hz)", frame->ch_layout.nb_channels,
				   frame->sample_rate);
		j->swr_format = frame->format;
		j->swr_rate = frame->sample_rate;
		j->swr_channels = frame->ch_layout.nb_channels;
	}
	if (!j->swr)
		return 0;
	for (;;) {
		int max = swr_get_out_samples(j->swr, in);

		if (max < 0)
			return say(j->why, j->whylen, TC_EINVALID, "the audio cannot be converted");
		if ((rc = aconv_reserve(j, max + 16)))
			return rc;
		n = swr_convert(j->swr, j->aconv->data, j->aconv_cap,
				frame ? (const uint8_t **)frame->extended_data : NULL, in);
		if (n < 0)
			return say(j->why, j->whylen, TC_EINVALID, "the audio cannot be converted");
		if (n > 0 && av_audio_fifo_write(j->fifo, (void **)j->aconv->data, n) != n)
			return TC_ENOMEM;
		if (frame || n == 0)	/* one call converts a frame; flushing ends empty */
			break;
	}
	return encode_audio(j, 0);
}

static int
on_audio_frame(struct job *j, AVFrame *frame)
{
	j->aframes++;
	if (frame->sample_rate <= 0 || frame->ch_layout.nb_channels <= 0)
		return 0;
	/* audio that changes format midway keeps its first format; the rest
	 * is left out rather than failing the whole recording */
	if (j->swr && (frame->format != j->swr_format || frame->sample_rate != j->swr_rate ||
		       frame->ch_layout.nb_channels != j->swr_channels))
		return 0;
	if (j->anext == AV_NOPTS_VALUE) {
		int64_t pts = frame->best_effort_timestamp;

		j->anext = pts == AV_NOPTS_VALUE ? 0 :
			av_rescale_q(pts, j->as->time_base, j->aenc->time_base);
	}
	return resample(j, frame);
}

/* Sends PKT (NULL: flush) to DEC and hands every frame to the handler.
 * Data the decoder rejects is skipped: damaged stretches are common. */
static int
decode(struct job *j, AVCodecContext *dec, const AVPacket *pkt)
{
	int ret = avcodec_send_packet(dec, pkt), rc;

	if (ret == AVERROR(ENOMEM))
		return TC_ENOMEM;
	for (;;) {
		ret = avcodec_receive_frame(dec, j->frame);
		if (ret == AVERROR(ENOMEM))
			return TC_ENOMEM;
		if (ret < 0)
			return 0;
		rc = dec == j->vdec ? on_video_frame(j, j->frame) : on_audio_frame(j, j->frame);
		av_frame_unref(j->frame);
		if (rc)
			return rc;
	}
}

/* A demuxed packet of the stream copied into O. */
static int
copy_packet(struct job *j, struct rend *o, AVStream *ost, const AVStream *ist)
{
	if (av_packet_ref(j->opkt, j->pkt) < 0)
		return TC_ENOMEM;
	j->opkt->stream_index = ost->index;
	j->opkt->pos = -1;
	av_packet_rescale_ts(j->opkt, ist->time_base, ost->time_base);
	return rend_write(j, o, j->opkt);
}

/* Writes the oldest waiting copied video packet, lasting until the next
 * presentation time among the packets around it. */
static int
copy_video_pop(struct job *j)
{
	AVPacket *pkt = j->copyq[0];
	unsigned n = j->nseen < SEEN ? j->nseen : SEEN;
	int64_t next = INT64_MAX;
	int rc;

	memmove(j->copyq, j->copyq + 1, sizeof(j->copyq[0]) * (size_t)--j->ncopyq);
	j->copyq[j->ncopyq] = NULL;
	if (pkt->pts != AV_NOPTS_VALUE) {
		for (unsigned i = 0; i < n; i++)
			if (j->seen[i] > pkt->pts && j->seen[i] < next)
				next = j->seen[i];
		if (next != INT64_MAX)
			j->copy_dur = next - pkt->pts;
		if (j->copy_dur > 0)
			pkt->duration = j->copy_dur;
	}
	pkt->stream_index = j->orig->vst->index;
	pkt->pos = -1;
	av_packet_rescale_ts(pkt, j->vs->time_base, j->orig->vst->time_base);
	rc = rend_write(j, j->orig, pkt);
	av_packet_free(&pkt);
	return rc;
}

/* Queues the demuxed video packet for the copy; FLUSH writes them all. */
static int
copy_video(struct job *j, int flush)
{
	int rc;

	if (!flush) {
		AVPacket *q = av_packet_clone(j->pkt);

		if (!q)
			return TC_ENOMEM;
		j->copyq[j->ncopyq++] = q;
		if (q->pts != AV_NOPTS_VALUE)
			j->seen[j->nseen++ % SEEN] = q->pts;
	}
	while (j->ncopyq > (flush ? 0 : REORDER))
		if ((rc = copy_video_pop(j)))
			return rc;
	return 0;
}

static void
shift(AVPacket *pkt, int64_t off)
{
	if (pkt->pts != AV_NOPTS_VALUE)
		pkt->pts -= off;
	if (pkt->dts != AV_NOPTS_VALUE)
		pkt->dts -= off;
}

/* The single pass over the input. */
static int
job_demux(struct job *j)
{
	AVPacket *pkt = j->pkt;
	double dur = j->res->info.duration, t;
	char e[AV_ERROR_MAX_STRING_SIZE];
	int ret, rc = 0;

	for (;;) {
		ret = av_read_frame(j->in.ic, pkt);
		if (ret == AVERROR_EOF)
			break;
		if (ret == AVERROR(ENOMEM))
			return TC_ENOMEM;
		if (ret < 0) {
			if (j->in.refused)
				return say(j->why, j->whylen, TC_EUNSUPPORTED,
					   "the file refers to another file, which is not allowed");
			if (ret == AVERROR(EAGAIN))
				continue;
			/* a read error past the data: judged by the truncation check */
			av_make_error_string(e, sizeof(e), ret);
			if (j->end_time > 0)
				break;
			return say(j->why, j->whylen, TC_EINVALID, "the file cannot be read: it may be "
				   "damaged (%s)", e);
		}
		if (j->vs && pkt->stream_index == j->vs->index) {
			shift(pkt, j->voff);
			j->vpackets++;
			if (j->orig && !j->orig->venc)
				rc = copy_video(j, 0);
			if (!rc && j->vdec)
				rc = decode(j, j->vdec, pkt);
		} else if (j->as && pkt->stream_index == j->as->index) {
			shift(pkt, j->aoff);
			j->apackets++;
			if (j->orig && j->orig->ast && !j->orig->audio_enc)
				rc = copy_packet(j, j->orig, j->orig->ast, j->as);
			if (!rc && j->adec)
				rc = decode(j, j->adec, pkt);
		} else {
			av_packet_unref(pkt);
			continue;
		}
		if (!rc && pkt->pts != AV_NOPTS_VALUE) {
			AVRational tb = j->in.ic->streams[pkt->stream_index]->time_base;

			t = (pkt->pts + (pkt->duration > 0 ? pkt->duration : 0)) * av_q2d(tb);
			if (t > j->end_time)
				j->end_time = t;
			if (j->end_time > LONGEST) {
				av_packet_unref(pkt);
				return too_long(j);
			}
			/* by time; by bytes read when the duration is unknown */
			if (dur > 0)
				report(j, "package", 2 + (int)(95 * fmin(j->end_time / dur, 1.0)), 0);
			else if (j->in.size > 0)
				report(j, "package", 2 + (int)(95 * fmin((double)avio_tell(j->in.pb) /
									  (double)j->in.size, 1.0)), 0);
		}
		av_packet_unref(pkt);
		if (rc)
			return rc;
	}
	return 0;
}

/* Decoders, resampler and encoders give up what they still hold. */
static int
job_flush(struct job *j)
{
	int rc = 0, ret;

	if (j->orig && !j->orig->venc && (rc = copy_video(j, 1)))
		return rc;
	if (j->vdec && ((rc = decode(j, j->vdec, NULL)) ||
			(rc = fill_gap(j, (int64_t)(j->end_time / av_q2d(j->vs->time_base))))))
		return rc;
	if (j->adec) {
		if ((rc = decode(j, j->adec, NULL)) || (rc = resample(j, NULL)) ||
		    (rc = encode_audio(j, 1)))
			return rc;
		ret = avcodec_send_frame(j->aenc, NULL);
		if (ret < 0 && ret != AVERROR_EOF)
			return job_fail_av(j, ret, "encode the audio");
		if ((rc = drain_encoder(j, j->aenc, NULL)))
			return rc;
	}
	for (int i = 0; i < j->nrend; i++) {
		struct rend *o = &j->rend[i];

		if (!o->venc)
			continue;
		ret = avcodec_send_frame(o->venc, NULL);
		if (ret < 0 && ret != AVERROR_EOF)
			return job_fail_av(j, ret, "encode the video");
		if ((rc = drain_encoder(j, o->venc, o)))
			return rc;
	}
	for (int i = 0; i < j->nrend; i++) {
		struct rend *o = &j->rend[i];

		ret = av_write_trailer(o->oc);
		o->finished = 1;
		if (ret < 0)
			return job_fail_av(j, ret, "finish the HLS renditions");
	}
	return 0;
}

/* Reads a whole small file into a new buffer. */
static int
slurp(const char *path, size_t max, unsigned char **out, size_t *len)
{
	struct stat st;
	unsigned char *buf = NULL;
	ssize_t n;
	int fd, rc = 0;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return TC_EIO;
	if (fstat(fd, &st) || st.st_size < 0 || (size_t)st.st_size > max) {
		rc = TC_EIO;
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		rc = TC_ENOMEM;
		goto out;
	}
	n = pread(fd, buf, (size_t)st.st_size, 0);
	if (n != st.st_size) {
		rc = TC_EIO;
		goto out;
	}
	buf[n] = '\0';
	*len = (size_t)n;
	*out = buf;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return rc;
}

/* Writes LEN bytes to PATH through PATH.tmp and a rename. */
static int
write_atomically(const char *path, const void *data, size_t len)
{
	char tmp[PATH_MAX + 8];
	const unsigned char *p = data;
	int fd, rc = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return TC_EIO;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return TC_EIO;
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = TC_EIO;
			break;
		}
		p += n;
		len -= (size_t)n;
	}
	if (close(fd) != 0)
		rc = TC_EIO;
	if (rc == 0 && rename(tmp, path) != 0)
		rc = TC_EIO;
	if (rc)
		unlink(tmp);
	return rc;
}

/*
 * Puts MATRIX into the tkhd of the video track (the one with a width) of
 * the fMP4 initialisation section at PATH: moov > trak > tkhd.
 */
static int
patch_init_matrix(const char *path, const int32_t *matrix)
{
	unsigned char *b = NULL;
	size_t len = 0, pos, end, tpos, tend;
	int rc, done = 0;

	if ((rc = slurp(path, INIT_MAX, &b, &len)))
		return rc;
	for (pos = 0; pos + 8 <= len; pos += be32(b + pos)) {
		uint32_t size = be32(b + pos);

		if (size < 8 || size > len - pos)
			break;
		if (memcmp(b + pos + 4, "moov", 4))
			continue;
		end = pos + size;
		for (tpos = pos + 8; tpos + 8 <= end; tpos += be32(b + tpos)) {
			uint32_t tsize = be32(b + tpos);

			if (tsize < 8 || tsize > end - tpos)
				break;
			if (memcmp(b + tpos + 4, "trak", 4))
				continue;
			tend = tpos + tsize;
			for (size_t k = tpos + 8; k + 8 <= tend; k += be32(b + k)) {
				uint32_t ksize = be32(b + k);
				size_t m;

				if (ksize < 8 || ksize > tend - k)
					break;
				if (memcmp(b + k + 4, "tkhd", 4))
					continue;
				/* version 1 has 64-bit times and duration */
				m = k + 8 + 4 + (b[k + 8] == 1 ? 32 : 20) + 16;
				if (m + 36 + 8 > k + ksize || be32(b + m + 36) == 0)
					break;		/* no room, or no width: not video */
				for (int i = 0; i < 9; i++)
					put_be32(b + m + 4 * i, (uint32_t)matrix[i]);
				done = 1;
			}
		}
	}
	rc = done ? write_atomically(path, b, len) : TC_EIO;
	free(b);
	return rc;
}

/*
 * The 5.1 hls muxer writes #EXT-X-INDEPENDENT-SEGMENTS only into playlists
 * with video; every AAC frame is independent, so an audio-only playlist
 * gets it too, before #EXT-X-MAP. TEXT holds LEN bytes of PATH.
 */
static int
mark_independent(const char *path, const char *text, size_t len)
{
	static const char tag[] = "#EXT-X-INDEPENDENT-SEGMENTS\n";
	const char *map = strstr(text, "\n#EXT-X-MAP:");
	size_t at = map ? (size_t)(map - text) + 1 : len;
	char *out;
	int rc;

	if (strstr(text, "\n#EXT-X-INDEPENDENT-SEGMENTS\n"))
		return 0;
	out = malloc(len + sizeof(tag));
	if (!out)
		return TC_ENOMEM;
	memcpy(out, text, at);
	memcpy(out + at, tag, sizeof(tag) - 1);
	memcpy(out + at + sizeof(tag) - 1, text + at, len - at);
	rc = write_atomically(path, out, len + sizeof(tag) - 1);
	free(out);
	return rc;
}

/* Reads O's playlist back: segments, duration, BANDWIDTH. */
static int
rend_measure(struct job *j, struct rend *o)
{
	char path[PATH_MAX + 32];
	unsigned char *text = NULL;
	size_t len = 0;
	double extinf = -1, total = 0, peak = 0;
	int64_t bytes = 0;
	char *line, *next;
	int rc;

	snprintf(path, sizeof(path), "%s/index.m3u8", o->dir);
	if ((rc = slurp(path, PLAYLIST_MAX, &text, &len)))
		return say(j->why, j->whylen, rc, "the %s playlist was not written", o->r->name);
	if (!o->vst && (rc = mark_independent(path, (const char *)text, len))) {
		say(j->why, j->whylen, rc, "the %s playlist could not be completed", o->r->name);
		goto out;
	}
	for (line = (char *)text; line && *line; line = next) {
		struct stat st;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		line[strcspn(line, "\r")] = '\0';
		if (strncmp(line, "#EXTINF:", 8) == 0) {
			extinf = strtod(line + 8, NULL);
			continue;
		}
		if (!line[0] || line[0] == '#')
			continue;
		if (extinf < 0 || strchr(line, '/') ||
		    snprintf(path, sizeof(path), "%s/%s", o->dir, line) >= (int)sizeof(path) ||
		    stat(path, &st) != 0) {
			rc = say(j->why, j->whylen, TC_EIO, "the %s playlist lists a segment that was "
				 "not written", o->r->name);
			goto out;
		}
		o->r->segments++;
		total += extinf;
		bytes += st.st_size;
		if (extinf > 0 && st.st_size * 8.0 / extinf > peak)
			peak = st.st_size * 8.0 / extinf;
		extinf = -1;
	}
	if (o->r->segments == 0) {
		rc = say(j->why, j->whylen, TC_EINVALID, "the %s rendition is empty: the file may have "
			 "no playable content", o->r->name);
		goto out;
	}
	/* what media_result_parse accepts */
	if (!(total <= LONGEST) || o->r->segments > MEDIA_SEGMENTS_MAX) {	/* also NaN */
		rc = too_long(j);
		goto out;
	}
	if (peak > MEDIA_BANDWIDTH_MAX) {
		rc = say(j->why, j->whylen, TC_EINVALID, "the %s rendition needs %.0f Mbit/s at its "
			 "peak; at most %d are accepted", o->r->name, peak / 1e6,
			 MEDIA_BANDWIDTH_MAX / 1000000);
		goto out;
	}
	o->r->duration = total;
	o->r->bandwidth = peak >= 1 ? (int64_t)ceil(peak) : 1;
	o->r->average_bandwidth = total > 0 && bytes > 0 ? (int64_t)ceil(bytes * 8.0 / total) : 1;
	if (o->r->average_bandwidth > o->r->bandwidth)
		o->r->average_bandwidth = o->r->bandwidth;
out:
	free(text);
	return rc;
}

/* Size, frame rate and CODECS of each rendition. */
static void
rend_describe(struct job *j, struct rend *o)
{
	struct media_rendition *r = o->r;
	char v[32] = "";
	const char *a = NULL;

	if (o->vst) {
		const AVCodecParameters *par = j->vs->codecpar;
		int turned = j->rotation == 90 || j->rotation == 270;

		if (o->venc) {
			r->width = o->venc->width;
			r->height = o->venc->height;
			r->frame_rate = av_q2d(o->venc->framerate);
			avc1_codec(o->venc->extradata, o->venc->extradata_size, v, sizeof(v));
		} else {
			r->width = turned ? par->height : par->width;
			r->height = turned ? par->width : par->height;
			r->frame_rate = j->res->info.frame_rate;
			avc1_codec(par->extradata, par->extradata_size, v, sizeof(v));
		}
	}
	if (o->ast)
		a = o->audio_enc ? "mp4a.40.2" : mp4a_codec(j->as->codecpar);
	snprintf(r->codecs, sizeof(r->codecs), "%s%s%s", v, v[0] && a ? "," : "", a ? a : "");
}

/* poster.jpg from the kept frame: at most POSTER_WIDTH wide as displayed. */
static int
write_poster(struct job *j)
{
	const AVFrame *src = j->poster;
	const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
	AVCodecContext *enc = NULL;
	struct SwsContext *sws = NULL;
	AVFrame *scaled = NULL, *turned = NULL, *pic;
	AVPacket *pkt = NULL;
	char path[PATH_MAX + 16];
	int turn = j->rotation == 90 || j->rotation == 270, dw, dh, sw, sh, ret, rc = 0;

	if (!codec)
		return say(j->why, j->whylen, TC_EUNSUPPORTED, "the JPEG encoder is not available");
	/* the displayed size, then at most POSTER_WIDTH wide */
	fit_short(src->width, src->height, src->sample_aspect_ratio, INT_MAX, &dw, &dh);
	if (turn) {
		int t = dw;
		dw = dh;
		dh = t;
	}
	if (dw > POSTER_WIDTH) {
		dh = even((double)dh * POSTER_WIDTH / dw);
		dw = POSTER_WIDTH;
	}
	sw = turn ? dh : dw;
	sh = turn ? dw : dh;
	sws = sws_getContext(src->width, src->height, src->format, sw, sh, AV_PIX_FMT_YUVJ420P,
			     SWS_BICUBIC, NULL, NULL, NULL);
	scaled = picture_alloc(sw, sh, AV_PIX_FMT_YUVJ420P);
	if (turn || j->rotation == 180)
		turned = picture_alloc(dw, dh, AV_PIX_FMT_YUVJ420P);
	enc = avcodec_alloc_context3(codec);
	pkt = av_packet_alloc();
	if (!sws || !scaled || (j->rotation && !turned) || !enc || !pkt) {
		rc = sws ? TC_ENOMEM : say(j->why, j->whylen, TC_EINVALID, "the poster picture "
					   "cannot be converted");
		goto out;
	}
	sws_scale(sws, (const uint8_t *const *)src->data, src->linesize, 0, src->height,
		  scaled->data, scaled->linesize);
	pic = scaled;
	if (turned) {
		rotate_planes(scaled, turned, j->rotation);
		pic = turned;
	}
	enc->width = dw;
	enc->height = dh;
	enc->pix_fmt = AV_PIX_FMT_YUVJ420P;
	enc->color_range = AVCOL_RANGE_JPEG;
	enc->time_base = (AVRational){ 1, 25 };
	enc->flags |= AV_CODEC_FLAG_QSCALE;
	enc->global_quality = FF_QP2LAMBDA * 3;
	pic->quality = enc->global_quality;
	pic->pts = 0;
	pic->pict_type = AV_PICTURE_TYPE_I;
	ret = avcodec_open2(enc, codec, NULL);
	if (ret >= 0)
		ret = avcodec_send_frame(enc, pic);
	if (ret >= 0)
		ret = avcodec_send_frame(enc, NULL);
	if (ret >= 0)
		ret = avcodec_receive_packet(enc, pkt);
	if (ret < 0) {
		rc = job_fail_av(j, ret, "make the poster picture");
		goto out;
	}
	snprintf(path, sizeof(path), "%s/poster.jpg", j->outdir);
	rc = write_atomically(path, pkt->data, (size_t)pkt->size);
	if (rc)
		say(j->why, j->whylen, rc, "the server could not write the poster picture");
	else
		j->res->poster = 1;
out:
	av_packet_free(&pkt);
	avcodec_free_context(&enc);
	av_frame_free(&scaled);
	av_frame_free(&turned);
	sws_freeContext(sws);
	return rc;
}

static void
job_cleanup(struct job *j)
{
	for (int i = 0; i < j->nrend; i++)
		rend_cleanup(&j->rend[i]);
	avcodec_free_context(&j->vdec);
	avcodec_free_context(&j->adec);
	avcodec_free_context(&j->aenc);
	swr_free(&j->swr);
	if (j->fifo)
		av_audio_fifo_free(j->fifo);
	av_frame_free(&j->frame);
	av_frame_free(&j->aconv);
	av_frame_free(&j->aout);
	av_frame_free(&j->poster);
	av_frame_free(&j->held);
	av_packet_free(&j->pkt);
	av_packet_free(&j->opkt);
	av_packet_free(&j->epkt);
	for (int i = 0; i < j->ncopyq; i++)
		av_packet_free(&j->copyq[i]);
	input_close(&j->in);
}

int
media_package(int fd, const char *outdir, unsigned renditions, media_progress_fn progress,
	      void *arg, struct media_result *out, char *why, size_t whylen)
{
	struct job j;
	char a[32], b[32];
	double dur;
	int rc;

	memset(&j, 0, sizeof(j));
	memset(out, 0, sizeof(*out));
	if (why && whylen)
		why[0] = '\0';
	j.outdir = outdir;
	j.want = renditions & MEDIA_ALL;
	j.res = out;
	j.progress = progress;
	j.arg = arg;
	j.pct = -1;
	j.why = why;
	j.whylen = whylen;
	j.anext = AV_NOPTS_VALUE;
	j.last_slot = j.last_vpts = INT64_MIN;

	report(&j, "probe", 0, 1);
	if ((rc = input_open(&j.in, fd, &out->info, why, whylen)))
		goto out;
	report(&j, "probe", 2, 1);
	dur = out->info.duration;
	j.vs = j.in.vi >= 0 ? j.in.ic->streams[j.in.vi] : NULL;
	j.as = j.in.ai >= 0 ? j.in.ic->streams[j.in.ai] : NULL;
	if (j.in.ic->start_time != AV_NOPTS_VALUE) {
		if (j.vs)
			j.voff = av_rescale_q(j.in.ic->start_time, AV_TIME_BASE_Q, j.vs->time_base);
		if (j.as)
			j.aoff = av_rescale_q(j.in.ic->start_time, AV_TIME_BASE_Q, j.as->time_base);
	}
	j.frame = av_frame_alloc();
	j.poster = av_frame_alloc();
	j.held = av_frame_alloc();
	j.pkt = av_packet_alloc();
	j.opkt = av_packet_alloc();
	j.epkt = av_packet_alloc();
	if (!j.frame || !j.poster || !j.held || !j.pkt || !j.opkt || !j.epkt) {
		rc = TC_ENOMEM;
		goto out;
	}
	if ((rc = job_plan(&j)) || (rc = job_demux(&j)))
		goto out;

	if (j.vpackets + j.apackets == 0) {
		rc = say(why, whylen, TC_EINVALID, "the file has no playable content");
		goto out;
	}
	if (dur >= 5 && j.end_time < 0.9 * dur) {
		human_duration(j.end_time, a, sizeof(a));
		human_duration(dur, b, sizeof(b));
		rc = say(why, whylen, TC_EINVALID, "the file ends after %s of %s: the upload may be "
			 "truncated", a, b);
		goto out;
	}
	if ((rc = job_flush(&j)))
		goto out;
	if (j.vdec && j.vframes == 0) {
		rc = say(why, whylen, TC_EINVALID, "the video cannot be decoded: the file may be damaged");
		goto out;
	}
	if (j.adec && j.aframes == 0) {
		rc = say(why, whylen, TC_EINVALID, "the audio cannot be decoded: the file may be damaged");
		goto out;
	}
	if (j.orig && !j.orig->venc && j.in.has_matrix && j.rotation) {
		char init[PATH_MAX + 16];

		snprintf(init, sizeof(init), "%s/init.mp4", j.orig->dir);
		if ((rc = patch_init_matrix(init, j.in.matrix))) {
			say(why, whylen, rc, "the rotation of the video could not be kept");
			goto out;
		}
	}
	for (int i = 0; i < j.nrend; i++) {
		if ((rc = rend_measure(&j, &j.rend[i])))
			goto out;
		rend_describe(&j, &j.rend[i]);
	}
	if (j.vdec && j.poster->buf[0]) {
		report(&j, "poster", 97, 1);
		if ((rc = write_poster(&j)))
			goto out;
	}
	report(&j, j.vdec ? "poster" : "package", 100, 1);
out:
	job_cleanup(&j);
	if (rc)
		memset(out, 0, sizeof(*out));
	if (rc && why && whylen && !why[0])
		say(why, whylen, rc, "the recording could not be processed (%s)", tc_strerror(rc));
	return rc;
}

/* ---- JSON ---------------------------------------------------------------- */

static json_t *
info_object(const struct media_info *i)
{
	return json_pack("{s:s, s:f, s:I, s:i, s:i, s:i, s:i, s:s, s:s, s:i, s:i, s:f, s:b, s:i, "
			 "s:I, s:s, s:i, s:i, s:I}",
			 "container", i->container, "duration", i->duration,
			 "bit_rate", (json_int_t)i->bit_rate, "streams", i->streams,
			 "video_streams", i->video_streams, "audio_streams", i->audio_streams,
			 "subtitle_streams", i->subtitle_streams, "vcodec", i->vcodec,
			 "vprofile", i->vprofile, "width", i->width, "height", i->height,
			 "frame_rate", i->frame_rate, "variable_frame_rate", i->variable_frame_rate,
			 "rotation", i->rotation, "video_bit_rate", (json_int_t)i->video_bit_rate,
			 "acodec", i->acodec, "sample_rate", i->sample_rate, "channels", i->channels,
			 "audio_bit_rate", (json_int_t)i->audio_bit_rate);
}

char *
media_info_json(const struct media_info *info)
{
	json_t *o = info_object(info);
	char *s = o ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(12)) : NULL;

	json_decref(o);
	return s;
}

char *
media_result_json(const struct media_result *res)
{
	json_t *o = NULL, *arr = json_array(), *info = info_object(&res->info);
	char *s = NULL;

	if (!arr || !info)
		goto out;
	for (int i = 0; i < res->nr && i < MEDIA_RENDITIONS_MAX; i++) {
		const struct media_rendition *r = &res->r[i];

		if (json_array_append_new(arr, json_pack("{s:s, s:b, s:i, s:i, s:f, s:I, s:I, s:s, "
							 "s:i, s:f}", "name", r->name, "copy", r->copy,
							 "width", r->width, "height", r->height,
							 "frame_rate", r->frame_rate,
							 "bandwidth", (json_int_t)r->bandwidth,
							 "average_bandwidth", (json_int_t)r->average_bandwidth,
							 "codecs", r->codecs, "segments", r->segments,
							 "duration", r->duration)))
			goto out;
	}
	o = json_pack("{s:O, s:O, s:b}", "info", info, "renditions", arr, "poster", res->poster);
	if (o)
		s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(12));
out:
	json_decref(o);
	json_decref(arr);
	json_decref(info);
	return s;
}

/* Field readers for media_result_parse: each returns 0 or TC_EINVALID,
 * and refuses a value missing, of another type or out of its bounds. */
static int
get_str(json_t *o, const char *key, char *out, size_t outlen)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_string(v) || json_string_length(v) >= outlen)
		return TC_EINVALID;
	memcpy(out, json_string_value(v), json_string_length(v) + 1);
	return strlen(out) == json_string_length(v) ? 0 : TC_EINVALID;
}

/* A name from libav (container, codec, profile): printable ASCII, no
 * quotes or backslashes, as it may end up in a playlist or on a page. */
static int
get_name(json_t *o, const char *key, char *out, size_t outlen)
{
	if (get_str(o, key, out, outlen))
		return TC_EINVALID;
	for (const char *p = out; *p; p++)
		if (*p < 0x20 || *p > 0x7e || *p == '"' || *p == '\\')
			return TC_EINVALID;
	return 0;
}

static int
get_i64(json_t *o, const char *key, int64_t min, int64_t max, int64_t *out)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
		return TC_EINVALID;
	*out = (int64_t)json_integer_value(v);
	return 0;
}

static int
get_int(json_t *o, const char *key, int min, int max, int *out)
{
	int64_t v;

	if (get_i64(o, key, min, max, &v))
		return TC_EINVALID;
	*out = (int)v;
	return 0;
}

static int
get_real(json_t *o, const char *key, double max, double *out)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_number(v) || !(json_number_value(v) >= 0 && json_number_value(v) <= max))
		return TC_EINVALID;
	*out = json_number_value(v);
	return 0;
}

static int
get_bool(json_t *o, const char *key, int *out)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_boolean(v))
		return TC_EINVALID;
	*out = json_is_true(v);
	return 0;
}

static int
parse_info(json_t *o, struct media_info *i)
{
	if (get_name(o, "container", i->container, sizeof(i->container)) ||
	    get_real(o, "duration", LONGEST, &i->duration) ||
	    get_i64(o, "bit_rate", 0, INT64_MAX, &i->bit_rate) ||
	    get_int(o, "streams", 0, MEDIA_STREAMS_MAX, &i->streams) ||
	    get_int(o, "video_streams", 0, MEDIA_STREAMS_MAX, &i->video_streams) ||
	    get_int(o, "audio_streams", 0, MEDIA_STREAMS_MAX, &i->audio_streams) ||
	    get_int(o, "subtitle_streams", 0, MEDIA_STREAMS_MAX, &i->subtitle_streams) ||
	    get_name(o, "vcodec", i->vcodec, sizeof(i->vcodec)) ||
	    get_name(o, "vprofile", i->vprofile, sizeof(i->vprofile)) ||
	    get_int(o, "width", 0, MEDIA_SIDE_MAX, &i->width) ||
	    get_int(o, "height", 0, MEDIA_SIDE_MAX, &i->height) ||
	    get_real(o, "frame_rate", MEDIA_FPS_MAX, &i->frame_rate) ||
	    get_bool(o, "variable_frame_rate", &i->variable_frame_rate) ||
	    get_int(o, "rotation", 0, 270, &i->rotation) || i->rotation % 90 ||
	    get_i64(o, "video_bit_rate", 0, INT64_MAX, &i->video_bit_rate) ||
	    get_name(o, "acodec", i->acodec, sizeof(i->acodec)) ||
	    get_int(o, "sample_rate", 0, INT_MAX, &i->sample_rate) ||
	    get_int(o, "channels", 0, INT_MAX, &i->channels) ||
	    get_i64(o, "audio_bit_rate", 0, INT64_MAX, &i->audio_bit_rate))
		return TC_EINVALID;
	return 0;
}

/* CODECS of RFC 6381 as written here: "avc1.64001f,mp4a.40.2". */
static int
codecs_ok(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '.' || *s == ','))
			return 0;
	return 1;
}

/* One rendition; SEEN collects the MEDIA_* bits of the names so far (a
 * name is also a folder: only the three known ones, each once). */
static int
parse_rendition(json_t *o, struct media_rendition *r, unsigned *seen)
{
	unsigned bit;

	if (get_str(o, "name", r->name, sizeof(r->name)))
		return TC_EINVALID;
	bit = strcmp(r->name, "original") == 0 ? MEDIA_ORIGINAL : strcmp(r->name, "360p") == 0 ?
		MEDIA_360P : strcmp(r->name, "audio") == 0 ? MEDIA_AUDIO : 0;
	if (!bit || (*seen & bit))
		return TC_EINVALID;
	*seen |= bit;
	if (get_bool(o, "copy", &r->copy) || get_int(o, "width", 0, MEDIA_SIDE_MAX, &r->width) ||
	    get_int(o, "height", 0, MEDIA_SIDE_MAX, &r->height) ||
	    get_real(o, "frame_rate", MEDIA_FPS_MAX, &r->frame_rate) ||
	    get_i64(o, "bandwidth", 1, MEDIA_BANDWIDTH_MAX, &r->bandwidth) ||
	    get_i64(o, "average_bandwidth", 1, MEDIA_BANDWIDTH_MAX, &r->average_bandwidth) ||
	    get_str(o, "codecs", r->codecs, sizeof(r->codecs)) || !codecs_ok(r->codecs) ||
	    get_int(o, "segments", 0, MEDIA_SEGMENTS_MAX, &r->segments) ||
	    get_real(o, "duration", LONGEST, &r->duration))
		return TC_EINVALID;
	return 0;
}

int
media_result_parse(const char *json, struct media_result *out)
{
	json_t *root = json_loads(json, JSON_REJECT_DUPLICATES, NULL), *arr, *v;
	unsigned seen = 0;
	size_t i;
	int rc = TC_EINVALID;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(root))
		goto out;
	arr = json_object_get(root, "renditions");
	if (!json_is_object(json_object_get(root, "info")) || !json_is_array(arr) ||
	    json_array_size(arr) < 1 || json_array_size(arr) > MEDIA_RENDITIONS_MAX ||
	    parse_info(json_object_get(root, "info"), &out->info) ||
	    get_bool(root, "poster", &out->poster))
		goto out;
	json_array_foreach(arr, i, v) {
		if (!json_is_object(v) || parse_rendition(v, &out->r[i], &seen))
			goto out;
	}
	out->nr = (int)json_array_size(arr);
	rc = 0;
out:
	json_decref(root);
	if (rc)
		memset(out, 0, sizeof(*out));
	return rc;
}

void
media_log_level(int level)
{
	static const int av[] = { AV_LOG_ERROR, AV_LOG_WARNING, AV_LOG_INFO, AV_LOG_DEBUG };

	av_log_set_level(level < 0 ? AV_LOG_QUIET : level > 3 ? AV_LOG_DEBUG : av[level]);
}
