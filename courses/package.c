/* package.c - see package.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "courses/course.h"
#include "courses/crypto.h"
#include "courses/errors.h"
#include "courses/identity.h"
#include "courses/log.h"
#include "courses/package.h"
#include "storage/content.h"
#include "storage/courses.h"
#include "storage/identity.h"
#include "storage/mediatype.h"
#include "storage/zip.h"

#define MANIFEST "manifest.json"
#define MANIFEST_MAX (2u << 20)
#define UNITS_MAX 1000

__attribute__((format(printf, 4, 5)))
static int
fail(char *why, size_t n, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, n, fmt, ap);
	va_end(ap);
	return rc;
}

/* ---- export ------------------------------------------------------------------- */

struct export_ctx {
	struct store *st;
	const char *data_dir;
	struct zip_writer *zw;
	json_t *units;
	int rc;
	char *why;
	size_t whylen;
};

static int
export_unit(const struct unit *u, void *arg)
{
	struct export_ctx *x = arg;
	json_t *o = json_pack("{s:s, s:s, s:b}", "kind", u->kind, "title", u->title,
			      "required", u->required);
	struct material m;
	char file[96];
	int fd = -1, rc = 0;

	if (!o)
		return TC_ENOMEM;
	if (u->body && u->body[0])
		json_object_set_new(o, "body", json_string(u->body));
	if (u->material_uid[0]) {
		rc = store_material_get(x->st, u->material_uid, &m);
		if (rc == 0)
			rc = content_open(x->data_dir, m.sha256, &fd);
		snprintf(file, sizeof(file), "materials/%s", m.sha256);
		/* a file two units share is written once */
		if (rc == 0) {
			size_t i;
			json_t *prev;
			int seen = 0;

			json_array_foreach(x->units, i, prev)
				seen |= json_is_string(json_object_get(json_object_get(prev, "material"), "file")) &&
					strcmp(json_string_value(json_object_get(json_object_get(prev, "material"),
										 "file")), file) == 0;
			if (!seen)
				rc = zip_writer_add(x->zw, file, fd, NULL, 0, 0);
		}
		if (fd >= 0)
			close(fd);
		if (rc) {
			json_decref(o);
			return fail(x->why, x->whylen, rc, "could not add the file of unit \"%s\"", u->title);
		}
		json_object_set_new(o, "material", json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}",
			"file", file, "kind", m.kind, "name", m.name, "type", m.type,
			"sha256", m.sha256, "size", (json_int_t)m.size));
	}
	return json_array_append_new(x->units, o) ? TC_ENOMEM : 0;
}

int
package_export(struct store *st, const char *data_dir, const struct course *c,
	       int out_fd, char *why, size_t whylen)
{
	struct export_ctx x = { st, data_dir, NULL, json_array(), 0, why, whylen };
	json_t *tags = json_array(), *man = NULL;
	char credits[16], *text = NULL;
	int rc;

	why[0] = '\0';
	course_credits_format(c->credits_x10, credits);
	for (const char *p = c->tags; *p;) {
		const char *e = strchr(p, ',');
		size_t l = e ? (size_t)(e - p) : strlen(p);

		json_array_append_new(tags, json_stringn(p, l));
		p += l + (e ? 1 : 0);
	}
	rc = zip_writer_open(out_fd, &x.zw);
	if (rc == 0)
		rc = store_units_each(st, c->id, export_unit, &x);
	if (rc)
		goto out;
	man = json_pack("{s:s, s:i, s:{s:s, s:s, s:s, s:s, s:s, s:s, s:O, s:s, s:s, s:I}, s:O}",
			"format", COURSE_PACKAGE_FORMAT, "version", COURSE_PACKAGE_VERSION,
			"course", "code", c->code, "title", c->title, "description", c->description,
			"language", c->language, "credits", credits, "level", c->level, "tags", tags,
			"starts_on", c->starts_on, "ends_on", c->ends_on,
			"capacity", (json_int_t)c->capacity, "units", x.units);
	text = man ? json_dumps(man, JSON_INDENT(2)) : NULL;
	if (!text) {
		rc = TC_ENOMEM;
		goto out;
	}
	rc = zip_writer_add(x.zw, MANIFEST, -1, text, strlen(text), 1);
	if (rc == 0) {
		rc = zip_writer_close(x.zw);
		x.zw = NULL;
	}
out:
	if (rc && !why[0])
		snprintf(why, whylen, "could not write the package: %s", tc_strerror(rc));
	zip_writer_abort(x.zw);
	free(text);
	json_decref(man);
	json_decref(tags);
	json_decref(x.units);
	return rc;
}

/* ---- import -------------------------------------------------------------------- */

/* A string member that must be present (REQUIRED) or may be absent. */
static int
member(json_t *o, const char *key, int required, const char **out)
{
	json_t *v = json_object_get(o, key);

	*out = json_string_value(v);
	if (!v || json_is_null(v))
		return required ? TC_EINVALID : 0;
	return json_is_string(v) ? 0 : TC_EINVALID;
}

static int
read_course(json_t *jc, struct course *c, char *why, size_t n)
{
	const char *code, *title, *desc, *lang, *credits, *level, *starts, *ends;
	json_t *tags = json_object_get(jc, "tags"), *t, *cap;
	size_t i, o = 0;

	if (!json_is_object(jc) || member(jc, "code", 1, &code) || member(jc, "title", 1, &title) ||
	    member(jc, "description", 0, &desc) || member(jc, "language", 1, &lang) ||
	    member(jc, "credits", 1, &credits) || member(jc, "level", 0, &level) ||
	    member(jc, "starts_on", 0, &starts) || member(jc, "ends_on", 0, &ends))
		return fail(why, n, TC_EINVALID, "manifest: course needs code, title, language and credits as strings");
	if (course_code_check(code))
		return fail(why, n, TC_EINVALID, "manifest: course code \"%.40s\" is not valid", code);
	if (person_name_check(title) || strlen(title) > COURSE_TITLE_MAX)
		return fail(why, n, TC_EINVALID, "manifest: the course title is not valid");
	if (desc && (strlen(desc) > COURSE_DESCRIPTION_MAX || utf8_check(desc, strlen(desc))))
		return fail(why, n, TC_EINVALID, "manifest: the description is too long or not UTF-8");
	if (course_language_check(lang) || course_credits_parse(credits, &c->credits_x10) ||
	    (level && course_level_check(level)))
		return fail(why, n, TC_EINVALID, "manifest: language, credits or level is not valid");
	if ((starts && starts[0] && date_check(starts, NULL)) || (ends && ends[0] && date_check(ends, NULL)))
		return fail(why, n, TC_EINVALID, "manifest: starts_on and ends_on must be dates");
	snprintf(c->code, sizeof(c->code), "%s", code);
	snprintf(c->title, sizeof(c->title), "%s", title);
	snprintf(c->description, sizeof(c->description), "%s", desc ? desc : "");
	snprintf(c->language, sizeof(c->language), "%s", lang);
	snprintf(c->level, sizeof(c->level), "%s", level ? level : "");
	snprintf(c->starts_on, sizeof(c->starts_on), "%s", starts ? starts : "");
	snprintf(c->ends_on, sizeof(c->ends_on), "%s", ends ? ends : "");
	if (tags && !json_is_array(tags))
		return fail(why, n, TC_EINVALID, "manifest: tags must be a list");
	json_array_foreach(tags, i, t) {
		const char *s = json_string_value(t);
		int w = s ? snprintf(c->tags + o, sizeof(c->tags) - o, "%s%s", o ? "," : "", s) : -1;

		if (w < 0 || (size_t)w >= sizeof(c->tags) - o || strchr(s, ','))
			return fail(why, n, TC_EINVALID, "manifest: tags are not valid");
		o += (size_t)w;
	}
	if (course_tags_check(c->tags))
		return fail(why, n, TC_EINVALID, "manifest: tags are not valid");
	cap = json_object_get(jc, "capacity");
	if (cap && (!json_is_integer(cap) || json_integer_value(cap) < 0))
		return fail(why, n, TC_EINVALID, "manifest: capacity must be a whole number");
	c->capacity = cap ? json_integer_value(cap) : 0;
	return 0;
}

/* A material of the package, checked and placed in the content store. */
struct placed {
	char sha256[65];
	char type[64];
	int64_t size;
	int fresh;		/* this import put it there (undo on failure) */
};

/*
 * The material JM of unit JU: its file's entry in the package (*IDX), kind
 * and hash, with the unit's kind and the kind's size limit checked against
 * the entry's declared size (*SIZE).
 */
static int
material_entry(struct zip_reader *zr, json_t *ju, json_t *jm, size_t *idx,
	       enum material_kind *kind, const char **sha, uint64_t *size, char *why, size_t n)
{
	static const char *const kinds[] = { NULL, "video", "audio", "document", "captions" };
	const char *file, *k;
	struct zip_entry e;

	if (member(jm, "file", 1, &file) || member(jm, "kind", 1, &k) || member(jm, "sha256", 1, sha))
		return fail(why, n, TC_EINVALID, "manifest: a material needs file, kind and sha256");
	*kind = 0;
	for (int i = 1; i <= 4; i++)
		if (strcmp(k, kinds[i]) == 0)
			*kind = (enum material_kind)i;
	if (!*kind || strncmp(file, "materials/", 10) != 0 || strcmp(file + 10, *sha) != 0 ||
	    strlen(*sha) != 64)
		return fail(why, n, TC_EINVALID, "manifest: material %.80s is not described properly", file);
	if (!course_unit_material_fits(json_string_value(json_object_get(ju, "kind")), k))
		return fail(why, n, TC_EINVALID, "manifest: a %s unit cannot hold the %s %.80s",
			    json_string_value(json_object_get(ju, "kind")), k, file);
	if (zip_reader_find(zr, file, idx) || zip_reader_entry(zr, *idx, &e))
		return fail(why, n, TC_EINVALID, "the package has no file %.80s", file);
	if (e.size > (uint64_t)mediatype_max_size(*kind))
		return fail(why, n, TC_ETOOBIG, "%.80s is %llu bytes; a %s file may have at most %lld",
			    file, (unsigned long long)e.size, k, mediatype_max_size(*kind));
	*size = e.size;
	return 0;
}

/* Every unit's material described properly, and all of them (each unit's
 * counts) within ROOM bytes: before any file is read. */
static int
check_materials(struct zip_reader *zr, json_t *units, int64_t room, char *why, size_t n)
{
	uint64_t total = 0;
	size_t i, idx;
	json_t *ju, *jm;
	int rc;

	json_array_foreach(units, i, ju) {
		enum material_kind kind;
		const char *sha;
		uint64_t size;

		jm = json_is_object(ju) ? json_object_get(ju, "material") : NULL;
		if (!jm || json_is_null(jm) || !json_is_string(json_object_get(ju, "kind")))
			continue;	/* the unit's own check says what is wrong */
		if ((rc = material_entry(zr, ju, jm, &idx, &kind, &sha, &size, why, n)))
			return rc;
		total += size;
		if (room < 0 || total > (uint64_t)room)
			return fail(why, n, TC_ETOOBIG, PACKAGE_QUOTA_WHY);
	}
	return 0;
}

/*
 * Places unit JU's material JM (after check_materials). A file that an
 * earlier unit placed (PREV[0..NPREV-1]) is not extracted again: *PL is
 * its copy, not fresh.
 */
static int
place_material(struct zip_reader *zr, struct mediatype_detector *det, const char *data_dir,
	       json_t *ju, json_t *jm, const struct placed *prev, size_t nprev, struct placed *pl,
	       enum material_kind *kind, char *why, size_t n)
{
	const char *file = json_string_value(json_object_get(jm, "file")), *sha;
	unsigned char head[65536];
	char dir[PATH_MAX + 16];
	uint64_t size;
	size_t idx;
	ssize_t got;
	int fd = -1, rc;

	if ((rc = material_entry(zr, ju, jm, &idx, kind, &sha, &size, why, n)))
		return rc;
	for (size_t i = 0; i < nprev; i++)
		if (strcmp(prev[i].sha256, sha) == 0) {
			*pl = prev[i];
			pl->fresh = 0;	/* undone with the unit that placed it */
			if (!mediatype_allowed(*kind, pl->type))
				return fail(why, n, TC_EUNSUPPORTED, "%.80s is %s, which a %s material cannot be",
					    file, pl->type, json_string_value(json_object_get(jm, "kind")));
			return 0;
		}
	snprintf(dir, sizeof(dir), "%s/content", data_dir);
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0)
		return fail(why, n, TC_EIO, "cannot make a temporary file");
	rc = zip_reader_extract(zr, idx, fd);
	if (rc) {
		close(fd);
		return fail(why, n, TC_EINVALID, "the file %.80s in the package is damaged", file);
	}
	got = pread(fd, head, sizeof(head), 0);
	if (got < 0 || mediatype_detect(det, head, (size_t)got, pl->type, sizeof(pl->type))) {
		close(fd);
		return fail(why, n, TC_EIO, "cannot tell what %.80s is", file);
	}
	if (!mediatype_allowed(*kind, pl->type)) {
		close(fd);
		return fail(why, n, TC_EUNSUPPORTED, "%.80s is %s, which a %s material cannot be",
			    file, pl->type, json_string_value(json_object_get(jm, "kind")));
	}
	/* stored only when its bytes are those of the manifest's hash; fresh
	 * when this import put the file there (another course or import may
	 * have stored the same bytes before) */
	rc = lseek(fd, 0, SEEK_SET) != 0 ? TC_EIO
	     : content_put_fd(data_dir, fd, sha, pl->sha256, &pl->size, &pl->fresh);
	close(fd);
	if (rc == TC_EINVALID)
		return fail(why, n, rc, "%.80s does not match its SHA-256 in the manifest", file);
	if (rc)
		return fail(why, n, rc, "cannot store %.80s", file);
	return 0;
}

int
package_import(struct store *st, const char *data_dir, int in_fd, int64_t institution_id,
	       int64_t owner_id, const char *code, int64_t room, struct course *out, char *why,
	       size_t whylen)
{
	struct zip_limits lim;
	struct zip_reader *zr = NULL;
	struct mediatype_detector *det = NULL;
	struct institution inst;
	struct placed *placed = NULL;
	json_t *man = NULL, *units, *ju, *jm;
	char *text = NULL, *search = NULL;
	size_t idx, len = 0, i, nunits = 0;
	int rc, in_tx = 0;
	int64_t now = (int64_t)time(NULL);

	why[0] = '\0';
	memset(out, 0, sizeof(*out));
	zip_limits_init(&lim);
	lim.max_entries = UNITS_MAX + 1;
	rc = zip_reader_open(in_fd, &lim, &zr);
	if (rc) {
		rc = fail(why, whylen, rc == TC_ENOMEM ? rc : TC_EINVALID,
			  "not a safe zip file (see the server log for the reason)");
		goto out;
	}
	if (zip_reader_find(zr, MANIFEST, &idx) || !(text = malloc(MANIFEST_MAX + 1)) ||
	    zip_reader_read(zr, idx, text, MANIFEST_MAX, &len)) {
		rc = fail(why, whylen, TC_EINVALID, "the package has no readable " MANIFEST "");
		goto out;
	}
	text[len] = '\0';
	man = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(man) ||
	    !json_is_string(json_object_get(man, "format")) ||
	    strcmp(json_string_value(json_object_get(man, "format")), COURSE_PACKAGE_FORMAT) != 0 ||
	    json_integer_value(json_object_get(man, "version")) != COURSE_PACKAGE_VERSION) {
		rc = fail(why, whylen, TC_EINVALID, MANIFEST " is not a tinchi-course version 1 manifest");
		goto out;
	}
	if ((rc = read_course(json_object_get(man, "course"), out, why, whylen)))
		goto out;
	if (code) {
		if (course_code_check(code)) {
			rc = fail(why, whylen, TC_EINVALID, "the course code \"%.40s\" is not valid", code);
			goto out;
		}
		snprintf(out->code, sizeof(out->code), "%s", code);
	}
	units = json_object_get(man, "units");
	nunits = json_array_size(units);
	if (!json_is_array(units) || nunits > UNITS_MAX) {
		rc = fail(why, whylen, TC_EINVALID, "manifest: units must be a list of at most 1000");
		goto out;
	}
	if ((rc = check_materials(zr, units, room, why, whylen)))
		goto out;
	placed = calloc(nunits + 1, sizeof(*placed));
	if (!placed || (rc = mediatype_open(&det))) {
		rc = rc ? rc : TC_ENOMEM;
		goto out;
	}
	/* every file checked and stored before any row is written */
	json_array_foreach(units, i, ju) {
		enum material_kind kind;
		const char *k, *title, *body;

		if (!json_is_object(ju) || member(ju, "kind", 1, &k) || member(ju, "title", 1, &title) ||
		    member(ju, "body", 0, &body) ||
		    (strcmp(k, "video") && strcmp(k, "document") && strcmp(k, "text") && strcmp(k, "quiz")) ||
		    person_name_check(title) || strlen(title) > UNIT_TITLE_MAX ||
		    (body && (strlen(body) > UNIT_BODY_MAX || utf8_check(body, strlen(body))))) {
			rc = fail(why, whylen, TC_EINVALID, "manifest: unit %zu is not valid", i + 1);
			goto out;
		}
		jm = json_object_get(ju, "material");
		if (jm && !json_is_null(jm) &&
		    (rc = place_material(zr, det, data_dir, ju, jm, placed, i, &placed[i], &kind, why,
					 whylen)))
			goto out;
	}

	/* bytes that were stored before this import may have lost their last
	 * material, and their file, while it extracted the rest */
	for (i = 0; i < nunits; i++) {
		int fd = -1;

		if (!placed[i].sha256[0] || placed[i].fresh)
			continue;
		if (content_open(data_dir, placed[i].sha256, &fd)) {
			rc = fail(why, whylen, TC_EBUSY, "a file of the package was removed meanwhile; "
				  "import it again");
			goto out;
		}
		close(fd);
	}
	if ((rc = store_institution_get_id(st, institution_id, &inst)) || !(search = malloc(COURSE_DESCRIPTION_MAX + 2048)))
		goto out;
	out->institution_id = institution_id;
	out->owner_id = owner_id;
	out->status = COURSE_DRAFT;
	out->created_at = now;
	if ((rc = uuid_v4(out->uid)) ||
	    (rc = course_search_text(out, inst.name, search, COURSE_DESCRIPTION_MAX + 2048)) ||
	    (rc = store_begin(st)))
		goto out;
	in_tx = 1;
	if ((rc = store_course_add(st, out, search))) {
		if (rc == TC_ECONFLICT)
			snprintf(why, whylen, "the institution has a course with the code %s already", out->code);
		goto out;
	}
	json_array_foreach(units, i, ju) {
		struct unit u;
		const char *body = json_string_value(json_object_get(ju, "body"));

		memset(&u, 0, sizeof(u));
		jm = json_object_get(ju, "material");
		if (jm && !json_is_null(jm)) {
			struct material m;
			const char *name = json_string_value(json_object_get(jm, "name"));

			memset(&m, 0, sizeof(m));
			m.institution_id = institution_id;
			m.course_id = out->id;
			m.created_by = owner_id;
			m.created_at = now;
			m.size = placed[i].size;
			snprintf(m.sha256, sizeof(m.sha256), "%s", placed[i].sha256);
			snprintf(m.type, sizeof(m.type), "%s", placed[i].type);
			snprintf(m.kind, sizeof(m.kind), "%s", json_string_value(json_object_get(jm, "kind")));
			snprintf(m.name, sizeof(m.name), "%s", name && !strpbrk(name, "/\\\"\r\n") ? name : "");
			if ((rc = uuid_v4(m.uid)) || (rc = store_material_add(st, &m)))
				goto out;
			u.material_id = m.id;
		}
		snprintf(u.kind, sizeof(u.kind), "%s", json_string_value(json_object_get(ju, "kind")));
		snprintf(u.title, sizeof(u.title), "%s", json_string_value(json_object_get(ju, "title")));
		u.body = (char *)(body ? body : "");
		u.required = !json_is_false(json_object_get(ju, "required"));
		u.course_id = out->id;
		u.created_at = now;
		if ((rc = uuid_v4(u.uid)) || (rc = store_unit_add(st, &u)))
			goto out;
	}
	rc = store_commit(st);
	in_tx = rc != 0;
out:
	if (rc) {
		if (in_tx)
			store_rollback(st);
		for (i = 0; placed && i < nunits; i++)	/* nothing left behind */
			if (placed[i].fresh)
				store_content_release(st, data_dir, placed[i].sha256);
		if (!why[0])
			snprintf(why, whylen, "the package could not be imported: %s", tc_strerror(rc));
	}
	mediatype_close(det);
	zip_reader_close(zr);
	json_decref(man);
	free(placed);
	free(search);
	free(text);
	return rc;
}
