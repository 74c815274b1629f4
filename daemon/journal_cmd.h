/* journal_cmd.h: paknctl journal show|replay, over the intake journal. */
#ifndef PAKN_JOURNAL_CMD_H
#define PAKN_JOURNAL_CMD_H

#include <libpq-fe.h>

/* Print the journal's files, records, bytes, torn and bad files, and the
 * oldest and newest time received; the exit status. */
int journal_cmd_show(const char *dir);
/* Store every record of the journal with pakn.ingest_sms, 500 to a
 * transaction, and print what was stored; the exit status. */
int journal_cmd_replay(PGconn *conn, const char *dir);

#endif
