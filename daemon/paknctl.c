/* paknctl.c: the operator's tool: migrations, configuration checks,
 * imports, tokens, reports, the holiday calendar and the intake journal. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "config.h"
#include "import.h"
#include "journal_cmd.h"
#include "migrate.h"
#include "poster.h"
#include "phone.h"
#include "report.h"
#include "util.h"

#ifndef PAKN_SYSCONFDIR
#define PAKN_SYSCONFDIR "/etc"
#endif

/* Print usage and exit. */
static void __attribute__((noreturn)) usage(void)
{
	fprintf(
	    stderr,
	    "usage: paknctl [-c file] command\n"
	    "commands:\n"
	    "  migrate        apply pending database migrations\n"
	    "  check-config   check the configuration file\n"
	    "  import-units FILE        units: "
	    "code,name,parent_code,kind[,phones,\n"
	    "                           inspection_unit,desk_unit]\n"
	    "  import-categories FILE   "
	    "code,name,dimension,keywords[,sensitive,\n"
	    "                           deadline_days,working_days]\n"
	    "  import-routing FILE      category_code,area_code,unit_code\n"
	    "  import-officials FILE    unit_code,name,phone,role\n"
	    "  import-services FILE     "
	    "phone,procedure_code,procedure_name,unit,\n"
	    "                           received,returned,on_time[,file_id]\n"
	    "  import-holidays FILE     date,kind,name,source[,status]\n"
	    "                           (kind: holiday|workday; status: "
	    "decided|provisional)\n"
	    "  import-aliases FILE      names before the 2025 merger: "
	    "code,old_name[,old_district,\n"
	    "                           old_code,old_province_code,"
	    "old_province,change,name,source]\n"
	    "  holidays YEAR  a year's days off with their sources and "
	    "status\n"
	    "  ban PHONE --reason TEXT [--by NAME]   store the phone's "
	    "messages,\n"
	    "                 never answer them (ledgered in pakn.ban_event)\n"
	    "  unban PHONE [--reason TEXT] [--by NAME]   lift a ban "
	    "(ledgered)\n"
	    "  token create --official PHONE   print a new API token once\n"
	    "  token revoke --official PHONE   revoke every token of an "
	    "official\n"
	    "  report --month YYYY-MM [--unit CODE] [--csv]\n"
	    "                 the public monthly report of a unit's subtree\n"
	    "  rebuild-stats  recompute the statistics from the ledger\n"
	    "  purge --before YYYY-MM-DD [--dry-run]\n"
	    "                 remove the personal data of complaints closed "
	    "before the date\n"
	    "  partitions [--ensure [--months N]]\n"
	    "                 list the monthly partitions (rows, size); "
	    "--ensure creates\n"
	    "                 this month's and the next N (default 3)\n"
	    "  partitions --drop-before YYYY-MM-DD [--table outbox] "
	    "[--dry-run]\n"
	    "                 drop the outbox's whole months ended by the "
	    "date (refused\n"
	    "                 while one holds an SMS to send; never the "
	    "ledger)\n"
	    "  poster UNIT    print the unit's A4 poster (HTML) for citizens\n"
	    "  survey-percent UNIT PERCENT|default   share of the unit's "
	    "services surveyed\n"
	    "  open311-client add NAME      register an Open311 client, print "
	    "its api_key once\n"
	    "  open311-client revoke NAME   revoke an Open311 client's key\n"
	    "  check-routing  list units routing reaches whose notices reach "
	    "no official\n"
	    "                 who can act, and where they fall back to\n"
	    "  failed [--since YYYY-MM-DD] [--limit N]\n"
	    "                 the messages whose processing failed, the "
	    "newest first,\n"
	    "                 with the reason\n"
	    "  retry ID...|--all [--error TEXT] [--by NAME]\n"
	    "                 put failed messages back for processing "
	    "(recorded)\n"
	    "  journal show [DIR]     the intake journal: files, records "
	    "waiting, torn\n"
	    "                         and bad files, oldest and newest "
	    "(DIR: [intake]\n"
	    "                         journal_dir)\n"
	    "  journal replay [DIR]   store the journal's messages in the "
	    "database\n"
	    "                         (each once) and delete what was "
	    "replayed\n"
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

/* Connect to the configured database or exit with the reason. */
static PGconn *
db_connect(const char *path)
{
	struct config *c = load(path);
	PGconn *conn = PQconnectdb(c->conninfo);
	config_unref(c);
	if (PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "paknctl: %s", PQerrorMessage(conn));
		PQfinish(conn);
		exit(1);
	}
	PQclear(PQexec(conn, "SET client_min_messages = warning"));
	return conn;
}

/* paknctl poster UNIT: the printable poster, as GET /poster/UNIT. */
static int
cmd_poster(const char *path, const char *unit)
{
	struct config *c = load(path);
	PGconn *conn = db_connect(path);
	PGresult *r =
	    PQexecParams(conn, POSTER_SQL, 1, NULL, &unit, NULL, NULL, 0);
	char *html = NULL, *cause = NULL;
	int rc = 1;

	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		fprintf(stderr, "paknctl: %s", PQresultErrorMessage(r));
	else if (PQntuples(r) != 1 || PQgetisnull(r, 0, 0))
		fprintf(stderr, "paknctl: no unit %s\n", unit);
	else if ((html = poster_html(PQgetvalue(r, 0, 0), c->short_number,
	                             c->ussd_code, &cause)) == NULL) {
		fprintf(stderr, "paknctl: %s\n", cause);
		free(cause);
	} else {
		fputs(html, stdout);
		rc = 0;
	}
	free(html);
	PQclear(r);
	PQfinish(conn);
	config_unref(c);
	return rc;
}

/* paknctl import-KIND FILE: load reference data from CSV. */
static int
cmd_import(const char *path, const char *kind, const char *file)
{
	PGconn *conn = db_connect(path);
	char *cause = NULL;
	int rc = import_csv(conn, kind, file, &cause);
	PQfinish(conn);
	if (rc != 0) {
		fprintf(stderr, "paknctl: %s\n", cause);
		free(cause);
		return 1;
	}
	return 0;
}

/* Print the result of a one-row query as "label: value" or its error. */
static int
token_exec(PGconn *conn, const char *sql, const char *phone, const char *token,
           PGresult **out)
{
	const char *params[2] = {phone, token};
	PGresult *r =
	    PQexecParams(conn, sql, token ? 2 : 1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		fprintf(stderr, "paknctl: %s", PQresultErrorMessage(r));
		PQclear(r);
		return -1;
	}
	*out = r;
	return 0;
}

/* paknctl token create|revoke --official PHONE. */
static int
cmd_token(const char *path, const char *action, const char *phone_in)
{
	unsigned char raw[24];
	char token[64], *why = NULL, *phone = phone_normalize(phone_in, &why);
	PGconn *conn;
	PGresult *r;
	FILE *f;
	int rc = 1;

	if (phone == NULL) {
		fprintf(stderr, "paknctl: %s: %s\n", phone_in, why);
		free(why);
		return 1;
	}
	conn = db_connect(path);
	if (!strcmp(action, "create")) {
		if ((f = fopen("/dev/urandom", "rb")) == NULL ||
		    fread(raw, 1, sizeof raw, f) != sizeof raw)
			fatal("/dev/urandom");
		fclose(f);
		strcpy(token, "pakn_");
		for (size_t i = 0; i < sizeof raw; i++)
			snprintf(token + 5 + 2 * i, 3, "%02x", raw[i]);
		if (token_exec(conn, "SELECT pakn.token_create($1, $2)", phone,
		               token, &r) == 0) {
			if (!PQgetisnull(r, 0, 0)) {
				printf("%s\n", token);
				rc = 0;
			} else
				fprintf(stderr,
				        "paknctl: no active official "
				        "with phone %s\n",
				        phone);
			PQclear(r);
		}
	} else if (!strcmp(action, "revoke")) {
		if (token_exec(conn, "SELECT pakn.token_revoke($1)", phone,
		               NULL, &r) == 0) {
			int n = atoi(PQgetvalue(r, 0, 0));
			printf("%d token%s revoked\n", n, n == 1 ? "" : "s");
			PQclear(r);
			rc = 0;
		}
	} else
		usage();
	PQfinish(conn);
	free(phone);
	return rc;
}

/* Who runs paknctl, for the ban ledger: --by, else the login name. */
static const char *
ban_actor(const char *by)
{
	const char *u;

	if (by != NULL)
		return by;
	if ((u = getenv("SUDO_USER")) != NULL && *u != '\0')
		return u;
	if ((u = getenv("USER")) != NULL && *u != '\0')
		return u;
	return "paknctl";
}

/* paknctl ban|unban PHONE [--reason TEXT] [--by NAME]. */
static int
cmd_ban(const char *path, int ban, int argc, char **argv)
{
	const char *reason = NULL, *by = NULL, *params[3];
	char *why = NULL, *phone;
	PGconn *conn;
	PGresult *r;
	int rc = 1;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--reason") && i + 1 < argc)
			reason = argv[++i];
		else if (!strcmp(argv[i], "--by") && i + 1 < argc)
			by = argv[++i];
		else
			usage();
	}
	if (argc < 1 || (ban && (reason == NULL || *reason == '\0'))) {
		fprintf(stderr, "paknctl: %s\n",
		        argc < 1 ? "which phone?"
		                 : "ban needs --reason TEXT (it is ledgered)");
		return 2;
	}
	if ((phone = phone_normalize_sender(argv[0], &why)) == NULL) {
		fprintf(stderr, "paknctl: %s: %s\n", argv[0], why);
		free(why);
		return 1;
	}
	conn = db_connect(path);
	params[0] = phone;
	params[1] = reason;
	params[2] = ban_actor(by);
	r = PQexecParams(conn,
	                 ban ? "SELECT pakn.ban_add($1, $2, $3)"
	                     : "SELECT pakn.ban_lift($1, $2, $3)",
	                 3, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		fprintf(stderr, "paknctl: %s", PQresultErrorMessage(r));
	else {
		rc = 0;
		if (ban)
			printf("%s banned%s\n", phone,
			       *PQgetvalue(r, 0, 0) == 't'
			           ? ""
			           : " (it was already; reason updated)");
		else if (*PQgetvalue(r, 0, 0) == 't')
			printf("%s unbanned\n", phone);
		else {
			fprintf(stderr, "paknctl: %s is not banned\n", phone);
			rc = 1;
		}
	}
	PQclear(r);
	PQfinish(conn);
	free(phone);
	return rc;
}

/* Run one statement with text parameters; its result, or NULL with the
 * server's message printed. */
static PGresult *
exec_params(PGconn *conn, const char *sql, int n, const char *const *params)
{
	PGresult *r = PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0);

	if (PQresultStatus(r) == PGRES_TUPLES_OK ||
	    PQresultStatus(r) == PGRES_COMMAND_OK)
		return r;
	fprintf(stderr, "paknctl: %s", PQresultErrorMessage(r));
	PQclear(r);
	return NULL;
}

/* paknctl open311-client add|revoke NAME. */
static int
cmd_open311_client(const char *path, const char *action, const char *name)
{
	unsigned char raw[24];
	char key[64];
	const char *params[2] = {name, key};
	PGconn *conn;
	PGresult *r;
	FILE *f;
	int rc = 1;

	if (strcmp(action, "add") != 0 && strcmp(action, "revoke") != 0)
		usage();
	conn = db_connect(path);
	if (!strcmp(action, "add")) {
		if ((f = fopen("/dev/urandom", "rb")) == NULL ||
		    fread(raw, 1, sizeof raw, f) != sizeof raw)
			fatal("/dev/urandom");
		fclose(f);
		strcpy(key, "o311_");
		for (size_t i = 0; i < sizeof raw; i++)
			snprintf(key + 5 + 2 * i, 3, "%02x", raw[i]);
		r = exec_params(
		    conn,
		    "INSERT INTO pakn.open311_client (name, key_hash) "
		    "VALUES ($1, sha256(convert_to($2, 'UTF8'))) "
		    "ON CONFLICT (name) DO UPDATE SET key_hash = "
		    "excluded.key_hash, revoked_at = NULL RETURNING id",
		    2, params);
		if (r != NULL) {
			printf("%s\n", key);
			rc = 0;
		}
	} else if ((r = exec_params(conn,
	                            "UPDATE pakn.open311_client SET revoked_at "
	                            "= now() WHERE name = $1 RETURNING id",
	                            1, params)) != NULL) {
		if (PQntuples(r) == 1) {
			printf("client %s revoked\n", name);
			rc = 0;
		} else
			fprintf(stderr, "paknctl: no Open311 client %s\n",
			        name);
	}
	PQclear(r);
	PQfinish(conn);
	return rc;
}

/* Print s on one line: control characters (a message's line breaks) as
 * spaces, cut after max bytes at a character's start. */
static void
print_line(const char *s, size_t max)
{
	size_t n = strlen(s), cut = n;

	if (n > max) {
		cut = max;
		while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
			cut--;
	}
	for (size_t i = 0; i < cut; i++)
		putchar((unsigned char)s[i] < 0x20 || s[i] == 0x7f ? ' '
		                                                   : s[i]);
	if (cut < n)
		fputs("...", stdout);
	putchar('\n');
}

/* paknctl failed [--since YYYY-MM-DD] [--limit N]: the messages whose
 * processing failed, the newest first, with the reason. */
static int
cmd_failed(const char *path, int argc, char **argv)
{
	const char *params[2] = {NULL, "50"};
	PGconn *conn;
	PGresult *r;
	long total = 0;
	int n;

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--since") && i + 1 < argc)
			params[0] = argv[++i];
		else if (!strcmp(argv[i], "--limit") && i + 1 < argc &&
		         strspn(argv[i + 1], "0123456789") ==
		             strlen(argv[i + 1]) &&
		         strlen(argv[i + 1]) < 7 && atol(argv[i + 1]) > 0)
			params[1] = argv[++i];
		else
			usage();
	}
	conn = db_connect(path);
	if ((r = exec_params(conn,
	                     "SELECT id, to_char(received_at AT TIME ZONE "
	                     "'Asia/Ho_Chi_Minh', 'YYYY-MM-DD HH24:MI:SS'), "
	                     "gateway, msisdn, body, attempts, "
	                     "coalesce(error, ''), retries, total "
	                     "FROM pakn.intake_failed($1::date, $2::integer)",
	                     2, params)) == NULL) {
		PQfinish(conn);
		return 1;
	}
	n = PQntuples(r);
	for (int i = 0; i < n; i++) {
		total = atol(PQgetvalue(r, i, 8));
		printf("%s  %s (Vietnam)  %s  %s  claimed %s time%s, put back "
		       "%s time%s\n",
		       PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
		       PQgetvalue(r, i, 2), PQgetvalue(r, i, 3),
		       PQgetvalue(r, i, 5),
		       strcmp(PQgetvalue(r, i, 5), "1") ? "s" : "",
		       PQgetvalue(r, i, 7),
		       strcmp(PQgetvalue(r, i, 7), "1") ? "s" : "");
		fputs("    text:  ", stdout);
		print_line(PQgetvalue(r, i, 4), 160);
		fputs("    error: ", stdout);
		print_line(PQgetvalue(r, i, 6), 300);
	}
	if (n == 0)
		printf("no failed message%s\n",
		       params[0] != NULL ? " received since then" : "");
	else
		printf("%ld failed message%s%s; once what failed is mended, "
		       "paknctl retry ID... puts them back for processing\n",
		       total, total == 1 ? "" : "s",
		       total > n ? " (the newest shown)" : "");
	PQclear(r);
	PQfinish(conn);
	return 0;
}

/* paknctl retry ID... | --all [--error TEXT] [--by NAME]: put failed
 * messages back for processing (pakn.intake_retry, recorded in
 * pakn.inbound_retry); 1 when a message named was not failed. */
static int
cmd_retry(const char *path, int argc, char **argv)
{
	const char *params[3] = {NULL, NULL, NULL}, *by = NULL;
	struct buf ids;
	int all = 0, named = 0, rc = 0, n, put = 0;
	PGconn *conn;
	PGresult *r;

	buf_init(&ids);
	buf_adds(&ids, "{");
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--all"))
			all = 1;
		else if (!strcmp(argv[i], "--error") && i + 1 < argc &&
		         argv[i + 1][0] != '\0')
			params[1] = argv[++i];
		else if (!strcmp(argv[i], "--by") && i + 1 < argc)
			by = argv[++i];
		else if (argv[i][0] != '\0' && strlen(argv[i]) < 19 &&
		         strspn(argv[i], "0123456789") == strlen(argv[i])) {
			buf_printf(&ids, "%s%s", named ? "," : "", argv[i]);
			named++;
		} else
			usage();
	}
	if (all == (named > 0)) {
		fprintf(stderr, "paknctl: retry needs the messages' ids or "
		                "--all (paknctl failed lists them)\n");
		buf_clear(&ids);
		return 2;
	}
	buf_adds(&ids, "}");
	params[0] = all ? NULL : ids.data;
	params[2] = ban_actor(by);
	conn = db_connect(path);
	if ((r = exec_params(conn,
	                     "SELECT message_id, coalesce(state, ''), retried "
	                     "FROM pakn.intake_retry($1::bigint[], $2, $3)",
	                     3, params)) == NULL) {
		buf_clear(&ids);
		PQfinish(conn);
		return 1;
	}
	n = PQntuples(r);
	for (int i = 0; i < n; i++) {
		const char *state = PQgetvalue(r, i, 1);

		if (*PQgetvalue(r, i, 2) == 't') {
			printf("%s: put back for processing\n",
			       PQgetvalue(r, i, 0));
			put++;
		} else {
			fprintf(stderr, "paknctl: %s: %s%s%s\n",
			        PQgetvalue(r, i, 0),
			        *state == '\0' ? "no such message"
			                       : "not failed (",
			        state, *state == '\0' ? "" : ")");
			rc = 1;
		}
	}
	printf("%d message%s put back for processing%s\n", put,
	       put == 1 ? "" : "s",
	       put > 0 ? ": paknd takes them at its next claim" : "");
	PQclear(r);
	buf_clear(&ids);
	PQfinish(conn);
	return rc;
}

/* paknctl survey-percent UNIT PERCENT|default. */
static int
cmd_survey_percent(const char *path, const char *unit, const char *pct)
{
	const char *params[2] = {unit, pct};
	int def = !strcmp(pct, "default");
	PGconn *conn = db_connect(path);
	PGresult *r = exec_params(
	    conn,
	    def ? "DELETE FROM pakn.survey_unit WHERE unit_code = $1 "
	          "RETURNING unit_code"
	        : "INSERT INTO pakn.survey_unit (unit_code, percent) VALUES "
	          "($1, $2::numeric) ON CONFLICT (unit_code) DO UPDATE SET "
	          "percent = excluded.percent RETURNING unit_code",
	    def ? 1 : 2, params);
	int rc = r == NULL;

	if (r != NULL)
		printf("%s: %s\n", unit,
		       def ? "the configured share ([survey] sample_percent)"
		           : "share set");
	PQclear(r);
	PQfinish(conn);
	return rc;
}

/* paknctl report --month YYYY-MM [--unit CODE] [--csv]. */
static int
cmd_report(const char *path, int argc, char **argv)
{
	struct config *c = load(path);
	struct report_opts o = {c->stats_cutoff_day, c->stats_target_on_time,
	                        c->stats_target_satisfaction};
	const char *month = NULL, *unit = NULL;
	PGconn *conn;
	int csv = 0, rc;

	config_unref(c);
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--month") && i + 1 < argc)
			month = argv[++i];
		else if (!strcmp(argv[i], "--unit") && i + 1 < argc)
			unit = argv[++i];
		else if (!strcmp(argv[i], "--csv"))
			csv = 1;
		else
			usage();
	}
	if (month == NULL)
		usage();
	conn = db_connect(path);
	rc = report_cmd(conn, &o, month, unit, csv);
	PQfinish(conn);
	return rc;
}

/* paknctl purge --before YYYY-MM-DD [--dry-run]: remove the personal
 * data of complaints closed before the date and of what belongs to them
 * (pakn.purge_personal, one transaction, a ledger event per complaint);
 * print what was (or, dry, would be) removed. */
static int
cmd_purge(const char *path, int argc, char **argv)
{
	const char *values[3] = {NULL, NULL, "false"};
	char actor[64];
	PGconn *conn;
	PGresult *res;
	int rc = 0;

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--before") && i + 1 < argc)
			values[0] = argv[++i];
		else if (!strcmp(argv[i], "--dry-run"))
			values[2] = "true";
		else
			usage();
	}
	if (values[0] == NULL)
		usage();
	snprintf(actor, sizeof actor, "paknctl purge (uid %ld)",
	         (long)getuid());
	values[1] = actor;
	conn = db_connect(path);
	res = PQexecParams(conn,
	                   "SELECT pakn.purge_personal($1::date, $2, "
	                   "$3::boolean)",
	                   3, NULL, values, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		fprintf(stderr, "paknctl: purge: %s",
		        PQresultErrorMessage(res));
		rc = 1;
	} else
		printf("%s\n", PQgetvalue(res, 0, 0));
	PQclear(res);
	PQfinish(conn);
	return rc;
}

/* Print the monthly partitions: table, partition, local dates, rows,
 * size; 0, or 1 on a database error. */
static int
partitions_print(PGconn *conn)
{
	PGresult *r = exec_params(
	    conn,
	    "SELECT table_name, partition, coalesce((range_from AT TIME ZONE "
	    "'Asia/Ho_Chi_Minh')::date::text, 'DEFAULT'), coalesce(("
	    "range_to AT TIME ZONE 'Asia/Ho_Chi_Minh')::date::text, ''), "
	    "rows, pg_size_pretty(bytes) FROM pakn.partition_list()",
	    0, NULL);

	if (r == NULL)
		return 1;
	printf("%-16s %-24s %-10s %-10s %10s %10s\n", "table", "partition",
	       "from", "to", "rows", "size");
	for (int i = 0; i < PQntuples(r); i++)
		printf("%-16s %-24s %-10s %-10s %10s %10s\n",
		       PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
		       PQgetvalue(r, i, 2), PQgetvalue(r, i, 3),
		       PQgetvalue(r, i, 4), PQgetvalue(r, i, 5));
	PQclear(r);
	return 0;
}

/* Run one statement giving one value and print it with a suffix; 0, or
 * 1 on error. */
static int
print_value(PGconn *conn, const char *sql, int n, const char *const *params,
            const char *suffix)
{
	PGresult *r = exec_params(conn, sql, n, params);

	if (r == NULL)
		return 1;
	printf("%s%s\n", PQgetvalue(r, 0, 0), suffix);
	PQclear(r);
	return 0;
}

/* paknctl partitions [--ensure [--months N]] | --drop-before DATE
 * [--table T] [--dry-run]: list the monthly partitions, create the next
 * months' (pakn.partitions_ensure), or drop whole old months of the
 * outbox (pakn.partitions_drop_before, ledgered in
 * pakn.partition_event). */
static int
cmd_partitions(const char *path, int argc, char **argv)
{
	const char *ensure[2] = {NULL, NULL};
	const char *drop[4] = {"outbox", NULL, NULL, "false"};
	char actor[64];
	PGconn *conn;
	int rc = 0;

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--ensure") && ensure[0] == NULL)
			ensure[0] = "3";
		else if (!strcmp(argv[i], "--months") && i + 1 < argc)
			ensure[0] = argv[++i];
		else if (!strcmp(argv[i], "--drop-before") && i + 1 < argc)
			drop[1] = argv[++i];
		else if (!strcmp(argv[i], "--table") && i + 1 < argc)
			drop[0] = argv[++i];
		else if (!strcmp(argv[i], "--dry-run"))
			drop[3] = "true";
		else
			usage();
	}
	if (ensure[0] != NULL && drop[1] != NULL)
		usage();
	snprintf(actor, sizeof actor, "paknctl partitions (uid %ld)",
	         (long)getuid());
	ensure[1] = drop[2] = actor;
	conn = db_connect(path);
	if (ensure[0] != NULL)
		rc = print_value(
		    conn, "SELECT pakn.partitions_ensure($1::integer, $2)", 2,
		    ensure, " partitions created");
	else if (drop[1] != NULL)
		rc = print_value(conn,
		                 "SELECT pakn.partitions_drop_before($1, "
		                 "$2::date, $3, $4::boolean)",
		                 4, drop, "");
	if (rc == 0 && drop[1] == NULL)
		rc = partitions_print(conn);
	PQfinish(conn);
	return rc;
}

/* paknctl rebuild-stats: recompute the rollups from the ledger. */
static int
cmd_rebuild_stats(const char *path)
{
	PGconn *conn = db_connect(path);
	int rc = report_rebuild(conn);
	PQfinish(conn);
	return rc;
}

/* paknctl check-routing: list the units routing can reach that have no
 * official who can act, with where their notices fall back to; 1 when
 * there are any. */
static int
cmd_check_routing(const char *path)
{
	PGconn *conn = db_connect(path);
	PGresult *r = PQexec(conn, "SELECT unit_code, unit_name, unit_kind, "
	                           "fallback_unit, fallback_phones "
	                           "FROM pakn.routing_gaps()");
	int n;

	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		fprintf(stderr, "paknctl: %s", PQresultErrorMessage(r));
		PQclear(r);
		PQfinish(conn);
		return 1;
	}
	if ((n = PQntuples(r)) == 0)
		printf("every unit routing can reach has an official who can "
		       "act\n");
	for (int i = 0; i < n; i++) {
		printf("%s\t%s (%s): no official who can act; ",
		       PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
		       PQgetvalue(r, i, 2));
		if (PQgetisnull(r, i, 3))
			printf("notices reach nobody\n");
		else
			printf("notices fall back to %s (%s phone%s)\n",
			       PQgetvalue(r, i, 3), PQgetvalue(r, i, 4),
			       strcmp(PQgetvalue(r, i, 4), "1") ? "s" : "");
	}
	PQclear(r);
	PQfinish(conn);
	return n > 0;
}

/* Print a year's status and source; 0, or -1 on a database error. */
static int
holidays_year(PGconn *conn, const char *year)
{
	const char *params[1] = {year};
	PGresult *r = PQexecParams(
	    conn,
	    "SELECT pakn.calendar_status($1::integer), "
	    "(SELECT source FROM pakn.holiday_year WHERE year = $1::integer)",
	    1, NULL, params, NULL, NULL, 0);

	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		fprintf(stderr, "paknctl: %s", PQresultErrorMessage(r));
		PQclear(r);
		return -1;
	}
	if (!strcmp(PQgetvalue(r, 0, 0), "missing"))
		printf("%s: no calendar: only Saturdays and Sundays are days "
		       "off, and due dates in %s are provisional; add the "
		       "year with paknctl import-holidays\n",
		       year, year);
	else
		printf("%s: %s\nsource: %s\n", year, PQgetvalue(r, 0, 0),
		       PQgetvalue(r, 0, 1));
	PQclear(r);
	return 0;
}

/* paknctl holidays YEAR: a year's days off and worked-back days, each
 * with its source, and whether the year is decided or provisional. */
static int
cmd_holidays(const char *path, const char *year)
{
	const char *params[1] = {year};
	PGconn *conn;
	PGresult *r;
	int rc = 1;

	if (strlen(year) != 4 || strspn(year, "0123456789") != 4 ||
	    year[0] == '0') {
		fprintf(stderr,
		        "paknctl: holidays: \"%s\" is not a year "
		        "(YYYY)\n",
		        year);
		return 2;
	}
	conn = db_connect(path);
	if (holidays_year(conn, year) != 0)
		goto out;
	r = PQexecParams(
	    conn,
	    "SELECT day, (ARRAY['T2','T3','T4','T5','T6','T7','CN'])"
	    "[extract(isodow FROM day)], kind, name, source "
	    "FROM pakn.holiday WHERE extract(year FROM day) = $1::integer "
	    "ORDER BY day",
	    1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		fprintf(stderr, "paknctl: %s", PQresultErrorMessage(r));
		PQclear(r);
		goto out;
	}
	for (int i = 0; i < PQntuples(r); i++)
		printf("%s %-2s %-7s  %s  [%s]\n", PQgetvalue(r, i, 0),
		       PQgetvalue(r, i, 1), PQgetvalue(r, i, 2),
		       PQgetvalue(r, i, 3), PQgetvalue(r, i, 4));
	PQclear(r);
	rc = 0;
out:
	PQfinish(conn);
	return rc;
}

/* paknctl journal show|replay [DIR]; DIR defaults to [intake]
 * journal_dir. */
static int
cmd_journal(const char *path, int argc, char **argv)
{
	struct config *c = NULL;
	const char *dir;
	PGconn *conn;
	int rc;

	if (argc < 1 || argc > 2 ||
	    (strcmp(argv[0], "show") != 0 && strcmp(argv[0], "replay") != 0))
		usage();
	if (argc == 2)
		dir = argv[1];
	else
		dir = (c = load(path))->journal_dir;
	if (!strcmp(argv[0], "show"))
		rc = journal_cmd_show(dir);
	else {
		conn = db_connect(path);
		rc = journal_cmd_replay(conn, dir);
		PQfinish(conn);
	}
	config_unref(c);
	return rc;
}

/* paknctl migrate: apply pending migrations. */
static int
cmd_migrate(const char *path)
{
	PGconn *conn = db_connect(path);
	char *cause = NULL;
	int n, nf;

	n = migrate_apply(conn, &nf, &cause);
	PQfinish(conn);
	if (n < 0) {
		fprintf(stderr, "paknctl: %s\n", cause);
		free(cause);
		return 1;
	}
	printf("schema at version %d: %d migration%s applied; %d function "
	       "file%s applied\n",
	       migrate_latest(), n, n == 1 ? "" : "s", nf, nf == 1 ? "" : "s");
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

	while ((ch = getopt(argc, argv, "+c:h")) != -1) {
		if (ch == 'c')
			path = optarg;
		else
			usage();
	}
	if (optind >= argc)
		usage();
	cmd = argv[optind];
	log_init("paknctl", 1, 0);
	if (!strncmp(cmd, "import-", 7) && optind + 2 == argc &&
	    (!strcmp(cmd + 7, "units") || !strcmp(cmd + 7, "categories") ||
	     !strcmp(cmd + 7, "routing") || !strcmp(cmd + 7, "officials") ||
	     !strcmp(cmd + 7, "holidays") || !strcmp(cmd + 7, "aliases") ||
	     !strcmp(cmd + 7, "services")))
		return cmd_import(path, cmd + 7, argv[optind + 1]);
	if (!strcmp(cmd, "token") && optind + 4 == argc &&
	    !strcmp(argv[optind + 2], "--official"))
		return cmd_token(path, argv[optind + 1], argv[optind + 3]);
	if (!strcmp(cmd, "open311-client") && optind + 3 == argc)
		return cmd_open311_client(path, argv[optind + 1],
		                          argv[optind + 2]);
	if (!strcmp(cmd, "survey-percent") && optind + 3 == argc)
		return cmd_survey_percent(path, argv[optind + 1],
		                          argv[optind + 2]);
	if (!strcmp(cmd, "poster") && optind + 2 == argc)
		return cmd_poster(path, argv[optind + 1]);
	if (!strcmp(cmd, "holidays") && optind + 2 == argc)
		return cmd_holidays(path, argv[optind + 1]);
	if (!strcmp(cmd, "ban") || !strcmp(cmd, "unban"))
		return cmd_ban(path, !strcmp(cmd, "ban"), argc - optind - 1,
		               argv + optind + 1);
	if (!strcmp(cmd, "report"))
		return cmd_report(path, argc - optind - 1, argv + optind + 1);
	if (!strcmp(cmd, "journal"))
		return cmd_journal(path, argc - optind - 1, argv + optind + 1);
	if (!strcmp(cmd, "purge"))
		return cmd_purge(path, argc - optind - 1, argv + optind + 1);
	if (!strcmp(cmd, "failed"))
		return cmd_failed(path, argc - optind - 1, argv + optind + 1);
	if (!strcmp(cmd, "retry"))
		return cmd_retry(path, argc - optind - 1, argv + optind + 1);
	if (!strcmp(cmd, "partitions"))
		return cmd_partitions(path, argc - optind - 1,
		                      argv + optind + 1);
	if (optind + 1 != argc)
		usage();
	if (!strcmp(cmd, "rebuild-stats"))
		return cmd_rebuild_stats(path);
	if (!strcmp(cmd, "check-routing"))
		return cmd_check_routing(path);
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
