/*
 * cli.h - the subcommands of the sigflow binary, each `int cmd_x(int argc, char **argv)` with
 * argv[0] the subcommand's name, returning the exit code. Dispatched by main.c.
 */
#ifndef SIGFLOW_CLI_H
#define SIGFLOW_CLI_H

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

#endif
