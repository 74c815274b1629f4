/* report.c: statistics documents as CSV, HTML and text; paknctl report
 * and rebuild-stats.
 *
 * pakn.stats_doc computes everything; this file only lays a document out.
 * A column is shown when the document's total carries its measure, so
 * the public report (fewer measures) and the leaders' tables share the
 * column table below.
 */

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "report.h"

/* The public report's only style; its hash is in the page's CSP. */
#define REPORT_STYLE                                                           \
	"body{font-family:sans-serif;margin:2em}"                              \
	"table{border-collapse:collapse}td,th{border:1px solid "               \
	"#999;padding:4px 8px}td{text-align:right}"                            \
	"tr.total{font-weight:bold}"

enum col_fmt {
	F_INT,  /* a count */
	F_PCT,  /* a percentage, one decimal */
	F_DEC,  /* two decimals */
	F_MET,  /* target met: đạt / không đạt */
	F_TIER, /* PAPI tier 1-4 */
};

/* One column: its measure, whether it is the previous period's, its
 * Vietnamese heading and its format. */
struct col {
	const char *key;
	int previous;
	const char *head;
	enum col_fmt fmt;
};

static const struct col cols[] = {
    {"received", 0, "Tiếp nhận", F_INT},
    {"answered", 0, "Đã trả lời", F_INT},
    {"answered_on_time", 0, "Trả lời đúng hạn", F_INT},
    {"answered_late", 0, "Trả lời quá hạn", F_INT},
    {"open_overdue", 0, "Đang quá hạn", F_INT},
    {"on_time_rate", 0, "Tỷ lệ đúng hạn (%)", F_PCT},
    {"on_time_target_met", 0, "Mục tiêu đúng hạn", F_MET},
    {"median_days", 0, "Trung vị ngày làm việc", F_INT},
    {"p90_days", 0, "Phân vị 90 ngày làm việc", F_INT},
    {"apologies", 0, "Xin lỗi", F_INT},
    {"transfers", 0, "Chuyển đơn vị", F_INT},
    {"reopens", 0, "Mở lại", F_INT},
    {"reopen_rate", 0, "Tỷ lệ mở lại (%)", F_PCT},
    {"ratings", 0, "Lượt đánh giá", F_INT},
    {"mean_score", 0, "Điểm đánh giá TB (1-5)", F_DEC},
    {"satisfaction_rate", 0, "Tỷ lệ hài lòng (%)", F_PCT},
    {"satisfaction_target_met", 0, "Mục tiêu hài lòng", F_MET},
    {"score", 0, "Điểm đáp ứng PAKN (1-10)", F_DEC},
    {"rank", 0, "Xếp hạng", F_INT},
    {"ranked", 0, "Số đơn vị xếp hạng", F_INT},
    {"tier", 0, "Nhóm", F_TIER},
    {"received", 1, "Tiếp nhận kỳ trước", F_INT},
    {"on_time_rate", 1, "Tỷ lệ đúng hạn kỳ trước (%)", F_PCT},
    {"satisfaction_rate", 1, "Tỷ lệ hài lòng kỳ trước (%)", F_PCT},
    {"score", 1, "Điểm đáp ứng PAKN kỳ trước", F_DEC},
    {"rank", 1, "Xếp hạng kỳ trước", F_INT},
};
#define NCOLS (sizeof cols / sizeof cols[0])

/* The survey figures (pakn.survey_stats), per unit and procedure. */
static const struct col survey_cols[] = {
    {"services", 0, "Hồ sơ đã trả", F_INT},
    {"recorded_on_time_rate", 0, "Đúng hẹn theo một cửa (%)", F_PCT},
    {"surveys_sent", 0, "Đã gửi khảo sát", F_INT},
    {"responses", 0, "Người trả lời", F_INT},
    {"response_rate", 0, "Tỷ lệ trả lời (%)", F_PCT},
    {"mean_satisfaction", 0, "Điểm hài lòng TB (1-5)", F_DEC},
    {"satisfaction_rate", 0, "Tỷ lệ hài lòng (%)", F_PCT},
    {"on_time_experienced_rate", 0, "Đúng hẹn theo người dân (%)", F_PCT},
    {"on_time_recorded_rate", 0, "Đúng hẹn theo một cửa, cùng hồ sơ (%)",
     F_PCT},
    {"on_time_gap", 0, "Chênh lệch đúng hẹn (điểm %)", F_PCT},
    {"money_asked", 0, "Bị đòi tiền ngoài phí", F_INT},
    {"money_asked_rate", 0, "Tỷ lệ bị đòi tiền ngoài phí (%)", F_PCT},
};
#define NSURVEY_COLS (sizeof survey_cols / sizeof survey_cols[0])

static const char *tier_names[] = {"", "Cao nhất", "Trung bình cao",
                                   "Trung bình thấp", "Thấp nhất"};

/* The value of a column in a row object, or NULL when absent. */
static const json_t *
col_value(const json_t *row, const struct col *c)
{
	const json_t *o = c->previous ? json_object_get(row, "previous") : row;
	return o != NULL ? json_object_get(o, c->key) : NULL;
}

/* Does the document show this column? (Its total carries it.) */
static int
col_shown(const json_t *doc, const struct col *c)
{
	return col_value(json_object_get(doc, "total"), c) != NULL;
}

/* Format one value of a column into buf ("" for none). */
static void
col_format(const struct col *c, const json_t *v, char *buf, size_t size)
{
	double x = json_number_value(v);

	buf[0] = '\0';
	if (v == NULL || json_is_null(v))
		return;
	switch (c->fmt) {
	case F_INT:
		snprintf(buf, size, "%.0f", x);
		break;
	case F_PCT:
		snprintf(buf, size, "%.1f", x);
		break;
	case F_DEC:
		snprintf(buf, size, "%.2f", x);
		break;
	case F_MET:
		snprintf(buf, size, "%s",
		         json_is_true(v) ? "đạt" : "không đạt");
		break;
	case F_TIER:
		if (x >= 1 && x <= 4)
			snprintf(buf, size, "%.0f %s", x, tier_names[(int)x]);
		break;
	}
}

/* Append one CSV field (csv_cell: quoted, formulas defused) and a comma
 * or the line end. */
static void
csv_field(struct buf *out, const char *s, int last)
{
	csv_cell(out, s);
	buf_adds(out, last ? "\r\n" : ",");
}

/* Append one CSV line for a row (or the total, named by the unit). */
static void
csv_row(const json_t *doc, const json_t *row, const char *key, const char *name,
        struct buf *out)
{
	char v[64];

	csv_field(out, key, 0);
	csv_field(out, name, 0);
	for (size_t i = 0; i < NCOLS; i++) {
		if (!col_shown(doc, &cols[i]))
			continue;
		col_format(&cols[i], col_value(row, &cols[i]), v, sizeof v);
		csv_field(out, v, 0);
	}
	out->len--; /* the last "," becomes the line end */
	buf_adds(out, "\r\n");
}

/* A string member of an object, or "". */
static const char *
str_of(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s != NULL ? s : "";
}

/* Append one CSV line of survey figures: unit, procedure, measures. */
static void
survey_csv_row(const json_t *row, const char *code, const char *name,
               const char *pcode, const char *pname, struct buf *out)
{
	char v[64];

	csv_field(out, code, 0);
	csv_field(out, name, 0);
	csv_field(out, pcode, 0);
	csv_field(out, pname, 0);
	for (size_t i = 0; i < NSURVEY_COLS; i++) {
		col_format(&survey_cols[i], col_value(row, &survey_cols[i]), v,
		           sizeof v);
		csv_field(out, v, i + 1 == NSURVEY_COLS);
	}
}

/* Append the survey figures of a document (by=survey) as CSV. */
static void
survey_csv(const json_t *doc, struct buf *out)
{
	const json_t *sv = json_object_get(doc, "surveys"), *row, *u, *p;
	const json_t *unit = json_object_get(doc, "unit");
	char *total;
	size_t i;

	buf_adds(out, "\xEF\xBB\xBF");
	csv_field(out, "Mã đơn vị", 0);
	csv_field(out, "Đơn vị", 0);
	csv_field(out, "Mã thủ tục", 0);
	csv_field(out, "Thủ tục", 0);
	for (i = 0; i < NSURVEY_COLS; i++)
		csv_field(out, survey_cols[i].head, i + 1 == NSURVEY_COLS);
	json_array_foreach(json_object_get(sv, "rows"), i, row)
	{
		u = json_object_get(row, "unit");
		p = json_object_get(row, "procedure");
		survey_csv_row(row, str_of(u, "code"), str_of(u, "name"),
		               str_of(p, "code"), str_of(p, "name"), out);
	}
	total = xasprintf("Tổng %s", str_of(unit, "name"));
	survey_csv_row(json_object_get(sv, "total"), str_of(unit, "code"),
	               total, "", "", out);
	free(total);
}

/* Append the rows and the total of a document as CSV. */
void
report_csv(const json_t *doc, struct buf *out)
{
	const json_t *rows = json_object_get(doc, "rows"), *row;
	const json_t *unit = json_object_get(doc, "unit");
	char *total;
	size_t i;

	if (!strcmp(str_of(doc, "by"), "survey")) {
		survey_csv(doc, out);
		return;
	}
	buf_adds(out, "\xEF\xBB\xBF");
	csv_field(out, "Mã", 0);
	csv_field(out, "Tên", 0);
	for (i = 0; i < NCOLS; i++)
		if (col_shown(doc, &cols[i]))
			csv_field(out, cols[i].head, 0);
	out->len--;
	buf_adds(out, "\r\n");
	json_array_foreach(rows, i, row)
	    csv_row(doc, row, str_of(row, "key"), str_of(row, "name"), out);
	total = xasprintf("Tổng %s", str_of(unit, "name"));
	csv_row(doc, json_object_get(doc, "total"), str_of(unit, "code"), total,
	        out);
	free(total);
}

/* Append one table row of the public report. */
static void
html_row(const json_t *doc, const json_t *row, const char *name,
         struct buf *out, int total)
{
	char v[64];

	buf_adds(out, total ? "<tr class=\"total\"><th>" : "<tr><th>");
	buf_add_html(out, name);
	buf_adds(out, "</th>");
	for (size_t i = 0; i < NCOLS; i++) {
		if (!col_shown(doc, &cols[i]) || cols[i].previous)
			continue;
		col_format(&cols[i], col_value(row, &cols[i]), v, sizeof v);
		buf_adds(out, "<td>");
		buf_add_html(out, v);
		buf_adds(out, "</td>");
	}
	buf_adds(out, "</tr>\n");
}

/* Append one table row of survey figures. */
static void
survey_html_row(const json_t *row, const char *unit, const char *proc,
                struct buf *out, int total)
{
	char v[64];

	buf_adds(out, total ? "<tr class=\"total\"><th>" : "<tr><th>");
	buf_add_html(out, unit);
	buf_adds(out, "</th><th>");
	buf_add_html(out, proc);
	buf_adds(out, "</th>");
	for (size_t i = 0; i < NSURVEY_COLS; i++) {
		col_format(&survey_cols[i], col_value(row, &survey_cols[i]), v,
		           sizeof v);
		buf_adds(out, "<td>");
		buf_add_html(out, v);
		buf_adds(out, "</td>");
	}
	buf_adds(out, "</tr>\n");
}

/* Append the public report's survey section: aggregates per unit and
 * procedure, nothing of one person. */
static void
survey_html(const json_t *doc, struct buf *out)
{
	const json_t *sv = json_object_get(doc, "surveys"), *row;
	size_t i;

	if (sv == NULL)
		return;
	buf_adds(out, "<h2>Khảo sát người dân sau dịch vụ công</h2>\n"
	              "<table>\n<tr><th>Đơn vị</th><th>Thủ tục</th>");
	for (i = 0; i < NSURVEY_COLS; i++) {
		buf_adds(out, "<th>");
		buf_add_html(out, survey_cols[i].head);
		buf_adds(out, "</th>");
	}
	buf_adds(out, "</tr>\n");
	json_array_foreach(json_object_get(sv, "rows"), i, row) survey_html_row(
	    row, str_of(json_object_get(row, "unit"), "name"),
	    str_of(json_object_get(row, "procedure"), "name"), out, 0);
	survey_html_row(json_object_get(sv, "total"), "Tổng", "", out, 1);
	buf_adds(out, "</table>\n");
}

/* Append the page head and the title of the public report. */
static void
html_head(const json_t *doc, struct buf *out)
{
	const json_t *p = json_object_get(doc, "period");
	const json_t *t = json_object_get(doc, "targets");
	const char *unit = str_of(json_object_get(doc, "unit"), "name");

	buf_adds(out, "<!DOCTYPE html>\n<html lang=\"vi\"><head>"
	              "<meta charset=\"utf-8\"><title>Báo cáo ");
	buf_add_html(out, str_of(p, "label"));
	buf_adds(out,
	         "</title><style>" REPORT_STYLE "</style></head><body>\n<h1>");
	buf_adds(out, "Kết quả tiếp nhận, xử lý phản ánh, kiến nghị: ");
	buf_add_html(out, unit);
	buf_adds(out, "</h1>\n<p>Kỳ báo cáo ");
	buf_add_html(out, str_of(p, "label"));
	buf_adds(out, ": từ ");
	buf_add_html(out, str_of(p, "from"));
	buf_adds(out, " đến ");
	buf_add_html(out, str_of(p, "to"));
	buf_adds(out, json_is_true(json_object_get(p, "final"))
	                  ? " (số liệu chính thức)"
	                  : " (số liệu tạm tính, kỳ chưa kết thúc)");
	buf_printf(out, ". Mục tiêu: đúng hạn %.0f%%, hài lòng %.0f%%.</p>\n",
	           json_number_value(json_object_get(t, "on_time_rate")),
	           json_number_value(json_object_get(t, "satisfaction_rate")));
}

/* The Content-Security-Policy of the public report: nothing but its
 * own inline style (by hash), no script, not framed. */
const char *
report_csp(void)
{
	static char csp[256];

	if (csp[0] == '\0')
		csp_for_style(REPORT_STYLE, csp, sizeof csp);
	return csp;
}

/* Append the public monthly report page of a document. */
void
report_html(const json_t *doc, struct buf *out)
{
	const json_t *rows = json_object_get(doc, "rows"), *row;
	char *total;
	size_t i;

	html_head(doc, out);
	buf_adds(out, "<table>\n<tr><th>Đơn vị</th>");
	for (i = 0; i < NCOLS; i++) {
		if (!col_shown(doc, &cols[i]) || cols[i].previous)
			continue;
		buf_adds(out, "<th>");
		buf_add_html(out, cols[i].head);
		buf_adds(out, "</th>");
	}
	buf_adds(out, "</tr>\n");
	json_array_foreach(rows, i, row)
	    html_row(doc, row, str_of(row, "name"), out, 0);
	total =
	    xasprintf("Tổng %s", str_of(json_object_get(doc, "unit"), "name"));
	html_row(doc, json_object_get(doc, "total"), total, out, 1);
	free(total);
	buf_adds(out, "</table>\n");
	survey_html(doc, out);
	buf_adds(out, "<p>Không có thông tin cá nhân hay nội dung "
	              "phản ánh. Bản CSV: thêm <code>.csv</code> vào địa "
	              "chỉ (khảo sát: <code>.csv?by=survey</code>).</p>\n"
	              "</body></html>\n");
}

/* Print one text line: name, then the shown current-period columns. */
static void
text_row(const json_t *doc, const json_t *row, const char *key,
         const char *name, FILE *f)
{
	char v[64];

	fprintf(f, "%-8s %s", key, name);
	for (size_t i = 0; i < NCOLS; i++) {
		if (!col_shown(doc, &cols[i]) || cols[i].previous)
			continue;
		col_format(&cols[i], col_value(row, &cols[i]), v, sizeof v);
		fprintf(f, " | %s: %s", cols[i].head, v[0] ? v : "-");
	}
	fputc('\n', f);
}

/* Print a document as text: the period, one line per unit, the total. */
void
report_text(const json_t *doc, FILE *f)
{
	const json_t *p = json_object_get(doc, "period"), *row;
	const json_t *unit = json_object_get(doc, "unit");
	size_t i;

	fprintf(f, "%s %s, %s: %s .. %s%s\n", str_of(unit, "code"),
	        str_of(unit, "name"), str_of(p, "label"), str_of(p, "from"),
	        str_of(p, "to"),
	        json_is_true(json_object_get(p, "final")) ? "" : " (tạm tính)");
	json_array_foreach(json_object_get(doc, "rows"), i, row)
	    text_row(doc, row, str_of(row, "key"), str_of(row, "name"), f);
	text_row(doc, json_object_get(doc, "total"), str_of(unit, "code"),
	         "Tổng", f);
}

/* Is s a month written YYYY-MM? */
int
report_month_ok(const char *s)
{
	for (int i = 0; i < 7; i++)
		if (i == 4 ? s[i] != '-' : !isdigit((unsigned char)s[i]))
			return 0;
	return s[7] == '\0' &&
	       (s[5] == '0' ? s[6] != '0' : s[5] == '1' && s[6] <= '2');
}

/* Run pakn.stats_doc on a blocking connection: the document, or NULL with
 * the reason printed. */
static json_t *
report_fetch(PGconn *conn, const struct report_opts *o, const char *month,
             const char *unit)
{
	char cut[16], on[16], sat[16];
	const char *v[10] = {NULL, unit, month, "unit", NULL,
	                     cut,  on,   sat,   "t",    "0"};
	PGresult *r;
	json_t *doc;
	json_error_t err;

	snprintf(cut, sizeof cut, "%ld", o->cutoff_day);
	snprintf(on, sizeof on, "%ld", o->on_time);
	snprintf(sat, sizeof sat, "%ld", o->satisfaction);
	r = PQexecParams(conn, REPORT_DOC_SQL, 10, NULL, v, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		fprintf(stderr, "paknctl: %s", PQresultErrorMessage(r));
		PQclear(r);
		return NULL;
	}
	doc = json_loads(PQgetvalue(r, 0, 0), 0, &err);
	PQclear(r);
	if (doc == NULL)
		fprintf(stderr, "paknctl: bad statistics document: %s\n",
		        err.text);
	return doc;
}

/* paknctl report --month YYYY-MM [--unit CODE] [--csv]. */
int
report_cmd(PGconn *conn, const struct report_opts *o, const char *month,
           const char *unit, int csv)
{
	json_t *doc;
	struct buf b;
	int rc = 0;

	if (!report_month_ok(month)) {
		fprintf(stderr, "paknctl: --month %s: use YYYY-MM\n", month);
		return 1;
	}
	if ((doc = report_fetch(conn, o, month, unit)) == NULL)
		return 1;
	if (json_integer_value(json_object_get(doc, "status")) != 200) {
		fprintf(stderr, "paknctl: %s\n", str_of(doc, "error"));
		rc = 1;
	} else if (csv) {
		buf_init(&b);
		report_csv(doc, &b);
		fwrite(b.data, 1, b.len, stdout);
		buf_clear(&b);
	} else
		report_text(doc, stdout);
	json_decref(doc);
	return rc;
}

/* paknctl rebuild-stats: recompute the daily and monthly rollups from the
 * ledger. */
int
report_rebuild(PGconn *conn)
{
	PGresult *r = PQexec(conn, "SELECT events, ratings, day_rows, "
	                           "month_rows FROM pakn.rebuild_stats()");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		fprintf(stderr, "paknctl: %s", PQresultErrorMessage(r));
		PQclear(r);
		return 1;
	}
	printf("statistics rebuilt: %s events, %s ratings, %s daily rows, %s "
	       "monthly rows\n",
	       PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2),
	       PQgetvalue(r, 0, 3));
	PQclear(r);
	return 0;
}
