/* import.h: paknctl's CSV imports (units, categories, routing rules). */
#ifndef PAKN_IMPORT_H
#define PAKN_IMPORT_H

#include <libpq-fe.h>

/*
 * Import a CSV file of the given kind ("units", "categories", "routing")
 * in one transaction. Returns 0 and prints a summary, or -1 and *cause
 * ("FILE: line N: reason"); then nothing was imported.
 */
int import_csv(PGconn *conn, const char *kind, const char *path, char **cause);

#endif
