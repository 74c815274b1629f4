/* poster_http.c: GET /poster/UNIT, the printable poster of a commune.
 *
 * Public like the monthly report (a poster goes on a wall): one call of
 * pakn.poster gives the unit and the answer times, poster.c writes the
 * page with the configured short number and USSD code.
 */

#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "poster.h"
#include "poster_http.h"
#include "stmt.h"
#include "util.h"

#define POSTER_PREFIX   "/poster/"
#define POSTER_MAX_UNIT 32

/* A request waiting for its unit. */
struct poster_req {
	struct paknd *d;
	struct evhttp_request *req;
};

/* The unit's data arrived: write the page, or say there is no unit. */
static void
poster_done(void *arg, enum db_status st, PGresult *res, const char *error)
{
	struct poster_req *p = arg;
	char *html, *cause = NULL;

	if (st != DB_OK) {
		log_warnx("poster: %s", error);
		http_error(p->d, p->req, 503, "database unavailable, retry");
	} else if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0))
		http_error(p->d, p->req, 404, "no such unit");
	else if ((html = poster_html(PQgetvalue(res, 0, 0),
	                             p->d->conf->short_number,
	                             p->d->conf->ussd_code, &cause)) == NULL) {
		log_warnx("poster: %s", cause);
		http_error(p->d, p->req, 500, "cannot write the poster");
		free(cause);
	} else {
		evhttp_add_header(evhttp_request_get_output_headers(p->req),
		                  "Content-Security-Policy", poster_csp());
		http_reply(p->d, p->req, 200, "text/html; charset=utf-8", html,
		           strlen(html));
		free(html);
	}
	free(p);
}

/* Is s a unit code as pakn stores them (letters, digits, '-', '_')? */
static int
unit_code_ok(const char *s)
{
	size_t n = strspn(s, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                     "abcdefghijklmnopqrstuvwxyz-_");

	return n > 0 && n <= POSTER_MAX_UNIT && s[n] == '\0';
}

/* Answer GET /poster/UNIT. */
static void
poster_route(struct paknd *d, struct evhttp_request *req, const char *path,
             const char *arg)
{
	struct poster_req *p;
	const char *unit = path + strlen(POSTER_PREFIX);
	char *cause = NULL;

	if (!unit_code_ok(unit)) {
		http_error(d, req, 404,
		           "no such poster: use /poster/UNIT (a unit code)");
		return;
	}
	p = xcalloc(1, sizeof *p);
	p->d = d;
	p->req = req;
	if (db_submit(d->db, STMT_POSTER, 1, &unit, NULL, NULL, poster_done, p,
	              &cause) != 0) {
		http_error(d, req, 503, cause);
		free(cause);
		free(p);
	}
}

/* Register /poster/. */
void
poster_routes(struct paknd *d)
{
	http_route_add(d, POSTER_PREFIX, HTTP_PREFIX, poster_route);
}
