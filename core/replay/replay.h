/*
 * replay.h - `sigflow replay`: feed an NDJSON event file through the scoring engine in event
 * time and print every alert as one JSON line, in firing order. Owns: the command's options
 * and summary. Calls replay_common (config, mapping, engine, input), replay_input, score,
 * replay_state, journal_export. Called by main.c.
 */
#ifndef SIGFLOW_REPLAY_H
#define SIGFLOW_REPLAY_H

/*
 * argv[0] = "replay". Exit codes: 0 ok, 1 config or usage error (also unreadable input),
 * 2 bad input line under --strict.
 */
int replay_main(int argc, char **argv);

#endif
