/* paknctl.c: the operator's tool: migrations, configuration checks. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "config.h"
#include "migrate.h"
#include "util.h"

#ifndef PAKN_SYSCONFDIR
#define PAKN_SYSCONFDIR "/etc"
#endif

/* Print usage and exit. */
static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr,
	    "usage: paknctl [-c file] command\n"
	    "commands:\n"
	    "  migrate        apply pending database migrations\n"
	    "  check-config   check the configuration file\n"
	    "  defaults       print every configuration key with its default\n"
	    "  version        print the version and the schema it needs\n"
	    "default file: %s/pakn/paknd.conf\n",
	    PAKN_SYSCONFDIR);
	exit(2);
}

/* Load the configuration or exit with the reason. */
static struct config *
load(const char *path)
{
	char *cause = NULL;
	struct config *c = config_load(path, &cause);
	if (c == NULL) {
		fprintf(stderr, "paknctl: %s\n", cause);
		exit(1);
	}
	return c;
}

/* paknctl migrate: apply pending migrations. */
static int
cmd_migrate(const char *path)
{
	struct config *c = load(path);
	PGconn *conn = PQconnectdb(c->conninfo);
	char *cause = NULL;
	int n;

	if (PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "paknctl: %s", PQerrorMessage(conn));
		PQfinish(conn);
		config_unref(c);
		return 1;
	}
	n = migrate_apply(conn, &cause);
	PQfinish(conn);
	config_unref(c);
	if (n < 0) {
		fprintf(stderr, "paknctl: %s\n", cause);
		free(cause);
		return 1;
	}
	printf("schema at version %d: %d migration%s applied\n",
	    migrate_latest(), n, n == 1 ? "" : "s");
	return 0;
}

/* paknctl check-config: parse the file and report. */
static int
cmd_check_config(const char *path)
{
	struct config *c = load(path);
	printf("%s: configuration OK (%zu gateway%s)\n", path, c->ngateways,
	    c->ngateways == 1 ? "" : "s");
	for (size_t i = 0; i < c->ngateways; i++)
		printf("  gateway %s: %s, callbacks at /v1/gw/%s/sms\n",
		    c->gateways[i].name, gw_type_name(c->gateways[i].type),
		    c->gateways[i].name);
	config_unref(c);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *path = PAKN_SYSCONFDIR "/pakn/paknd.conf", *cmd;
	int ch;

	while ((ch = getopt(argc, argv, "c:h")) != -1) {
		if (ch == 'c')
			path = optarg;
		else
			usage();
	}
	if (optind + 1 != argc)
		usage();
	cmd = argv[optind];
	log_init("paknctl", 1, 0);
	if (!strcmp(cmd, "migrate"))
		return cmd_migrate(path);
	if (!strcmp(cmd, "check-config"))
		return cmd_check_config(path);
	if (!strcmp(cmd, "defaults")) {
		config_print_defaults();
		return 0;
	}
	if (!strcmp(cmd, "version")) {
		printf("paknctl %s (schema version %d)\n", PACKAGE_VERSION,
		    migrate_latest());
		return 0;
	}
	fprintf(stderr, "paknctl: unknown command %s\n", cmd);
	usage();
}
