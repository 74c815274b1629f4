/* journal_cmd.h: paknctl journal show|replay, over the intake journal. */
#ifndef PAKN_JOURNAL_CMD_H
#define PAKN_JOURNAL_CMD_H

#include <libpq-fe.h>

#include "journal.h"

/* Print the journal's files, records, bytes, torn and bad files, and the
 * oldest and newest time received; the exit status. */
int journal_cmd_show(const char *dir);
/* Store every record of the journal with pakn.intake_store, 500 to a
 * transaction, and print what was stored; the exit status. */
int journal_cmd_replay(PGconn *conn, const char *dir);
/* The same without printing (paknd replays on a thread of its own): the
 * counts in *stored, *dup and *st; 0, or -1 and *cause. */
int journal_cmd_store(PGconn *conn, const char *dir, long *stored, long *dup,
                      struct journal_stats *st, char **cause);

#endif
