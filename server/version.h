/* version.h - the version string, from configure (autoconf.h). */
#ifndef TINCHI_VERSION_H
#define TINCHI_VERSION_H
#include "autoconf.h"
#define TINCHI_VERSION PACKAGE_VERSION
#endif
