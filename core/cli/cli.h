/*
 * cli.h - the subcommands of the sigflow binary, each `int cmd_x(int argc, char **argv)` with
 * argv[0] the subcommand's name, returning the exit code. Dispatched by main.c.
 */
#ifndef SIGFLOW_CLI_H
#define SIGFLOW_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "config/config.h"
#include "store/store.h"

/* Exit codes (documented in README.md and `sigflow --help`). */
#define EXIT_OK 0
#define EXIT_INVALID 1  /* invalid configuration, or the daemon failed */
#define EXIT_BADINPUT 2 /* replay --strict: bad input line */
#define EXIT_USAGE 64   /* bad command line (sysexits' EX_USAGE) */

int cmd_check(int argc, char **argv);
int cmd_init(int argc, char **argv);
int cmd_plugins(int argc, char **argv);
int cmd_dlq(int argc, char **argv);
int cmd_journal(int argc, char **argv);
int cmd_feedback(int argc, char **argv); /* cli_feedback.c */
int cmd_explain(int argc, char **argv);  /* cli_explain.c */
int cmd_model(int argc, char **argv);    /* cli_model.c */

/* cli_common.c: config_load with its diagnostics printed to stderr (NULL when invalid). */
sigflow_config *cli_config_load(const char *path);
/* store_open_ex on cfg's state_dir (flags STORE_OPEN_*); NULL after saying why on stderr as
   "sigflow CMD: ...". */
store *cli_store_open(const sigflow_config *cfg, const char *cmd, unsigned flags);
/*
 * The options of a subcommand whose only one is -c CONFIG (and -h): *path set (NULL when not
 * given), the operands from optind on. stop_at_verb: options end at the first operand (`dlq
 * retry --all` keeps --all for the verb). EXIT_OK after -h (usage on stdout), EXIT_USAGE for
 * any other option (usage on stderr), -1 to go on.
 */
int cli_config_opts(int argc, char **argv, bool stop_at_verb, void (*usage)(FILE *),
                    const char **path);

#endif
