/* errors.c - names of the project's error codes. */
#include "courses/errors.h"

const char *
tc_strerror(int err)
{
	switch (err) {
	case TC_OK: return "ok";
	case TC_ENOTFOUND: return "not found";
	case TC_ECONFLICT: return "conflict";
	case TC_EINVALID: return "invalid input";
	case TC_EFORBIDDEN: return "forbidden";
	case TC_ENOMEM: return "out of memory";
	case TC_EDB: return "database error";
	case TC_EIO: return "input/output error";
	case TC_EUNAUTH: return "not authenticated";
	case TC_ETOOBIG: return "too large";
	case TC_EUNSUPPORTED: return "not supported";
	case TC_EBUSY: return "busy";
	case TC_ETOONEW: return "written by a newer version";
	}
	return "unknown error";
}
