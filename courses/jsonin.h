/*
 * jsonin.h - a JSON object text read into a jansson tree without
 * jansson's lexer (which reads character by character through a stream
 * and a string buffer): the same tree json_loadb(text, len,
 * JSON_REJECT_DUPLICATES) gives, or NULL wherever the text is not plain
 * (not an object, a syntax error, a duplicate name, \u0000, bad UTF-8, an
 * integer of more than 18 digits, a real that overflows, nesting deeper
 * than 64, a name of 512 bytes or more) - the caller then asks json_loadb, which gives the
 * answer and the error text for those.
 */
#ifndef TINCHI_COURSES_JSONIN_H
#define TINCHI_COURSES_JSONIN_H

#include <stddef.h>

#include <jansson.h>

json_t *json_read_object(const char *text, size_t len);

#endif
