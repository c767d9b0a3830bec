/*
 * cli_verify.h - `tinchi verify FILE ...`: the checks of courses/verify.h
 * offline, with lookups from files (cli_verify.c). No network, no
 * database. Exit 0 when every check passed, 1 when one failed or could
 * not be made (unless --allow-unchecked), 2 for bad usage or input.
 */
#ifndef TINCHI_CLI_VERIFY_H
#define TINCHI_CLI_VERIFY_H

/* ARGV[0] is "verify". */
int cli_verify_main(int argc, char **argv);

#endif
