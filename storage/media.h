/*
 * media.h - the lecture media pipeline (libavformat, libavcodec, libswscale,
 * libswresample): probe an uploaded recording and package it as HLS
 * (RFC 8216, version 7, fMP4 segments of about 6 s, VOD playlists,
 * independent segments) in a folder that any web server or CDN can serve.
 *
 * The input is untrusted. These functions are meant to run inside the
 * sandboxed `tinchi media-worker` process (server/media_worker.c), never in
 * the server itself: a demuxer bug may crash or hang the caller. Inside,
 * they refuse what they can: the input is read through its file descriptor
 * only (custom I/O; any nested open a demuxer attempts, e.g. an HLS or
 * concat playlist naming file:///etc/passwd, is refused), the protocol
 * whitelist is "file", the container must be one of MEDIA_FORMATS, the
 * streams used must be in a format one of MEDIA_DECODERS decodes (no other
 * decoder is ever opened, not even by libavformat while it probes), and
 * dimensions (coded and as displayed, after the sample aspect ratio),
 * durations and stream counts are bounded before decoding.
 *
 * Output layout inside OUTDIR (which must exist and be empty):
 *   <rendition>/index.m3u8     VOD media playlist, segments relative
 *   <rendition>/init.mp4       fMP4 initialisation section
 *   <rendition>/seg_NNNNN.m4s  media segments (written to a temporary name,
 *                              renamed when complete)
 *   poster.jpg                 a frame from about 10% into the video
 * Renditions, in this order when present:
 *   "original" - the source's video (H.264) and audio (AAC) by stream copy,
 *                when the source is H.264 with AAC or no audio; otherwise an
 *                H.264/AAC encode at the source size capped at 720 lines,
 *                only when the source is larger than 360 lines;
 *   "360p"     - H.264 (libx264) at about 400 kbit/s in total with 64 kbit/s
 *                AAC, 360 lines on the short side (never upscaled), at most
 *                30 frames/s, rotation applied, a key frame every 2 s;
 *   "audio"    - AAC at about 64 kbit/s, no video (when there is audio).
 * The master playlist is not written here: the server builds it per viewer
 * (signed URLs, captions) from struct media_result.
 *
 * Which renditions are made can be narrowed (MEDIA_ORIGINAL, MEDIA_360P,
 * MEDIA_AUDIO; the server always asks for MEDIA_ALL): see media_package.
 */
#ifndef TINCHI_MEDIA_H
#define TINCHI_MEDIA_H

#include <stddef.h>
#include <stdint.h>

/* libavformat demuxer names an input may be detected as; anything else
 * (hls, concat, image2, ...) is refused. */
#define MEDIA_FORMATS "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi,mp3,wav,ogg,flac,aac,mpegts,flv"
/* libavcodec decoders a video or audio stream may be decoded with: what
 * lectures are recorded in (phones, screen recorders, camcorders, webcams,
 * audio recorders). A stream in any other format is refused
 * (TC_EUNSUPPORTED: "the video is in prores, which is not accepted ..."). */
#define MEDIA_DECODERS "h264,hevc,vp8,vp9,libdav1d,mpeg4,mpeg2video,mpeg1video,mjpeg," \
	"aac,mp3float,mp2float,opus,vorbis,flac,alac,ac3,eac3," \
	"pcm_s16le,pcm_s16be,pcm_s24le,pcm_s24be,pcm_s32le,pcm_s32be," \
	"pcm_f32le,pcm_f32be,pcm_f64le,pcm_f64be,pcm_u8,pcm_s8,pcm_alaw,pcm_mulaw"
#define MEDIA_SIDE_MAX 4096		/* pixels on the long side, coded and displayed */
#define MEDIA_DURATION_MAX (6 * 3600)	/* seconds */
#define MEDIA_STREAMS_MAX 64
#define MEDIA_RENDITIONS_MAX 3
/* Bounds of a result (media_result_parse); a larger frame rate in the
 * source is reported as 0 (unknown). */
#define MEDIA_FPS_MAX 240
#define MEDIA_BANDWIDTH_MAX 1000000000	/* bits/s */
#define MEDIA_SEGMENTS_MAX 100000

/* The renditions media_package may make, a bit mask. */
#define MEDIA_ORIGINAL 1u
#define MEDIA_360P 2u
#define MEDIA_AUDIO 4u
#define MEDIA_ALL (MEDIA_ORIGINAL | MEDIA_360P | MEDIA_AUDIO)

struct media_info {
	char container[32];		/* short demuxer name: "mp4", "matroska", "mp3" ... */
	double duration;		/* seconds (0: unknown) */
	int64_t bit_rate;		/* bits/s for the whole file (0: unknown) */
	int streams, video_streams, audio_streams, subtitle_streams;
	/* the video stream used (av_find_best_stream); vcodec "" when none */
	char vcodec[32];		/* libavcodec's name: "h264", "hevc", "vp9" */
	char vprofile[32];		/* "High", "Main", "" */
	int width, height;		/* coded size, before rotation */
	double frame_rate;		/* average frames/s (0: unknown) */
	int variable_frame_rate;	/* 1 when r_frame_rate differs from the average */
	int rotation;			/* 0, 90, 180 or 270 (clockwise, to display) */
	int64_t video_bit_rate;		/* 0: unknown */
	/* the audio stream used; acodec "" when none */
	char acodec[32];
	int sample_rate, channels;
	int64_t audio_bit_rate;
};

struct media_rendition {
	char name[16];			/* "original", "360p", "audio"; its folder */
	int copy;			/* 1: stream copy, 0: encoded */
	int width, height;		/* as displayed (after rotation); 0 for audio */
	double frame_rate;		/* 0 for audio */
	int64_t bandwidth;		/* peak segment bit rate, bits/s (BANDWIDTH) */
	int64_t average_bandwidth;	/* bits/s over the whole rendition */
	char codecs[64];		/* RFC 6381: "avc1.64001f,mp4a.40.2" */
	int segments;
	double duration;		/* seconds, sum of the segments */
};

struct media_result {
	struct media_info info;
	struct media_rendition r[MEDIA_RENDITIONS_MAX];
	int nr;
	int poster;			/* 1: OUTDIR/poster.jpg was written */
};

/*
 * Called from inside media_package with the stage ("probe", "package",
 * "poster") and the percent of the whole job done (0-100, never going
 * back). At most a few times a second.
 */
typedef void (*media_progress_fn)(void *arg, const char *stage, int percent);

/*
 * Probes the file open at FD (read from its start; FD stays open and
 * owned by the caller) into OUT. 0; TC_EUNSUPPORTED (not a media file, a
 * refused container, no audio or video stream); TC_EINVALID (over a limit:
 * size, duration, streams; zero duration); TC_ENOMEM; TC_EIO. On failure
 * WHY gets one human-readable sentence ("the file has no moov atom: the
 * upload may be truncated").
 */
int media_probe(int fd, struct media_info *out, char *why, size_t whylen);

/*
 * Probes FD and writes the renditions and the poster into OUTDIR (layout
 * above), calling PROGRESS (may be NULL) as it goes. Single pass over the
 * input: the stream copy, the 360p encode and the audio encode are fed
 * from the same demuxed packets. 0 with OUT filled in; on failure the
 * codes of media_probe plus TC_EINVALID when the data ends well before the
 * duration the file declares ("the file ends after 3 s of 47 min: the
 * upload may be truncated") or cannot be decoded, and WHY says what went
 * wrong; OUTDIR may then hold partial files (the caller removes the folder).
 *
 * RENDITIONS (MEDIA_ALL for a lecture; fewer for benchmarks and tools, as
 * `tinchi media-worker --renditions`) says which renditions may be made;
 * each is still made only when it applies to the file (no "audio" without
 * audio, ...), and when none is left the call fails with TC_EINVALID. Only
 * what the chosen renditions need is decoded: the video decoder is opened
 * for an encoded video rendition ("360p", or an "original" that cannot be
 * copied), the audio decoder for encoded audio. So MEDIA_ORIGINAL of an
 * H.264/AAC source is a pure remux that decodes nothing, and then nothing
 * checks that the streams decode either. The poster is a decoded frame: it
 * is made whenever the video is decoded anyway, and never by a run that
 * decodes no video (res->poster stays 0).
 */
int media_package(int fd, const char *outdir, unsigned renditions, media_progress_fn progress,
		  void *arg, struct media_result *out, char *why, size_t whylen);

/*
 * Sets how much libav* itself prints on standard error: a courses/log.h
 * level (LOG_ERROR ... LOG_DEBUG), or -1 for nothing. Process-wide; call
 * before media_probe/media_package (the worker uses LOG_ERROR).
 */
void media_log_level(int level);

/*
 * JSON (jansson) for the worker-to-server pipe and the database:
 * media_info_json/media_result_json return a new string (free()) or NULL on
 * no memory; media_result_parse reads what media_result_json wrote
 * (TC_EINVALID when it does not fit, OUT then zeroed).
 *
 * media_result_parse treats its input as hostile (it is what the sandboxed
 * worker sent): every field must be present with its type and within its
 * bounds. Renditions: 1 to MEDIA_RENDITIONS_MAX, each named "original",
 * "360p" or "audio" at most once; codecs non-empty, only [A-Za-z0-9.,];
 * widths and heights 0..MEDIA_SIDE_MAX; frame rates 0..MEDIA_FPS_MAX;
 * bandwidths 1..MEDIA_BANDWIDTH_MAX; segments 0..MEDIA_SEGMENTS_MAX;
 * durations 0..MEDIA_DURATION_MAX + 60 s. Info: the same size, frame-rate
 * and duration bounds, stream counts 0..MEDIA_STREAMS_MAX, rotation 0, 90,
 * 180 or 270, text fields printable ASCII without quotes or backslashes.
 */
char *media_info_json(const struct media_info *info);
char *media_result_json(const struct media_result *res);
int media_result_parse(const char *json, struct media_result *out);

#endif
