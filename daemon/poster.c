/* poster.c: the printable poster of a commune (pure, no I/O).
 *
 * A one-page A4 sheet for the wall of a commune's office, a market or a
 * school: the short number and the commune's code, the keywords with an
 * example in Vietnamese, the USSD code, the answer times and the privacy
 * promise. pakn.poster (sql/functions/poster.sql) gives the data as JSON;
 * GET /poster/UNIT and `paknctl poster UNIT` write the same page.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "poster.h"
#include "util.h"

/* The print style: one A4 page, large type for the number and code; no
 * script, no external resource. */
static const char poster_css[] =
    "@page{size:A4;margin:10mm}"
    "*{box-sizing:border-box}"
    "body{font-family:'DejaVu Sans',Arial,sans-serif;color:#111;margin:0;"
    "font-size:10pt;line-height:1.25}"
    "header{border-bottom:3px solid #b71c1c;margin-bottom:3mm;"
    "padding-bottom:1mm}"
    ".org{margin:0;font-size:10pt;text-transform:uppercase}"
    "h1{margin:1mm 0;font-size:18pt}"
    ".big{display:flex;gap:5mm;margin:3mm 0}"
    ".box{flex:1;border:2px solid #111;border-radius:3mm;padding:2mm;"
    "text-align:center}"
    ".box b{display:block;font-size:30pt;letter-spacing:1px}"
    ".example{font-size:12pt;background:#f3f3f3;padding:2mm 3mm;"
    "border-radius:2mm;margin:2mm 0}"
    "table{border-collapse:collapse;width:100%;margin:1mm 0}"
    "td{border-bottom:1px solid #ccc;padding:0.8mm 2mm;vertical-align:top}"
    "td.k{font-weight:bold;white-space:nowrap;width:36%}"
    "h2{font-size:12pt;margin:3mm 0 1mm}"
    "p{margin:1.5mm 0}"
    "ul{margin:1mm 0;padding-left:5mm}"
    ".promise{border:2px solid #1b5e20;padding:2mm 3mm;border-radius:3mm;"
    "margin-top:3mm}"
    "footer{margin-top:2mm;font-size:8.5pt;color:#444}";

/* The SMS commands citizens may send, with what each does. */
static const char *const poster_cmds[][2] = {
    {"PA &lt;nội dung&gt; #&lt;mã xã&gt;", "Gửi phản ánh, kiến nghị"},
    {"TT &lt;mã phiếu&gt;", "Tra cứu phản ánh đã gửi"},
    {"DG &lt;mã phiếu&gt; &lt;1–5&gt;",
     "Đánh giá câu trả lời (5 là rất hài lòng)"},
    {"HUY &lt;mã phiếu&gt;", "Rút phản ánh khi chưa được trả lời"},
    {"DK &lt;mã xã&gt;", "Đăng ký xã, phường nơi bạn ở"},
    {"TU CHOI", "Không nhận tin nhắn thông báo nữa"},
    {"HD", "Nhận hướng dẫn"},
};

/* The value of a string member, or "". */
static const char *
str_of(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s != NULL ? s : "";
}

/* The two large boxes: the number to text and the code to add. */
static void
poster_boxes(struct buf *b, const json_t *unit, const char *short_number)
{
	buf_adds(b, "<div class=\"big\"><div class=\"box\">Nhắn tin đến<b>");
	buf_add_html(b, short_number);
	buf_adds(b, "</b></div><div class=\"box\">Mã của ");
	buf_add_html(b, str_of(unit, "name"));
	buf_adds(b, "<b>#");
	buf_add_html(b, str_of(unit, "code"));
	buf_adds(b, "</b></div></div><p class=\"example\">Ví dụ: "
	            "<b>PA Đèn đường ngõ 5 bị hỏng #");
	buf_add_html(b, str_of(unit, "code"));
	buf_adds(b, "</b><br>Có dấu hay không dấu đều được: "
	            "<b>PA Den duong ngo 5 bi hong #");
	buf_add_html(b, str_of(unit, "code"));
	buf_adds(b, "</b></p>");
}

/* The table of commands and the USSD line. */
static void
poster_commands(struct buf *b, const char *ussd_code)
{
	buf_adds(b, "<h2>Các cú pháp tin nhắn</h2><table>");
	for (size_t i = 0; i < sizeof poster_cmds / sizeof *poster_cmds; i++)
		buf_printf(b, "<tr><td class=\"k\">%s</td><td>%s</td></tr>",
		           poster_cmds[i][0], poster_cmds[i][1]);
	buf_adds(b, "</table><p>Ngay khi nhận được tin nhắn, hệ thống gửi lại "
	            "<b>mã phiếu</b> (7 ký tự) để bạn tra cứu và đánh giá. "
	            "Không soạn được tin nhắn? Bấm <b>");
	buf_add_html(b, ussd_code);
	buf_adds(b, "</b> rồi bấm gọi và chọn theo hướng dẫn trên màn "
	            "hình.</p>");
}

/* A list of names joined by commas. */
static void
poster_names(struct buf *b, const json_t *names)
{
	size_t i;
	json_t *v;

	json_array_foreach(names, i, v)
	{
		if (i > 0)
			buf_adds(b, ", ");
		buf_add_html(b,
		             json_string_value(v) ? json_string_value(v) : "");
	}
}

/* "N ngày" or "N ngày làm việc". */
static void
poster_days(struct buf *b, const json_t *n, int working)
{
	buf_printf(b, "%lld %s", (long long)json_integer_value(n),
	           working ? "ngày làm việc" : "ngày");
}

/* The statutory clocks: complaints and denunciations are accepted (thụ
 * lý) first, and resolved in days counted from acceptance. */
static void
poster_laws(struct buf *b, const json_t *laws)
{
	size_t i;
	json_t *l;

	json_array_foreach(laws, i, l)
	{
		const char *law = json_string_value(json_object_get(l, "law"));
		const json_t *remote = json_object_get(l, "remote_days");

		buf_printf(b, "<li><b>%s</b> (",
		           law && !strcmp(law, "denunciation") ? "Tố cáo"
		                                               : "Khiếu nại");
		poster_names(b, json_object_get(l, "categories"));
		buf_adds(b, "): thụ lý trong ");
		poster_days(b, json_object_get(l, "accept_days"),
		            json_is_true(json_object_get(l, "accept_working")));
		buf_adds(b, ", giải quyết trong ");
		poster_days(b, json_object_get(l, "resolve_days"), 0);
		buf_adds(b, " kể từ khi thụ lý");
		if (json_is_integer(remote)) {
			buf_adds(b, " (vùng sâu, vùng xa: ");
			poster_days(b, remote, 0);
			buf_adds(b, ")");
		}
		buf_adds(b, "</li>");
	}
}

/* The answer times, one line per time, and the sensitive categories. */
static void
poster_times(struct buf *b, const json_t *doc)
{
	const json_t *times = json_object_get(doc, "times");
	const json_t *sens = json_object_get(doc, "sensitive");
	size_t i;
	json_t *t;

	buf_adds(b, "<h2>Thời hạn trả lời</h2><ul class=\"times\">");
	json_array_foreach(times, i, t)
	{
		buf_printf(
		    b, "<li><b>%lld %s</b>: ",
		    (long long)json_integer_value(json_object_get(t, "days")),
		    json_is_true(json_object_get(t, "working"))
		        ? "ngày làm việc"
		        : "ngày");
		poster_names(b, json_object_get(t, "names"));
		buf_adds(b, "</li>");
	}
	poster_laws(b, json_object_get(doc, "laws"));
	buf_adds(b, "</ul><p>Quá hạn mà chưa được trả lời, cơ quan cấp trên "
	            "được báo và bạn nhận được lời xin lỗi cùng ngày hẹn "
	            "mới.</p>");
	if (json_array_size(sens) > 0) {
		buf_adds(b, "<p><b>Tố cáo tiêu cực, tham nhũng</b> (");
		poster_names(b, sens);
		buf_adds(b,
		         "): được chuyển thẳng đến cơ quan thanh tra, không "
		         "chuyển cho nơi bị tố cáo; danh tính người báo được "
		         "giữ bí mật với mọi người.</p>");
	}
}

/* The Content-Security-Policy of the poster: its style, nothing else. */
const char *
poster_csp(void)
{
	static char csp[256];

	if (csp[0] == '\0')
		csp_for_style(poster_css, csp, sizeof csp);
	return csp;
}

/* Write the poster of the unit described by the JSON of pakn.poster. */
char *
poster_html(const char *json, const char *short_number, const char *ussd_code,
            char **cause)
{
	json_error_t err;
	json_t *doc = json_loads(json, 0, &err);
	struct buf b;

	if (doc == NULL || !json_is_object(doc)) {
		set_cause(cause, "poster data: %s",
		          doc == NULL ? err.text : "not an object");
		json_decref(doc);
		return NULL;
	}
	buf_init(&b);
	buf_adds(&b, "<!DOCTYPE html><html lang=\"vi\"><head><meta "
	             "charset=\"utf-8\"><title>Phản ánh, kiến nghị — ");
	buf_add_html(&b, str_of(doc, "name"));
	buf_printf(&b, "</title><style>%s</style></head><body><header>",
	           poster_css);
	buf_adds(&b, "<p class=\"org\">");
	buf_add_html(&b, str_of(doc, "parent"));
	buf_adds(&b, "</p><h1>Phản ánh, kiến nghị với ");
	buf_add_html(&b, str_of(doc, "name"));
	buf_adds(&b, "</h1>Bằng tin nhắn từ mọi điện thoại, "
	             "không cần Internet.</header>");
	poster_boxes(&b, doc, short_number);
	poster_commands(&b, ussd_code);
	poster_times(&b, doc);
	buf_adds(&b, "<div class=\"promise\"><b>Cam kết riêng tư.</b> Số điện "
	             "thoại của bạn không hiện ra với cán bộ giải quyết. "
	             "Chỉ cơ quan có thẩm quyền được xem nội dung phản ánh. "
	             "Nhắn TU CHOI để không nhận thông báo nữa.</div>");
	buf_adds(&b, "<footer>Mọi phản ánh, câu trả lời và đánh giá được ghi "
	             "lại để lãnh đạo theo dõi việc trả lời đúng hạn. "
	             "Kết quả được công khai hằng tháng.</footer>"
	             "</body></html>\n");
	json_decref(doc);
	return buf_detach(&b);
}
